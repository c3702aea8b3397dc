"""An embedded MACP runtime: run and test MACP sessions with nothing else installed.

    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        ...  # connect any MACP client to runtime.target (plaintext, loopback)

It follows the reference runtime's behaviour (bearer auth, Send/Ack contract, the standard
modes' rules, StreamSession, watchers, policies) on a grpc.aio server; in process it allows
plaintext and dev-mode auth by default (`RuntimeConfig.allow_insecure`), while the
`macp-local-runtime` command needs TLS and static tokens unless told `--allow-insecure`.
See docs/local-runtime.md.
"""

from .auth import Identity as Identity
from .auth import StaticToken as StaticToken
from .clock import Clock as Clock
from .clock import ManualClock as ManualClock
from .clock import SystemClock as SystemClock
from .kernel import SweepResult as SweepResult
from .limits import RateLimits as RateLimits
from .server import LocalRuntime as LocalRuntime
from .server import RuntimeConfig as RuntimeConfig
