"""The hand-written core of the MACP Python SDK: channel, auth, streams, errors, retry, the
base session and projection, and the protocol's semantics no schema states.

Generated SDK packages (``macp_sdk`` and users' own mode packages) import it; users import
its public modules through ``macp_sdk`` (``macp_sdk.envelope``, ``macp_sdk.errors``, ...).
``macp_core.contract`` lists that public surface for the generator.
"""
