"""Runnable versions of the MACP SDK guides, each completing against the embedded runtime.

Every module has ``main(target)``, which runs its pattern against the runtime at ``target``
and returns the facts it found, and can be run as a script (it then starts its own
``LocalRuntime``). ``run_demo.py`` (``make run``) runs them all and prints each session.
"""
