"""`macp.v1.MACPRuntimeService` over the kernel and registries (runtime-behavior.md §2.3)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

from .auth import Authenticator, Identity, bind_sender
from .discovery import VersionNegotiationError, initialize, manifest
from .errors import MacpError, StatusError
from .fanout import Subscription
from .governance import Governance
from .ingress import check_rights, check_shape
from .kernel import Kernel, error_ack
from .limits import RateLimiter, check_payload_size
from .policy import PolicyRegistry
from .registry import ModeRegistry
from .stream_session import StreamGates, StreamSessionHandler
from .streams import StreamHub

T = TypeVar("T")
_POLL_SECONDS = 0.2


class RuntimeServicer(core_pb2_grpc.MACPRuntimeServiceServicer):
    def __init__(
        self,
        kernel: Kernel,
        modes: ModeRegistry,
        policies: PolicyRegistry,
        hub: StreamHub,
        authenticator: Authenticator,
        limiter: RateLimiter | None,
        max_payload_bytes: int,
        stopping: threading.Event,
    ) -> None:
        self._kernel = kernel
        self._modes = modes
        self._policies = policies
        self._auth = authenticator
        self._limiter = limiter
        self._max_payload_bytes = max_payload_bytes
        self._stopping = stopping
        gates = StreamGates(authenticator, limiter, max_payload_bytes)
        self._streams = StreamSessionHandler(kernel, hub, gates, stopping)
        self._governance = Governance(kernel, modes)

    # ---- helpers ------------------------------------------------------------------------

    def _identity(self, context: grpc.ServicerContext) -> Identity:
        try:
            return self._auth.authenticate(context.invocation_metadata())
        except MacpError as error:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, error.reason or error.variant)

    def _registry_manager(self, context: grpc.ServicerContext) -> Identity:
        identity = self._identity(context)
        if not identity.can_manage_mode_registry:
            context.abort(
                grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN: registry management not allowed"
            )
        return identity

    def _drain(
        self,
        subscription: Subscription[T],
        context: grpc.ServicerContext,
        release: Callable[[Subscription[T]], None],
        lag_status: grpc.StatusCode | None,
    ) -> Iterator[T]:
        """Yield a subscription's items until the client leaves or the runtime stops."""
        context.add_callback(subscription.close)
        try:
            while True:
                alive, item = subscription.get(_POLL_SECONDS)
                if item is not None:
                    yield item
                elif not alive:
                    break
                elif self._stopping.is_set() or not context.is_active():
                    return
            if subscription.lagged and lag_status is not None:
                context.abort(lag_status, "watcher fell behind")
        finally:
            release(subscription)

    # ---- Session traffic ----------------------------------------------------------------

    def Send(
        self, request: core_pb2.SendRequest, context: grpc.ServicerContext
    ) -> core_pb2.SendResponse:
        if not request.HasField("envelope"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "SendRequest must contain an envelope")
        envelope = request.envelope
        try:
            check_shape(envelope)
            check_payload_size(envelope.payload, self._max_payload_bytes)
            identity = self._auth.authenticate(context.invocation_metadata())
            envelope.sender = bind_sender(identity, envelope.sender)
            check_rights(identity, envelope, self._limiter)
            ack = self._kernel.process(envelope, identity)
        except MacpError as error:
            now = self._kernel.now_ms()
            ack = error_ack(error, envelope.session_id, envelope.message_id, now)
        return core_pb2.SendResponse(ack=ack)

    def StreamSession(
        self,
        request_iterator: Iterator[core_pb2.StreamSessionRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[core_pb2.StreamSessionResponse]:
        return self._streams.serve(request_iterator, context)

    def GetSession(
        self, request: core_pb2.GetSessionRequest, context: grpc.ServicerContext
    ) -> core_pb2.GetSessionResponse:
        identity = self._identity(context)
        try:
            metadata = self._kernel.get_session(request.session_id, identity)
        except StatusError as error:
            context.abort(error.status, error.message)
        return core_pb2.GetSessionResponse(metadata=metadata)

    def _control(
        self,
        action: Callable[[str, Identity], envelope_pb2.Ack],
        session_id: str,
        context: grpc.ServicerContext,
    ) -> envelope_pb2.Ack:
        identity = self._identity(context)
        try:
            return action(session_id, identity)
        except StatusError as error:
            context.abort(error.status, error.message)

    def CancelSession(
        self, request: core_pb2.CancelSessionRequest, context: grpc.ServicerContext
    ) -> core_pb2.CancelSessionResponse:
        ack = self._control(self._kernel.cancel, request.session_id, context)
        return core_pb2.CancelSessionResponse(ack=ack)

    def SuspendSession(
        self, request: core_pb2.SuspendSessionRequest, context: grpc.ServicerContext
    ) -> core_pb2.SuspendSessionResponse:
        ack = self._control(self._kernel.suspend, request.session_id, context)
        return core_pb2.SuspendSessionResponse(ack=ack)

    def ResumeSession(
        self, request: core_pb2.ResumeSessionRequest, context: grpc.ServicerContext
    ) -> core_pb2.ResumeSessionResponse:
        ack = self._control(self._kernel.resume, request.session_id, context)
        return core_pb2.ResumeSessionResponse(ack=ack)

    def ListSessions(
        self, request: core_pb2.ListSessionsRequest, context: grpc.ServicerContext
    ) -> core_pb2.ListSessionsResponse:
        self._identity(context)
        sessions, next_token = self._kernel.list_sessions(request.page_size, request.page_token)
        return core_pb2.ListSessionsResponse(sessions=sessions, next_page_token=next_token)

    def WatchSessions(
        self, request: core_pb2.WatchSessionsRequest, context: grpc.ServicerContext
    ) -> Iterator[core_pb2.WatchSessionsResponse]:
        self._identity(context)
        subscription = self._kernel.watch_sessions()
        synced: set[str] = set()
        release = self._kernel.unwatch_sessions
        lagged = grpc.StatusCode.RESOURCE_EXHAUSTED
        for response in self._drain(subscription, context, release, lagged):
            event = response.event
            if event.event_type == event.EVENT_TYPE_CREATED:
                # The initial sync may overlap a buffered live CREATED: send each once.
                if event.session.session_id in synced:
                    continue
                synced.add(event.session.session_id)
            yield response

    def WatchSignals(
        self, request: core_pb2.WatchSignalsRequest, context: grpc.ServicerContext
    ) -> Iterator[core_pb2.WatchSignalsResponse]:
        self._identity(context)
        subscription = self._kernel.signals.subscribe()
        yield from self._drain(
            subscription,
            context,
            self._kernel.signals.unsubscribe,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        )

    # ---- Discovery ----------------------------------------------------------------------

    def Initialize(
        self, request: core_pb2.InitializeRequest, context: grpc.ServicerContext
    ) -> core_pb2.InitializeResponse:
        try:
            return initialize(request, self._modes.names())
        except VersionNegotiationError as error:
            status = (
                grpc.StatusCode.INVALID_ARGUMENT
                if error.invalid_request
                else grpc.StatusCode.FAILED_PRECONDITION
            )
            context.abort(status, str(error))

    def GetManifest(
        self, request: core_pb2.GetManifestRequest, context: grpc.ServicerContext
    ) -> core_pb2.GetManifestResponse:
        found = manifest(request.agent_id, self._modes.names())
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"agent '{request.agent_id}' not found")
        return core_pb2.GetManifestResponse(manifest=found)

    def ListModes(
        self, request: core_pb2.ListModesRequest, context: grpc.ServicerContext
    ) -> core_pb2.ListModesResponse:
        return core_pb2.ListModesResponse(modes=self._modes.standards_track())

    def ListExtModes(
        self, request: core_pb2.ListExtModesRequest, context: grpc.ServicerContext
    ) -> core_pb2.ListExtModesResponse:
        return core_pb2.ListExtModesResponse(modes=self._modes.extensions())

    def ListRoots(
        self, request: core_pb2.ListRootsRequest, context: grpc.ServicerContext
    ) -> core_pb2.ListRootsResponse:
        return core_pb2.ListRootsResponse(roots=[])

    def WatchRoots(
        self, request: core_pb2.WatchRootsRequest, context: grpc.ServicerContext
    ) -> Iterator[core_pb2.WatchRootsResponse]:
        # Roots never change here: one notification, then idle until the client or server ends.
        subscription: Subscription[core_pb2.WatchRootsResponse] = Subscription(1)
        change = core_pb2.RootsChanged(observed_at_unix_ms=self._kernel.now_ms())
        subscription.offer(core_pb2.WatchRootsResponse(change=change))
        yield from self._drain(subscription, context, Subscription.close, None)

    def WatchModeRegistry(
        self, request: core_pb2.WatchModeRegistryRequest, context: grpc.ServicerContext
    ) -> Iterator[core_pb2.WatchModeRegistryResponse]:
        subscription = self._modes.watch()
        yield from self._drain(subscription, context, self._modes.unwatch, None)

    # ---- Extension modes ----------------------------------------------------------------

    def RegisterExtMode(
        self, request: core_pb2.RegisterExtModeRequest, context: grpc.ServicerContext
    ) -> core_pb2.RegisterExtModeResponse:
        self._registry_manager(context)
        if not request.HasField("mode_descriptor"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "mode_descriptor is required")
        try:
            self._modes.register_ext(request.mode_descriptor)
        except ValueError as error:
            return core_pb2.RegisterExtModeResponse(ok=False, error=str(error))
        return core_pb2.RegisterExtModeResponse(ok=True)

    def UnregisterExtMode(
        self, request: core_pb2.UnregisterExtModeRequest, context: grpc.ServicerContext
    ) -> core_pb2.UnregisterExtModeResponse:
        self._registry_manager(context)
        try:
            self._modes.unregister_ext(request.mode)
        except ValueError as error:
            return core_pb2.UnregisterExtModeResponse(ok=False, error=str(error))
        return core_pb2.UnregisterExtModeResponse(ok=True)

    def PromoteMode(
        self, request: core_pb2.PromoteModeRequest, context: grpc.ServicerContext
    ) -> core_pb2.PromoteModeResponse:
        self._registry_manager(context)
        try:
            final = self._modes.promote(request.mode, request.promoted_mode_name)
        except ValueError as error:
            return core_pb2.PromoteModeResponse(ok=False, error=str(error), mode=request.mode)
        return core_pb2.PromoteModeResponse(ok=True, mode=final)

    # ---- Policies -----------------------------------------------------------------------

    def RegisterPolicy(
        self, request: policy_pb2.RegisterPolicyRequest, context: grpc.ServicerContext
    ) -> policy_pb2.RegisterPolicyResponse:
        self._registry_manager(context)
        try:
            self._policies.register(request.policy_descriptor)
        except ValueError as error:
            return policy_pb2.RegisterPolicyResponse(ok=False, error=str(error))
        return policy_pb2.RegisterPolicyResponse(ok=True)

    def UnregisterPolicy(
        self, request: policy_pb2.UnregisterPolicyRequest, context: grpc.ServicerContext
    ) -> policy_pb2.UnregisterPolicyResponse:
        self._registry_manager(context)
        try:
            self._policies.unregister(request.policy_id)
        except ValueError as error:
            return policy_pb2.UnregisterPolicyResponse(ok=False, error=str(error))
        return policy_pb2.UnregisterPolicyResponse(ok=True)

    def GetPolicy(
        self, request: policy_pb2.GetPolicyRequest, context: grpc.ServicerContext
    ) -> policy_pb2.GetPolicyResponse:
        self._identity(context)
        policy = self._policies.get(request.policy_id)
        if policy is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"policy '{request.policy_id}' not found")
        return policy_pb2.GetPolicyResponse(policy_descriptor=policy.to_proto())

    def ListPolicies(
        self, request: policy_pb2.ListPoliciesRequest, context: grpc.ServicerContext
    ) -> policy_pb2.ListPoliciesResponse:
        self._identity(context)
        descriptors = [p.to_proto() for p in self._policies.list(request.mode)]
        return policy_pb2.ListPoliciesResponse(descriptors=descriptors)

    def WatchPolicies(
        self, request: policy_pb2.WatchPoliciesRequest, context: grpc.ServicerContext
    ) -> Iterator[policy_pb2.WatchPoliciesResponse]:
        subscription = self._policies.watch()
        yield from self._drain(subscription, context, self._policies.unwatch, None)

    # ---- Governance: receipts and what-if replay (logic in governance.py) ----------------

    def WhatIfReplay(
        self, request: policy_pb2.WhatIfReplayRequest, context: grpc.ServicerContext
    ) -> policy_pb2.WhatIfReplayResponse:
        identity = self._identity(context)
        try:
            return self._governance.what_if(request, identity)
        except StatusError as error:
            context.abort(error.status, error.message)

    def GetDecisionReceipt(
        self, request: core_pb2.GetDecisionReceiptRequest, context: grpc.ServicerContext
    ) -> core_pb2.GetDecisionReceiptResponse:
        identity = self._identity(context)
        try:
            return self._governance.decision_receipt(request.session_id, identity)
        except StatusError as error:
            context.abort(error.status, error.message)

    def GetReceiptKeys(
        self, request: core_pb2.GetReceiptKeysRequest, context: grpc.ServicerContext
    ) -> core_pb2.GetReceiptKeysResponse:
        return self._governance.receipt_keys()
