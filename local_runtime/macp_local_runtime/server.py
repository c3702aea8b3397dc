"""LocalRuntime: the embedded MACP runtime's configuration and lifecycle."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent import futures
from dataclasses import dataclass, field
from types import TracebackType

import grpc
from macp.v1 import core_pb2_grpc

from .auth import Authenticator, StaticToken
from .clock import Clock, SystemClock
from .kernel import Kernel, SweepResult
from .limits import RateLimiter, RateLimits
from .policy import PolicyRegistry
from .registry import ModeRegistry
from .servicer import RuntimeServicer
from .streams import StreamHub

DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576
_TRANSPORT_SLACK_BYTES = 64 * 1024  # gRPC decode limit = payload limit + envelope overhead


@dataclass
class RuntimeConfig:
    """How a LocalRuntime behaves. The defaults suit tests and demos.

    - `listen`: "host:port"; port 0 picks a free ephemeral port.
    - `clock`: the time source for TTLs, suspend banking, rate windows and eviction.
    - `auth_tokens`: None for dev mode (any bearer token is the sender); otherwise only these
      static tokens authenticate.
    - `rate_limits`: None (the default) disables per-sender rate limiting.
    - `session_retention_ms`: terminal sessions are evicted this long after they started.
    - `sweep_interval_s`: how often overdue sessions are expired and old ones evicted;
      None disables the background sweep (call `LocalRuntime.sweep()` instead).
    """

    listen: str = "127.0.0.1:0"
    clock: Clock = field(default_factory=SystemClock)
    auth_tokens: Sequence[StaticToken] | None = None
    rate_limits: RateLimits | None = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    session_retention_ms: int = 3_600_000
    sweep_interval_s: float | None = 60.0
    max_workers: int = 256
    shutdown_grace_s: float = 1.0


class LocalRuntime:
    """An in-process MACP runtime served over gRPC on loopback.

    >>> with LocalRuntime() as runtime:
    ...     channel = grpc.insecure_channel(runtime.target)
    """

    def __init__(self, config: RuntimeConfig | None = None) -> None:
        self.config = config if config is not None else RuntimeConfig()
        clock = self.config.clock
        self._stopping = threading.Event()
        self.modes = ModeRegistry(clock.now_ms)
        self.policies = PolicyRegistry(clock.now_ms)
        self._hub = StreamHub()
        self.kernel = Kernel(
            clock, self.modes, self.policies, self._hub, self.config.session_retention_ms
        )
        limits = self.config.rate_limits
        self._servicer = RuntimeServicer(
            kernel=self.kernel,
            modes=self.modes,
            policies=self.policies,
            hub=self._hub,
            authenticator=Authenticator(self.config.auth_tokens),
            limiter=RateLimiter(limits, clock) if limits is not None else None,
            max_payload_bytes=self.config.max_payload_bytes,
            stopping=self._stopping,
        )
        self._server: grpc.Server | None = None
        self._sweeper: threading.Thread | None = None
        self._target: str | None = None

    @property
    def clock(self) -> Clock:
        return self.config.clock

    @property
    def target(self) -> str:
        """The "host:port" clients connect to; available once started."""
        if self._target is None:
            raise RuntimeError("the runtime is not started")
        return self._target

    def start(self) -> LocalRuntime:
        if self._server is not None:
            raise RuntimeError("the runtime is already started")
        receive_limit = self.config.max_payload_bytes + _TRANSPORT_SLACK_BYTES
        server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=self.config.max_workers, thread_name_prefix="macp-runtime"
            ),
            options=[("grpc.max_receive_message_length", receive_limit)],
        )
        core_pb2_grpc.add_MACPRuntimeServiceServicer_to_server(self._servicer, server)
        host, _, port = self.config.listen.rpartition(":")
        bound = server.add_insecure_port(self.config.listen)
        if bound == 0:
            raise RuntimeError(f"cannot listen on {self.config.listen}")
        server.start()
        self._server = server
        self._target = f"{host or '127.0.0.1'}:{bound if port in ('0', '') else port}"
        if self.config.sweep_interval_s is not None:
            self._sweeper = threading.Thread(
                target=self._sweep_loop, name="macp-runtime-sweeper", daemon=True
            )
            self._sweeper.start()
        return self

    def stop(self, grace_s: float | None = None) -> None:
        """Stop serving; open streams end promptly."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        self.kernel.close()
        self.modes.close()
        self.policies.close()
        grace = self.config.shutdown_grace_s if grace_s is None else grace_s
        server.stop(grace).wait()
        if self._sweeper is not None:
            self._sweeper.join()
        self._server = None

    def wait_for_termination(self, timeout_s: float | None = None) -> bool:
        server = self._server
        return True if server is None else server.wait_for_termination(timeout_s)

    def sweep(self) -> SweepResult:
        """Expire overdue sessions and evict old terminal ones now."""
        return self.kernel.sweep()

    def session_count(self) -> int:
        """Sessions held in memory (terminal ones stay until evicted)."""
        return self.kernel.session_count()

    def bound_stream_sessions(self) -> int:
        """Sessions with at least one StreamSession bound to them right now."""
        return self._hub.bound_sessions()

    def _sweep_loop(self) -> None:
        interval = self.config.sweep_interval_s
        assert interval is not None
        while not self._stopping.wait(interval):
            self.kernel.sweep()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
