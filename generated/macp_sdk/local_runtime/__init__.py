# Copied by macp-codegen from templates/static/ (same path); edit it there.
"""An embedded MACP runtime: run and test MACP sessions with nothing else installed.

    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        ...  # connect any MACP client to runtime.target (plaintext, loopback)

It follows the reference runtime's behaviour (dev bearer auth, Send/Ack contract, the standard
modes' rules, StreamSession, watchers, policies); see docs/local-runtime.md.
"""

from .auth import Identity, StaticToken
from .clock import Clock, ManualClock, SystemClock
from .kernel import SweepResult
from .limits import RateLimits
from .server import LocalRuntime, RuntimeConfig

__all__ = [
    "Clock",
    "Identity",
    "LocalRuntime",
    "ManualClock",
    "RateLimits",
    "RuntimeConfig",
    "StaticToken",
    "SweepResult",
    "SystemClock",
]
