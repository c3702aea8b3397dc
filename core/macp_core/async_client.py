"""``AsyncMacpClient``: the asyncio twin of ``MacpClient`` on ``grpc.aio``.

Same constructor, method names and arguments: unary methods are coroutines, ``watch_*``
methods are async iterators, and ``open_stream()`` returns an :class:`AsyncMacpStream`.
Request building and response handling come from ``_requests``, shared with the sync client,
so the two cannot drift. Create it inside the running event loop (a grpc.aio rule).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import TypeVar

import grpc
import grpc.aio
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

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
    session_id_arg,
    watch_outcome,
)
from .auth import AuthConfig
from .constants import CLIENT_NAME, CLIENT_VERSION
from .errors import MacpAckError, MacpRetryError, MacpSdkError, error_from_rpc, rpc_status
from .retry import RetryPolicy, async_call_with_retry
from .streams import AsyncMacpStream, InlineErrorCallback

logger = get_logger("client")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class AsyncMacpClient(ClientCore):
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

    async def __aenter__(self) -> AsyncMacpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return (
            f"AsyncMacpClient(target={self.target!r}, secure={self.secure}, "
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
    ) -> AsyncMacpStream:
        """Open a ``StreamSession`` (synchronous; call ``await stream.subscribe(...)`` to
        attach to an existing session)."""
        if self._closed:
            raise MacpSdkError("client is closed")
        metadata = self._md_required(auth, "open_stream")
        stream = AsyncMacpStream(
            self._stub.StreamSession(metadata=metadata),
            on_error=on_error,
            on_close=self._streams.discard,
        )
        self._streams.add(stream)
        return stream

    stream_session = open_stream

    # -- sessions ------------------------------------------------------------------------
    async def get_session(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetSessionResponse:
        return await self._unary(
            self._stub.GetSession,
            core_pb2.GetSessionRequest(session_id=session_id_arg(session_id)),
            metadata=self._md_required(auth, "get_session"),
            timeout=timeout,
            operation="GetSession",
        )

    async def cancel_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = await self._unary(
            self._stub.CancelSession,
            core_pb2.CancelSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "cancel_session"),
            timeout=timeout,
            operation="CancelSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    async def suspend_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = await self._unary(
            self._stub.SuspendSession,
            core_pb2.SuspendSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "suspend_session"),
            timeout=timeout,
            operation="SuspendSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    async def resume_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = await self._unary(
            self._stub.ResumeSession,
            core_pb2.ResumeSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "resume_session"),
            timeout=timeout,
            operation="ResumeSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    async def list_sessions_page(
        self,
        *,
        page_size: int = 0,
        page_token: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> tuple[list[core_pb2.SessionMetadata], str]:
        response = await self._unary(
            self._stub.ListSessions,
            core_pb2.ListSessionsRequest(page_size=page_size, page_token=page_token),
            metadata=self._md_required(auth, "list_sessions"),
            timeout=timeout,
            operation="ListSessions",
        )
        return list(response.sessions), response.next_page_token

    async def list_sessions(
        self, *, page_size: int = 0, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> list[core_pb2.SessionMetadata]:
        sessions: list[core_pb2.SessionMetadata] = []
        token = ""
        while True:
            batch, token = await self.list_sessions_page(
                page_size=page_size, page_token=token, auth=auth, timeout=timeout
            )
            sessions.extend(batch)
            if not token:
                return sessions

    def watch_sessions(
        self,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        reconnect: bool = False,
    ) -> AsyncIterator[core_pb2.WatchSessionsResponse]:
        return self._watch(
            self._stub.WatchSessions,
            core_pb2.WatchSessionsRequest(),
            metadata=self._md_required(auth, "watch_sessions"),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchSessions",
        )

    # -- discovery -----------------------------------------------------------------------
    async def get_manifest(
        self, agent_id: str = "", *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetManifestResponse:
        return await self._unary(
            self._stub.GetManifest,
            core_pb2.GetManifestRequest(agent_id=agent_id),
            metadata=self._md(auth),
            timeout=timeout,
            operation="GetManifest",
        )

    async def list_modes(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListModesResponse:
        return await self._unary(
            self._stub.ListModes,
            core_pb2.ListModesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="ListModes",
        )

    async def list_ext_modes(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListExtModesResponse:
        return await self._unary(
            self._stub.ListExtModes,
            core_pb2.ListExtModesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="ListExtModes",
        )

    async def list_roots(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListRootsResponse:
        return await self._unary(
            self._stub.ListRoots,
            core_pb2.ListRootsRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="ListRoots",
        )

    def watch_mode_registry(
        self,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        reconnect: bool = False,
    ) -> AsyncIterator[core_pb2.WatchModeRegistryResponse]:
        return self._watch(
            self._stub.WatchModeRegistry,
            core_pb2.WatchModeRegistryRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchModeRegistry",
        )

    def watch_roots(
        self,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        reconnect: bool = False,
    ) -> AsyncIterator[core_pb2.WatchRootsResponse]:
        return self._watch(
            self._stub.WatchRoots,
            core_pb2.WatchRootsRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchRoots",
        )

    def watch_signals(
        self,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        reconnect: bool = False,
    ) -> AsyncIterator[core_pb2.WatchSignalsResponse]:
        return self._watch(
            self._stub.WatchSignals,
            core_pb2.WatchSignalsRequest(),
            metadata=self._md_required(auth, "watch_signals"),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchSignals",
        )

    # -- extension modes -----------------------------------------------------------------
    async def register_ext_mode(
        self,
        descriptor: core_pb2.ModeDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.RegisterExtModeResponse:
        return await self._unary(
            self._stub.RegisterExtMode,
            core_pb2.RegisterExtModeRequest(mode_descriptor=descriptor),
            metadata=self._md_required(auth, "register_ext_mode"),
            timeout=timeout,
            operation="RegisterExtMode",
        )

    async def unregister_ext_mode(
        self, mode: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.UnregisterExtModeResponse:
        return await self._unary(
            self._stub.UnregisterExtMode,
            core_pb2.UnregisterExtModeRequest(mode=mode),
            metadata=self._md_required(auth, "unregister_ext_mode"),
            timeout=timeout,
            operation="UnregisterExtMode",
        )

    async def promote_mode(
        self,
        mode: str,
        promoted_mode_name: str = "",
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.PromoteModeResponse:
        return await self._unary(
            self._stub.PromoteMode,
            core_pb2.PromoteModeRequest(mode=mode, promoted_mode_name=promoted_mode_name),
            metadata=self._md_required(auth, "promote_mode"),
            timeout=timeout,
            operation="PromoteMode",
        )

    # -- policies ------------------------------------------------------------------------
    async def register_policy(
        self,
        descriptor: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.RegisterPolicyResponse:
        return await self._unary(
            self._stub.RegisterPolicy,
            policy_pb2.RegisterPolicyRequest(policy_descriptor=descriptor),
            metadata=self._md_required(auth, "register_policy"),
            timeout=timeout,
            operation="RegisterPolicy",
        )

    async def unregister_policy(
        self, policy_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> policy_pb2.UnregisterPolicyResponse:
        return await self._unary(
            self._stub.UnregisterPolicy,
            policy_pb2.UnregisterPolicyRequest(policy_id=policy_id),
            metadata=self._md_required(auth, "unregister_policy"),
            timeout=timeout,
            operation="UnregisterPolicy",
        )

    async def get_policy(
        self, policy_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> policy_pb2.GetPolicyResponse:
        return await self._unary(
            self._stub.GetPolicy,
            policy_pb2.GetPolicyRequest(policy_id=policy_id),
            metadata=self._md_required(auth, "get_policy"),
            timeout=timeout,
            operation="GetPolicy",
        )

    async def list_policies(
        self,
        mode: str | None = None,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.ListPoliciesResponse:
        return await self._unary(
            self._stub.ListPolicies,
            policy_pb2.ListPoliciesRequest(mode=mode or ""),
            metadata=self._md_required(auth, "list_policies"),
            timeout=timeout,
            operation="ListPolicies",
        )

    def watch_policies(
        self,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        reconnect: bool = False,
    ) -> AsyncIterator[policy_pb2.WatchPoliciesResponse]:
        return self._watch(
            self._stub.WatchPolicies,
            policy_pb2.WatchPoliciesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchPolicies",
        )

    async def what_if_replay(
        self,
        session_id: str,
        candidate: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.WhatIfReplayResponse:
        self._require_capability("what_if_replay")
        return await self._unary(
            self._stub.WhatIfReplay,
            policy_pb2.WhatIfReplayRequest(
                session_id=session_id_arg(session_id), candidate=candidate
            ),
            metadata=self._md_required(auth, "what_if_replay"),
            timeout=timeout,
            operation="WhatIfReplay",
        )

    # -- receipts ------------------------------------------------------------------------
    async def get_decision_receipt(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetDecisionReceiptResponse:
        self._require_capability("get_decision_receipt")
        return await self._unary(
            self._stub.GetDecisionReceipt,
            core_pb2.GetDecisionReceiptRequest(session_id=session_id_arg(session_id)),
            metadata=self._md_required(auth, "get_decision_receipt"),
            timeout=timeout,
            operation="GetDecisionReceipt",
        )

    async def get_receipt_keys(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetReceiptKeysResponse:
        self._require_capability("get_receipt_keys")
        return await self._unary(
            self._stub.GetReceiptKeys,
            core_pb2.GetReceiptKeysRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="GetReceiptKeys",
        )
