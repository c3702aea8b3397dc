"""``MacpClient``: one typed, blocking method per RPC of ``macp.v1.MACPRuntimeService``."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import TypeVar

import grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

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
    session_id_arg,
    watch_outcome,
)
from ._requests import (
    TimeoutValue as TimeoutValue,  # re-exported
)
from .auth import AuthConfig
from .constants import CLIENT_NAME, CLIENT_VERSION
from .errors import MacpAckError, MacpRetryError, MacpSdkError, error_from_rpc, rpc_status
from .retry import RetryPolicy, call_with_retry
from .streams import InlineErrorCallback, MacpStream

logger = get_logger("client")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class MacpClient(ClientCore):
    """Blocking client for a MACP runtime.

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

    def __enter__(self) -> MacpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"MacpClient(target={self.target!r}, secure={self.secure}, auth={self.auth!r}, "
            f"default_timeout={self.default_timeout!r})"
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
        logger.debug(
            "send %s %s message_id=%s session=%s",
            envelope.mode or "-",
            envelope.message_type,
            envelope.message_id,
            envelope.session_id or "-",
        )

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
    ) -> MacpStream:
        """Open a ``StreamSession``. With ``session_id``, subscribe at once (replaying history
        after ``after_sequence``). Close it, or use it as a context manager."""
        if self._closed:
            raise MacpSdkError("client is closed")
        metadata = self._md_required(auth, "open_stream")
        stream = MacpStream(
            lambda frames: self._stub.StreamSession(frames, metadata=metadata),
            on_error=on_error,
            on_close=self._streams.discard,
        )
        self._streams.add(stream)
        if session_id is not None:
            stream.subscribe(session_id, after_sequence)
        return stream

    stream_session = open_stream

    # -- sessions ------------------------------------------------------------------------
    def get_session(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetSessionResponse:
        return self._unary(
            self._stub.GetSession,
            core_pb2.GetSessionRequest(session_id=session_id_arg(session_id)),
            metadata=self._md_required(auth, "get_session"),
            timeout=timeout,
            operation="GetSession",
        )

    def cancel_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = self._unary(
            self._stub.CancelSession,
            core_pb2.CancelSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "cancel_session"),
            timeout=timeout,
            operation="CancelSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    def suspend_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = self._unary(
            self._stub.SuspendSession,
            core_pb2.SuspendSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "suspend_session"),
            timeout=timeout,
            operation="SuspendSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    def resume_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack:
        response = self._unary(
            self._stub.ResumeSession,
            core_pb2.ResumeSessionRequest(session_id=session_id_arg(session_id), reason=reason),
            metadata=self._md_required(auth, "resume_session"),
            timeout=timeout,
            operation="ResumeSession",
        )
        return checked_ack(response.ack, raise_on_nack=raise_on_nack)

    def list_sessions_page(
        self,
        *,
        page_size: int = 0,
        page_token: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> tuple[list[core_pb2.SessionMetadata], str]:
        """One page: ``(sessions, next_page_token)``; an empty token means the last page."""
        response = self._unary(
            self._stub.ListSessions,
            core_pb2.ListSessionsRequest(page_size=page_size, page_token=page_token),
            metadata=self._md_required(auth, "list_sessions"),
            timeout=timeout,
            operation="ListSessions",
        )
        return list(response.sessions), response.next_page_token

    def list_sessions(
        self, *, page_size: int = 0, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> list[core_pb2.SessionMetadata]:
        """Every session the runtime knows, following pages to the end."""
        sessions: list[core_pb2.SessionMetadata] = []
        token = ""
        while True:
            batch, token = self.list_sessions_page(
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
    ) -> Iterator[core_pb2.WatchSessionsResponse]:
        """Session lifecycle events until ``timeout`` seconds pass (then iteration just ends)."""
        return self._watch(
            self._stub.WatchSessions,
            core_pb2.WatchSessionsRequest(),
            metadata=self._md_required(auth, "watch_sessions"),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchSessions",
        )

    # -- discovery -----------------------------------------------------------------------
    def get_manifest(
        self, agent_id: str = "", *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetManifestResponse:
        return self._unary(
            self._stub.GetManifest,
            core_pb2.GetManifestRequest(agent_id=agent_id),
            metadata=self._md(auth),
            timeout=timeout,
            operation="GetManifest",
        )

    def list_modes(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListModesResponse:
        return self._unary(
            self._stub.ListModes,
            core_pb2.ListModesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="ListModes",
        )

    def list_ext_modes(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListExtModesResponse:
        return self._unary(
            self._stub.ListExtModes,
            core_pb2.ListExtModesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="ListExtModes",
        )

    def list_roots(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.ListRootsResponse:
        return self._unary(
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
    ) -> Iterator[core_pb2.WatchModeRegistryResponse]:
        """Registry-changed hints until ``timeout`` seconds pass; re-query ``list_modes``."""
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
    ) -> Iterator[core_pb2.WatchRootsResponse]:
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
    ) -> Iterator[core_pb2.WatchSignalsResponse]:
        """Accepted Signal and Progress envelopes as they happen (no backlog)."""
        return self._watch(
            self._stub.WatchSignals,
            core_pb2.WatchSignalsRequest(),
            metadata=self._md_required(auth, "watch_signals"),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchSignals",
        )

    # -- extension modes -----------------------------------------------------------------
    def register_ext_mode(
        self,
        descriptor: core_pb2.ModeDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.RegisterExtModeResponse:
        return self._unary(
            self._stub.RegisterExtMode,
            core_pb2.RegisterExtModeRequest(mode_descriptor=descriptor),
            metadata=self._md_required(auth, "register_ext_mode"),
            timeout=timeout,
            operation="RegisterExtMode",
        )

    def unregister_ext_mode(
        self, mode: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.UnregisterExtModeResponse:
        return self._unary(
            self._stub.UnregisterExtMode,
            core_pb2.UnregisterExtModeRequest(mode=mode),
            metadata=self._md_required(auth, "unregister_ext_mode"),
            timeout=timeout,
            operation="UnregisterExtMode",
        )

    def promote_mode(
        self,
        mode: str,
        promoted_mode_name: str = "",
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.PromoteModeResponse:
        return self._unary(
            self._stub.PromoteMode,
            core_pb2.PromoteModeRequest(mode=mode, promoted_mode_name=promoted_mode_name),
            metadata=self._md_required(auth, "promote_mode"),
            timeout=timeout,
            operation="PromoteMode",
        )

    # -- policies ------------------------------------------------------------------------
    def register_policy(
        self,
        descriptor: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.RegisterPolicyResponse:
        return self._unary(
            self._stub.RegisterPolicy,
            policy_pb2.RegisterPolicyRequest(policy_descriptor=descriptor),
            metadata=self._md_required(auth, "register_policy"),
            timeout=timeout,
            operation="RegisterPolicy",
        )

    def unregister_policy(
        self, policy_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> policy_pb2.UnregisterPolicyResponse:
        return self._unary(
            self._stub.UnregisterPolicy,
            policy_pb2.UnregisterPolicyRequest(policy_id=policy_id),
            metadata=self._md_required(auth, "unregister_policy"),
            timeout=timeout,
            operation="UnregisterPolicy",
        )

    def get_policy(
        self, policy_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> policy_pb2.GetPolicyResponse:
        return self._unary(
            self._stub.GetPolicy,
            policy_pb2.GetPolicyRequest(policy_id=policy_id),
            metadata=self._md_required(auth, "get_policy"),
            timeout=timeout,
            operation="GetPolicy",
        )

    def list_policies(
        self,
        mode: str | None = None,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.ListPoliciesResponse:
        return self._unary(
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
    ) -> Iterator[policy_pb2.WatchPoliciesResponse]:
        """The full policy set now and after every change, until ``timeout`` seconds pass."""
        return self._watch(
            self._stub.WatchPolicies,
            policy_pb2.WatchPoliciesRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            reconnect=reconnect,
            operation="WatchPolicies",
        )

    def what_if_replay(
        self,
        session_id: str,
        candidate: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.WhatIfReplayResponse:
        """Re-evaluate a session's history under ``candidate`` without changing anything.

        Once ``initialize()`` has run, raises :class:`MacpCapabilityError` without calling the
        runtime unless it advertised ``policy_registry.what_if_replay``.
        """
        self._require_capability("what_if_replay")
        return self._unary(
            self._stub.WhatIfReplay,
            policy_pb2.WhatIfReplayRequest(
                session_id=session_id_arg(session_id), candidate=candidate
            ),
            metadata=self._md_required(auth, "what_if_replay"),
            timeout=timeout,
            operation="WhatIfReplay",
        )

    # -- receipts ------------------------------------------------------------------------
    def get_decision_receipt(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetDecisionReceiptResponse:
        """The runtime's decision receipt (JSON) for a resolved session. Gated like
        :meth:`what_if_replay`, on ``decision_receipt.get_decision_receipt``."""
        self._require_capability("get_decision_receipt")
        return self._unary(
            self._stub.GetDecisionReceipt,
            core_pb2.GetDecisionReceiptRequest(session_id=session_id_arg(session_id)),
            metadata=self._md_required(auth, "get_decision_receipt"),
            timeout=timeout,
            operation="GetDecisionReceipt",
        )

    def get_receipt_keys(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetReceiptKeysResponse:
        """The keys that verify receipts; gated on ``decision_receipt.get_decision_receipt``."""
        self._require_capability("get_receipt_keys")
        return self._unary(
            self._stub.GetReceiptKeys,
            core_pb2.GetReceiptKeysRequest(),
            metadata=self._md(auth),
            timeout=timeout,
            operation="GetReceiptKeys",
        )
