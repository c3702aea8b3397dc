"""LocalRuntime: the embedded MACP runtime's configuration and lifecycle.

The gRPC server is a `grpc.aio` server on a private event loop in one background thread, so
the runtime serves thousands of idle streams without a thread each and in-process callers
(tests, examples) keep a plain synchronous `start()` / `stop()`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import grpc
from grpc import aio

from .auth import Authenticator, StaticToken
from .clock import Clock, SystemClock
from .guard import DEFAULT_MAX_STREAMS, StreamGuard
from .handlers import add_runtime_service
from .kernel import Kernel, SweepResult
from .limits import RateLimiter, RateLimits
from .policy import PolicyRegistry
from .registry import ModeRegistry
from .servicer import RuntimeServicer
from .streams import StreamHub

DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576
_TRANSPORT_SLACK_BYTES = 64 * 1024  # gRPC decode limit = payload limit + envelope overhead
_R = TypeVar("_R")
logger = logging.getLogger("macp_local_runtime")


def _quiet_foreign_loop_closed(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop grpc.aio's reports of events for *another*, already closed event loop.

    grpc.aio's completion poller is per process: when a client in the same process closes its
    own event loop while calls it cancelled still have events in flight, our loop's poller
    callback tries to hand those events to the closed loop and logs "Event loop is closed"
    once per event. Nothing is lost for this runtime; anything else is reported as usual.
    """
    error = context.get("exception")
    handle = repr(context.get("handle", ""))
    if (
        isinstance(error, RuntimeError)
        and str(error) == "Event loop is closed"
        and "PollerCompletionQueue" in handle
    ):
        return
    loop.default_exception_handler(context)


class InsecureConfigError(RuntimeError):
    """Plaintext or dev-mode auth without the explicit opt-in (`allow_insecure`)."""


@dataclass
class RuntimeConfig:
    """How a LocalRuntime behaves. The defaults suit in-process tests and demos.

    - `listen`: "host:port"; port 0 picks a free ephemeral port.
    - `clock`: the time source for TTLs, suspend banking, rate windows and eviction.
    - `auth_tokens`: None for dev mode (any bearer token is the sender); otherwise only these
      static tokens authenticate.
    - `allow_insecure`: the explicit opt-in to plaintext and to dev-mode auth (the reference's
      `MACP_ALLOW_INSECURE=1`). True by default for in-process use on loopback; the
      `macp-local-runtime` command defaults to False. With False, `start()` refuses to serve
      without TLS or without static tokens.
    - `tls_cert_chain` / `tls_private_key`: PEM server certificate and key; both set = TLS.
    - `tls_client_ca`: PEM CA bundle; when set, clients must present a certificate it
      signed (mTLS).
    - `rate_limits`: None (the default) disables per-sender rate limiting.
    - `max_streams`: long-lived streams (StreamSession and the Watch RPCs) open at once;
      beyond it a new stream is answered RESOURCE_EXHAUSTED.
    - `stream_idle_timeout_s`: end a StreamSession with UNAVAILABLE after this long with no
      frame in either direction; None (the default, as the reference) never cuts one.
    - `session_retention_ms`: terminal sessions are evicted this long after they started.
    - `sweep_interval_s`: how often overdue sessions are expired and old ones evicted;
      None disables the background sweep (call `LocalRuntime.sweep()` instead).
    """

    listen: str = "127.0.0.1:0"
    clock: Clock = field(default_factory=SystemClock)
    auth_tokens: Sequence[StaticToken] | None = None
    allow_insecure: bool = True
    tls_cert_chain: bytes | None = None
    tls_private_key: bytes | None = None
    tls_client_ca: bytes | None = None
    rate_limits: RateLimits | None = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_streams: int = DEFAULT_MAX_STREAMS
    stream_idle_timeout_s: float | None = None
    session_retention_ms: int = 3_600_000
    sweep_interval_s: float | None = 60.0
    shutdown_grace_s: float = 1.0

    @property
    def tls(self) -> bool:
        return self.tls_cert_chain is not None and self.tls_private_key is not None


def check_security(config: RuntimeConfig) -> list[str]:
    """The reference's startup rules (§1.2, §1.3): raise without the opt-in, else warnings."""
    if (config.tls_cert_chain is None) != (config.tls_private_key is None):
        raise InsecureConfigError("TLS needs both a certificate chain and a private key")
    if config.tls_client_ca is not None and not config.tls:
        raise InsecureConfigError("a client CA (mTLS) needs a server certificate and key")
    warnings: list[str] = []
    if not config.tls:
        if not config.allow_insecure:
            raise InsecureConfigError(
                "TLS is required unless insecure mode is allowed "
                "(--allow-insecure or MACP_ALLOW_INSECURE=1)"
            )
        warnings.append("serving plaintext (insecure mode allowed)")
    if config.auth_tokens is None:
        if not config.allow_insecure:
            raise InsecureConfigError(
                "no auth configured: set static tokens (MACP_AUTH_TOKENS_JSON / "
                "MACP_AUTH_TOKENS_FILE) or allow dev mode (--allow-insecure or "
                "MACP_ALLOW_INSECURE=1)"
            )
        warnings.append(
            "dev-mode auth: any bearer token authenticates and is the sender; "
            "never use this outside local development"
        )
    return warnings


def _credentials(config: RuntimeConfig) -> grpc.ServerCredentials:
    assert config.tls_cert_chain is not None and config.tls_private_key is not None
    return grpc.ssl_server_credentials(
        [(config.tls_private_key, config.tls_cert_chain)],
        root_certificates=config.tls_client_ca,
        require_client_auth=config.tls_client_ca is not None,
    )


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
        self._guard = StreamGuard(self.config.max_streams)
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
            guard=self._guard,
            idle_timeout_s=self.config.stream_idle_timeout_s,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._server: aio.Server | None = None
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

    @property
    def dev_mode(self) -> bool:
        return self.config.auth_tokens is None

    def _run(self, coroutine: Coroutine[Any, Any, _R]) -> _R:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def start(self) -> LocalRuntime:
        """Serve; raises InsecureConfigError without TLS or tokens unless allowed."""
        if self._server is not None:
            raise RuntimeError("the runtime is already started")
        for warning in check_security(self.config):
            logger.warning("macp-local-runtime: warning: %s", warning)
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_foreign_loop_closed)
        thread = threading.Thread(target=loop.run_forever, name="macp-runtime-loop", daemon=True)
        thread.start()
        self._loop, self._loop_thread = loop, thread
        try:
            self._server, bound = self._run(self._serve())
        except BaseException:
            self._close_loop()
            raise
        host, _, port = self.config.listen.rpartition(":")
        self._target = f"{host or '127.0.0.1'}:{bound if port in ('0', '') else port}"
        if self.config.sweep_interval_s is not None:
            self._sweeper = threading.Thread(
                target=self._sweep_loop, name="macp-runtime-sweeper", daemon=True
            )
            self._sweeper.start()
        return self

    async def _serve(self) -> tuple[aio.Server, int]:
        receive_limit = self.config.max_payload_bytes + _TRANSPORT_SLACK_BYTES
        server = aio.server(options=[("grpc.max_receive_message_length", receive_limit)])
        add_runtime_service(self._servicer, server)
        listen = self.config.listen
        try:
            if self.config.tls:
                bound = server.add_secure_port(listen, _credentials(self.config))
            else:
                bound = server.add_insecure_port(listen)
        except RuntimeError as error:
            raise RuntimeError(f"cannot listen on {listen}: {error}") from error
        if bound == 0:
            raise RuntimeError(f"cannot listen on {listen}")
        await server.start()
        return server, bound

    def stop(self, grace_s: float | None = None) -> None:
        """Stop serving; open streams end promptly."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        self._guard.close_all()
        self.kernel.close()
        self.modes.close()
        self.policies.close()
        grace = self.config.shutdown_grace_s if grace_s is None else grace_s
        self._run(server.stop(grace))
        if self._sweeper is not None:
            self._sweeper.join()
        self._server = None
        self._close_loop()

    def _close_loop(self) -> None:
        loop, thread = self._loop, self._loop_thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._loop_thread = None

    def wait_for_termination(self, timeout_s: float | None = None) -> bool:
        """Block until the runtime is stopped (True) or `timeout_s` passes (False)."""
        thread = self._loop_thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def sweep(self) -> SweepResult:
        """Expire overdue sessions and evict old terminal ones now."""
        return self.kernel.sweep()

    def session_count(self) -> int:
        """Sessions held in memory (terminal ones stay until evicted)."""
        return self.kernel.session_count()

    def bound_stream_sessions(self) -> int:
        """Sessions with at least one StreamSession bound to them right now."""
        return self._hub.bound_sessions()

    def open_streams(self) -> int:
        """Long-lived streams (StreamSession and Watch RPCs) open right now."""
        return self._guard.count()

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
