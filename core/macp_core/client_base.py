"""``MacpClientBase``: the blocking client's plumbing (channel, TLS, calls, ``send``, streams).

The generated ``macp_sdk.client.MacpClient`` subclasses it with one method per RPC of
``macp.v1.MACPRuntimeService``; nothing here knows about any particular RPC other than the
hand-written ones (``Initialize``, ``Send``, ``StreamSession``).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Self, TypeVar

import grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

from . import _otel
from ._logging import configure_logging as configure_logging  # re-exported
from ._logging import get_logger
from ._requests import UNBOUNDED as UNBOUNDED  # re-exported
from ._requests import (
    ChannelOptions,
    ClientCore,
    Deadline,
    Metadata,
    ReconnectState,
    WatchEnd,
    channel_settings,
    check_sender_matches,
    checked_ack,
    initialize_request,
    is_accepted,
    metadata_for,
    require_auth,
    resolve_stream_timeout,
    send_request,
    watch_outcome,
)
from ._requests import (
    TimeoutValue as TimeoutValue,  # re-exported
)
from .constants import CLIENT_NAME, CLIENT_VERSION
from .errors import MacpAckError, MacpRetryError, MacpSdkError, error_from_rpc, rpc_status
from .errors import macp_error_code as macp_error_code  # re-exported (0.22.0's path)

if TYPE_CHECKING:
    from .auth import AuthConfig
    from .retry import RetryPolicy
    from .streams import InlineErrorCallback
    from .streams import MacpStream as MacpStream  # 0.22.0's path; loads on first use

logger = get_logger("client")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class MacpClientBase(ClientCore):
    """Blocking client for a MACP runtime (its RPC methods are generated in ``MacpClient``).

    TLS is the default; ``secure=False`` opens a plaintext channel (and logs one warning).
    ``root_certificates`` overrides the trusted roots; ``private_key`` plus
    ``certificate_chain`` enable mutual TLS; ``channel_options`` go to gRPC unchanged.
    ``default_timeout`` applies to unary calls; each method's ``timeout=`` overrides it and
    :data:`UNBOUNDED` removes the deadline. ``retry`` makes ``send`` retry (see
    :class:`RetryPolicy`). Per-call ``auth=`` wins over the client's ``auth``.
    """

    def __init__(
        self,
        *,
        target: str,
        secure: bool | None = None,
        allow_insecure: bool = False,
        auth: AuthConfig | None = None,
        root_certificates: bytes | None = None,
        private_key: bytes | None = None,
        certificate_chain: bytes | None = None,
        channel_options: ChannelOptions | None = None,
        default_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        client_name: str = CLIENT_NAME,
        client_version: str = CLIENT_VERSION,
    ) -> None:
        super().__init__(auth=auth, default_timeout=default_timeout, retry=retry)
        self.settings = channel_settings(
            target=target,
            secure=(not allow_insecure) if secure is None else secure,
            root_certificates=root_certificates,
            private_key=private_key,
            certificate_chain=certificate_chain,
            channel_options=channel_options,
        )
        self.client_name = client_name
        self.client_version = client_version
        if self.settings.secure:
            channel = grpc.secure_channel(
                target, self.settings.credentials(), options=self.settings.options
            )
        else:
            self.settings.warn_if_insecure()
            channel = grpc.insecure_channel(target, options=self.settings.options)
        self._channel: grpc.Channel = channel
        self._stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        self._streams: weakref.WeakSet[MacpStream] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def target(self) -> str:
        return self.settings.target

    @property
    def secure(self) -> bool:
        return self.settings.secure

    @property
    def closed(self) -> bool:
        return self._closed

    # -- plumbing ------------------------------------------------------------------------
    def _unary(
        self,
        method: grpc.UnaryUnaryMultiCallable[Req, Resp],
        request: Req,
        *,
        metadata: Metadata,
        timeout: TimeoutValue,
        operation: str,
    ) -> Resp:
        try:
            return method(request, metadata=metadata, timeout=self._timeout(timeout))
        except grpc.RpcError as err:
            raise error_from_rpc(err, operation=operation) from err

    def _watch(
        self,
        method: grpc.UnaryStreamMultiCallable[Req, Resp],
        request: Req,
        *,
        metadata: Metadata,
        timeout: TimeoutValue,
        reconnect: bool,
        operation: str,
    ) -> Iterator[Resp]:
        deadline = Deadline(resolve_stream_timeout(timeout))
        backoff = ReconnectState(self.retry, operation)
        logger.debug("%s starting", operation)
        while True:
            call = method(request, metadata=metadata, timeout=deadline.remaining())
            failure: grpc.RpcError | None = None
            try:
                for item in call:
                    backoff.reset()
                    yield item
            except grpc.RpcError as err:
                failure = err
            finally:
                call.cancel()
            status = rpc_status(failure) if failure is not None else None
            outcome = watch_outcome(
                status, reconnect=reconnect, closing=self._closed, deadline=deadline
            )
            if outcome is WatchEnd.FINISH:
                return
            if outcome is WatchEnd.RAISE and failure is not None:
                raise error_from_rpc(failure, operation=operation) from failure
            delay = backoff.next_delay(failure)
            logger.debug("%s reconnecting in %.2fs", operation, delay)
            remaining = deadline.remaining()
            backoff.policy.sleep(delay if remaining is None else min(delay, remaining))

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close open streams and the channel (idempotent). Active watches end quietly."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            streams = list(self._streams)
        for stream in streams:
            stream.close(grace=0.5)
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(target={self.target!r}, secure={self.secure}, "
            f"auth={self.auth!r}, default_timeout={self.default_timeout!r})"
        )

    # -- handshake and sending -----------------------------------------------------------
    def initialize(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.InitializeResponse:
        """Negotiate the protocol version; the runtime's capabilities are cached on
        :attr:`server_capabilities`."""
        request = initialize_request(
            client_name=self.client_name, client_version=self.client_version
        )
        response = self._unary(
            self._stub.Initialize,
            request,
            metadata=self._md(auth),
            timeout=timeout,
            operation="Initialize",
        )
        return self._remember(response)

    def send(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
        retry: RetryPolicy | None = None,
    ) -> envelope_pb2.Ack:
        """Send one envelope and return its Ack.

        A NACK raises the :class:`MacpAckError` subclass for its code (or, with
        ``raise_on_nack=False``, is logged and returned). A duplicate counts as accepted.
        With a retry policy (``retry=`` or the client's), UNAVAILABLE and RATE_LIMITED are
        retried with backoff, resending the same ``message_id``.
        """
        active = require_auth(auth, self.auth, "send")
        check_sender_matches(envelope, active)
        request = send_request(envelope)
        last_nack: list[envelope_pb2.Ack] = []
        if logger.isEnabledFor(logging.DEBUG):  # skip reading four envelope fields otherwise
            logger.debug(
                "send %s %s message_id=%s session=%s",
                envelope.mode or "-",
                envelope.message_type,
                envelope.message_id,
                envelope.session_id or "-",
            )

        from .retry import call_with_retry  # loads with the first send, not with the client

        with _otel.send_span(envelope) as span:
            metadata = metadata_for(active)  # inside the span: carries its traceparent

            def attempt() -> envelope_pb2.Ack:
                last_nack.clear()
                span.attempt()
                try:
                    response = self._stub.Send(
                        request, metadata=metadata, timeout=self._timeout(timeout)
                    )
                except grpc.RpcError as err:
                    raise error_from_rpc(
                        err,
                        operation="Send",
                        mode=envelope.mode,
                        message_type=envelope.message_type,
                    ) from err
                span.record_ack(response.ack)
                if not is_accepted(response.ack):
                    last_nack.append(response.ack)
                return checked_ack(response.ack, envelope, raise_on_nack=True)

            try:
                return call_with_retry(attempt, self._retry_for(retry))
            except (MacpAckError, MacpRetryError) as exc:
                if raise_on_nack or not last_nack:
                    raise
                logger.warning("%s", exc)
                return last_nack[-1]

    def send_signal(
        self,
        *,
        signal_type: str,
        data: bytes = b"",
        confidence: float = 0.0,
        correlation_session_id: str = "",
        sender: str | None = None,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> envelope_pb2.Ack:
        """Send an ambient Signal (no session, no mode)."""
        envelope = self._signal_envelope(
            auth,
            signal_type=signal_type,
            data=data,
            confidence=confidence,
            correlation_session_id=correlation_session_id,
            sender=sender,
        )
        return self.send(envelope, auth=auth, timeout=timeout)

    def send_progress(
        self,
        *,
        progress_token: str,
        progress: float,
        total: float,
        message: str = "",
        target_message_id: str = "",
        session_id: str = "",
        mode: str = "",
        sender: str | None = None,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> envelope_pb2.Ack:
        """Send a Progress message: ambient (no session and no mode) or session-scoped (both)."""
        envelope = self._progress_envelope(
            auth,
            session_id=session_id,
            mode=mode,
            progress_token=progress_token,
            progress=progress,
            total=total,
            message=message,
            target_message_id=target_message_id,
            sender=sender,
        )
        return self.send(envelope, auth=auth, timeout=timeout)

    # -- streams -------------------------------------------------------------------------
    def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        session_id: str | None = None,
        after_sequence: int = 0,
        on_error: InlineErrorCallback | None = None,
        timeout: TimeoutValue = None,
    ) -> MacpStream:
        """Open a ``StreamSession``. With ``session_id``, subscribe at once (replaying history
        after ``after_sequence``). Close it, or use it as a context manager.

        ``timeout`` (0.22.0's) is a deadline in seconds for the whole stream: when it passes,
        the runtime ends the call, the next ``read()`` raises :class:`MacpTimeoutError` (code
        ``DEADLINE_EXCEEDED``) and later ones return ``None``. ``None`` (the default) and
        ``UNBOUNDED`` mean no deadline: ``default_timeout`` is for unary calls only.
        ``read(timeout)`` bounds a single wait and leaves the stream open."""
        from .streams import MacpStream  # streams (queue, threads) load on the first stream

        if self._closed:
            raise MacpSdkError("client is closed")
        metadata = self._md_required(auth, "open_stream")
        stream = MacpStream(
            self._stub,
            metadata=metadata,
            timeout=timeout,
            on_error=on_error,
            on_close=self._streams.discard,
        )
        self._streams.add(stream)
        if session_id is not None:
            stream.subscribe(session_id, after_sequence)
        return stream

    stream_session = open_stream


def __getattr__(name: str) -> object:
    # ``MacpStream`` at 0.22.0's path, loaded with the first use (streams bring threads, queues).
    if name == "MacpStream":
        from .streams import MacpStream

        return MacpStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
