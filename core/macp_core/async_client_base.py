"""``AsyncMacpClientBase``: the asyncio twin of ``MacpClientBase`` on ``grpc.aio``.

The generated ``macp_sdk.async_client.AsyncMacpClient`` subclasses it: unary methods are
coroutines, ``watch_*`` methods are async iterators, and ``open_stream()`` returns an
:class:`AsyncMacpStream`. Request building and response handling come from ``_requests``,
shared with the sync client, so the two cannot drift. Create it inside the running event loop
(a grpc.aio rule).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Self, TypeVar

import grpc
import grpc.aio
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

from . import _otel
from ._logging import get_logger
from ._requests import (
    ChannelOptions,
    ClientCore,
    Deadline,
    Metadata,
    ReconnectState,
    TimeoutValue,
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
from .constants import CLIENT_NAME, CLIENT_VERSION
from .errors import MacpAckError, MacpRetryError, MacpSdkError, error_from_rpc, rpc_status

if TYPE_CHECKING:
    from .auth import AuthConfig
    from .retry import RetryPolicy
    from .streams import AsyncMacpStream as AsyncMacpStream  # 0.22.0's path; loads on first use
    from .streams import InlineErrorCallback

logger = get_logger("client")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class AsyncMacpClientBase(ClientCore):
    """Asyncio client for a MACP runtime; see :class:`~macp_sdk.client.MacpClient`."""

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
            channel = grpc.aio.secure_channel(
                target, self.settings.credentials(), options=self.settings.options
            )
        else:
            self.settings.warn_if_insecure()
            channel = grpc.aio.insecure_channel(target, options=self.settings.options)
        self._channel: grpc.aio.Channel = channel
        self._stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        self._streams: weakref.WeakSet[AsyncMacpStream] = weakref.WeakSet()
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
    async def _unary(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[Req, Resp],
        request: Req,
        *,
        metadata: Metadata,
        timeout: TimeoutValue,
        operation: str,
    ) -> Resp:
        try:
            return await method(request, metadata=metadata, timeout=self._timeout(timeout))
        except grpc.RpcError as err:
            raise error_from_rpc(err, operation=operation) from err

    async def _watch(
        self,
        method: grpc.aio.UnaryStreamMultiCallable[Req, Resp],
        request: Req,
        *,
        metadata: Metadata,
        timeout: TimeoutValue,
        reconnect: bool,
        operation: str,
    ) -> AsyncIterator[Resp]:
        deadline = Deadline(resolve_stream_timeout(timeout))
        backoff = ReconnectState(self.retry, operation)
        logger.debug("%s starting", operation)
        while True:
            call = method(request, metadata=metadata, timeout=deadline.remaining())
            failure: grpc.RpcError | None = None
            try:
                async for item in call:
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
            remaining = deadline.remaining()
            await backoff.policy.async_sleep(delay if remaining is None else min(delay, remaining))

    # -- lifecycle -----------------------------------------------------------------------
    async def close(self) -> None:
        """Close open streams and the channel (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for stream in list(self._streams):
            await stream.close(grace=0.5)
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(target={self.target!r}, secure={self.secure}, "
            f"auth={self.auth!r}, default_timeout={self.default_timeout!r})"
        )

    # -- handshake and sending -----------------------------------------------------------
    async def initialize(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.InitializeResponse:
        request = initialize_request(
            client_name=self.client_name, client_version=self.client_version
        )
        response = await self._unary(
            self._stub.Initialize,
            request,
            metadata=self._md(auth),
            timeout=timeout,
            operation="Initialize",
        )
        return self._remember(response)

    async def send(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
        retry: RetryPolicy | None = None,
    ) -> envelope_pb2.Ack:
        """See :meth:`MacpClient.send`."""
        active = require_auth(auth, self.auth, "send")
        check_sender_matches(envelope, active)
        request = send_request(envelope)
        last_nack: list[envelope_pb2.Ack] = []

        from .retry import async_call_with_retry  # loads with the first send

        with _otel.send_span(envelope) as span:
            metadata = metadata_for(active)  # inside the span: carries its traceparent

            async def attempt() -> envelope_pb2.Ack:
                last_nack.clear()
                span.attempt()
                try:
                    response = await self._stub.Send(
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
                return await async_call_with_retry(attempt, self._retry_for(retry))
            except (MacpAckError, MacpRetryError) as exc:
                if raise_on_nack or not last_nack:
                    raise
                logger.warning("%s", exc)
                return last_nack[-1]

    async def send_signal(
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
        envelope = self._signal_envelope(
            auth,
            signal_type=signal_type,
            data=data,
            confidence=confidence,
            correlation_session_id=correlation_session_id,
            sender=sender,
        )
        return await self.send(envelope, auth=auth, timeout=timeout)

    async def send_progress(
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
        return await self.send(envelope, auth=auth, timeout=timeout)

    # -- streams -------------------------------------------------------------------------
    def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        on_error: InlineErrorCallback | None = None,
        timeout: TimeoutValue = None,
    ) -> AsyncMacpStream:
        """Open a ``StreamSession`` (synchronous; call ``await stream.subscribe(...)`` to
        attach to an existing session). ``timeout`` bounds the whole stream, as for
        ``MacpClient.open_stream``."""
        from .streams import AsyncMacpStream  # loads with the first stream

        if self._closed:
            raise MacpSdkError("client is closed")
        metadata = self._md_required(auth, "open_stream")
        stream = AsyncMacpStream(
            self._stub,
            metadata=metadata,
            timeout=timeout,
            on_error=on_error,
            on_close=self._streams.discard,
        )
        self._streams.add(stream)
        return stream

    stream_session = open_stream


def __getattr__(name: str) -> object:
    # ``AsyncMacpStream`` at 0.22.0's path, loaded on first use (streams bring threads, queues).
    if name == "AsyncMacpStream":
        from .streams import AsyncMacpStream

        return AsyncMacpStream
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
