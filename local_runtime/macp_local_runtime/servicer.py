"""`macp.v1.MACPRuntimeService` over the kernel and registries (runtime-behavior.md §2.3).

Served by a `grpc.aio` server: one coroutine method per RPC. Kernel calls are synchronous and
short (no I/O), so they run on the event loop directly; server streams wait on their
subscription without holding a thread. Every MACP error answered as a gRPC status carries
`macp-error-code` trailing metadata (status.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import NoReturn, TypeVar

import grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

from .auth import Authenticator, Identity, bind_sender
from .discovery import VersionNegotiationError, initialize, manifest
from .errors import MacpError, StatusError
from .fanout import Subscription
from .governance import Governance
from .guard import StreamGuard
from .ingress import check_rights, check_shape
from .kernel import Kernel, error_ack
from .limits import RateLimiter, check_payload_size
from .policy import PolicyRegistry
from .registry import ModeRegistry
from .status import Context, abort, abort_status
from .stream_session import StreamGates, StreamSessionHandler
from .streams import StreamHub

T = TypeVar("T")


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
        guard: StreamGuard,
        idle_timeout_s: float | None = None,
    ) -> None:
        self._kernel = kernel
        self._modes = modes
        self._policies = policies
        self._auth = authenticator
        self._limiter = limiter
        self._max_payload_bytes = max_payload_bytes
        self._guard = guard
        gates = StreamGates(authenticator, limiter, max_payload_bytes, idle_timeout_s)
        self._streams = StreamSessionHandler(kernel, hub, gates, guard)
        self._governance = Governance(kernel, modes)

    # ---- helpers ------------------------------------------------------------------------

    async def _identity(self, context: Context) -> Identity:
        try:
            return self._auth.authenticate(context.invocation_metadata() or ())
        except MacpError as error:
            await abort(context, error.status, error.code, error.reason or error.variant)

    async def _registry_manager(self, context: Context) -> Identity:
        identity = await self._identity(context)
        if not identity.can_manage_mode_registry:
            await abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "FORBIDDEN",
                "FORBIDDEN: registry management not allowed",
            )
        return identity

    async def _invalid_request(self, context: Context, message: str) -> NoReturn:
        await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", message)

    async def _drain(
        self,
        subscription: Subscription[T],
        context: Context,
        release: Callable[[Subscription[T]], None],
        lag_status: grpc.StatusCode | None,
    ) -> AsyncIterator[T]:
        """Yield a subscription's items until the client leaves or the runtime stops."""
        if not self._guard.open(subscription):
            release(subscription)
            await abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "RATE_LIMITED",
                f"too many open streams (limit {self._guard.limit})",
            )
        try:
            while True:
                alive, item = await subscription.get()
                if item is not None:
                    yield item
                elif not alive:
                    break
            if subscription.lagged and lag_status is not None:
                await abort(context, lag_status, "STREAM_LAGGED", "watcher fell behind")
        finally:
            self._guard.release(subscription)
            release(subscription)

    # ---- Session traffic ----------------------------------------------------------------

    async def Send(self, request: core_pb2.SendRequest, context: Context) -> core_pb2.SendResponse:
        if not request.HasField("envelope"):
            await self._invalid_request(context, "SendRequest must contain an envelope")
        envelope = request.envelope
        try:
            check_shape(envelope)
            check_payload_size(envelope.payload, self._max_payload_bytes)
            identity = self._auth.authenticate(context.invocation_metadata() or ())
            envelope.sender = bind_sender(identity, envelope.sender)
            check_rights(identity, envelope, self._limiter)
            ack = self._kernel.process(envelope, identity)
        except MacpError as error:
            now = self._kernel.now_ms()
            ack = error_ack(error, envelope.session_id, envelope.message_id, now)
        return core_pb2.SendResponse(ack=ack)

    async def StreamSession(
        self,
        request_iterator: AsyncIterator[core_pb2.StreamSessionRequest],
        context: Context,
    ) -> AsyncIterator[core_pb2.StreamSessionResponse]:
        # grpc.aio serves a stream from an async generator *function*: delegate by iterating.
        async for response in self._streams.serve(request_iterator, context):
            yield response

    async def GetSession(
        self, request: core_pb2.GetSessionRequest, context: Context
    ) -> core_pb2.GetSessionResponse:
        identity = await self._identity(context)
        try:
            metadata = self._kernel.get_session(request.session_id, identity)
        except StatusError as error:
            await abort_status(context, error)
        return core_pb2.GetSessionResponse(metadata=metadata)

    async def _control(
        self,
        action: Callable[[str, Identity], envelope_pb2.Ack],
        session_id: str,
        context: Context,
    ) -> envelope_pb2.Ack:
        identity = await self._identity(context)
        try:
            return action(session_id, identity)
        except StatusError as error:
            await abort_status(context, error)

    async def CancelSession(
        self, request: core_pb2.CancelSessionRequest, context: Context
    ) -> core_pb2.CancelSessionResponse:
        ack = await self._control(self._kernel.cancel, request.session_id, context)
        return core_pb2.CancelSessionResponse(ack=ack)

    async def SuspendSession(
        self, request: core_pb2.SuspendSessionRequest, context: Context
    ) -> core_pb2.SuspendSessionResponse:
        ack = await self._control(self._kernel.suspend, request.session_id, context)
        return core_pb2.SuspendSessionResponse(ack=ack)

    async def ResumeSession(
        self, request: core_pb2.ResumeSessionRequest, context: Context
    ) -> core_pb2.ResumeSessionResponse:
        ack = await self._control(self._kernel.resume, request.session_id, context)
        return core_pb2.ResumeSessionResponse(ack=ack)

    async def ListSessions(
        self, request: core_pb2.ListSessionsRequest, context: Context
    ) -> core_pb2.ListSessionsResponse:
        await self._identity(context)
        sessions, next_token = self._kernel.list_sessions(request.page_size, request.page_token)
        return core_pb2.ListSessionsResponse(sessions=sessions, next_page_token=next_token)

    async def WatchSessions(
        self, request: core_pb2.WatchSessionsRequest, context: Context
    ) -> AsyncIterator[core_pb2.WatchSessionsResponse]:
        await self._identity(context)
        subscription = self._kernel.watch_sessions()
        synced: set[str] = set()
        release = self._kernel.unwatch_sessions
        lagged = grpc.StatusCode.RESOURCE_EXHAUSTED
        async for response in self._drain(subscription, context, release, lagged):
            event = response.event
            if event.event_type == event.EVENT_TYPE_CREATED:
                # The initial sync may overlap a buffered live CREATED: send each once.
                if event.session.session_id in synced:
                    continue
                synced.add(event.session.session_id)
            yield response

    async def WatchSignals(
        self, request: core_pb2.WatchSignalsRequest, context: Context
    ) -> AsyncIterator[core_pb2.WatchSignalsResponse]:
        await self._identity(context)
        subscription = self._kernel.signals.subscribe()
        unsubscribe = self._kernel.signals.unsubscribe
        lagged = grpc.StatusCode.RESOURCE_EXHAUSTED
        async for response in self._drain(subscription, context, unsubscribe, lagged):
            yield response

    # ---- Discovery ----------------------------------------------------------------------

    async def Initialize(
        self, request: core_pb2.InitializeRequest, context: Context
    ) -> core_pb2.InitializeResponse:
        try:
            return initialize(request, self._modes.names())
        except VersionNegotiationError as error:
            if error.invalid_request:
                await self._invalid_request(context, str(error))
            await abort(
                context,
                grpc.StatusCode.FAILED_PRECONDITION,
                "UNSUPPORTED_PROTOCOL_VERSION",
                str(error),
            )

    async def GetManifest(
        self, request: core_pb2.GetManifestRequest, context: Context
    ) -> core_pb2.GetManifestResponse:
        found = manifest(request.agent_id, self._modes.names())
        if found is None:
            await abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                "AGENT_NOT_FOUND",
                f"agent '{request.agent_id}' not found",
            )
        return core_pb2.GetManifestResponse(manifest=found)

    async def ListModes(
        self, request: core_pb2.ListModesRequest, context: Context
    ) -> core_pb2.ListModesResponse:
        return core_pb2.ListModesResponse(modes=self._modes.standards_track())

    async def ListExtModes(
        self, request: core_pb2.ListExtModesRequest, context: Context
    ) -> core_pb2.ListExtModesResponse:
        return core_pb2.ListExtModesResponse(modes=self._modes.extensions())

    async def ListRoots(
        self, request: core_pb2.ListRootsRequest, context: Context
    ) -> core_pb2.ListRootsResponse:
        return core_pb2.ListRootsResponse(roots=[])

    async def WatchRoots(
        self, request: core_pb2.WatchRootsRequest, context: Context
    ) -> AsyncIterator[core_pb2.WatchRootsResponse]:
        # Roots never change here: one notification, then idle until the client or server ends.
        subscription: Subscription[core_pb2.WatchRootsResponse] = Subscription(1)
        change = core_pb2.RootsChanged(observed_at_unix_ms=self._kernel.now_ms())
        subscription.offer(core_pb2.WatchRootsResponse(change=change))
        async for response in self._drain(subscription, context, Subscription.close, None):
            yield response

    async def WatchModeRegistry(
        self, request: core_pb2.WatchModeRegistryRequest, context: Context
    ) -> AsyncIterator[core_pb2.WatchModeRegistryResponse]:
        subscription = self._modes.watch()
        async for response in self._drain(subscription, context, self._modes.unwatch, None):
            yield response

    # ---- Extension modes ----------------------------------------------------------------

    async def RegisterExtMode(
        self, request: core_pb2.RegisterExtModeRequest, context: Context
    ) -> core_pb2.RegisterExtModeResponse:
        await self._registry_manager(context)
        if not request.HasField("mode_descriptor"):
            await self._invalid_request(context, "mode_descriptor is required")
        try:
            self._modes.register_ext(request.mode_descriptor)
        except ValueError as error:
            return core_pb2.RegisterExtModeResponse(ok=False, error=str(error))
        return core_pb2.RegisterExtModeResponse(ok=True)

    async def UnregisterExtMode(
        self, request: core_pb2.UnregisterExtModeRequest, context: Context
    ) -> core_pb2.UnregisterExtModeResponse:
        await self._registry_manager(context)
        try:
            self._modes.unregister_ext(request.mode)
        except ValueError as error:
            return core_pb2.UnregisterExtModeResponse(ok=False, error=str(error))
        return core_pb2.UnregisterExtModeResponse(ok=True)

    async def PromoteMode(
        self, request: core_pb2.PromoteModeRequest, context: Context
    ) -> core_pb2.PromoteModeResponse:
        await self._registry_manager(context)
        try:
            final = self._modes.promote(request.mode, request.promoted_mode_name)
        except ValueError as error:
            return core_pb2.PromoteModeResponse(ok=False, error=str(error), mode=request.mode)
        return core_pb2.PromoteModeResponse(ok=True, mode=final)

    # ---- Policies -----------------------------------------------------------------------

    async def RegisterPolicy(
        self, request: policy_pb2.RegisterPolicyRequest, context: Context
    ) -> policy_pb2.RegisterPolicyResponse:
        await self._registry_manager(context)
        try:
            self._policies.register(request.policy_descriptor)
        except ValueError as error:
            return policy_pb2.RegisterPolicyResponse(ok=False, error=str(error))
        return policy_pb2.RegisterPolicyResponse(ok=True)

    async def UnregisterPolicy(
        self, request: policy_pb2.UnregisterPolicyRequest, context: Context
    ) -> policy_pb2.UnregisterPolicyResponse:
        await self._registry_manager(context)
        try:
            self._policies.unregister(request.policy_id)
        except ValueError as error:
            return policy_pb2.UnregisterPolicyResponse(ok=False, error=str(error))
        return policy_pb2.UnregisterPolicyResponse(ok=True)

    async def GetPolicy(
        self, request: policy_pb2.GetPolicyRequest, context: Context
    ) -> policy_pb2.GetPolicyResponse:
        await self._identity(context)
        policy = self._policies.get(request.policy_id)
        if policy is None:
            await abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                "UNKNOWN_POLICY_VERSION",
                f"policy '{request.policy_id}' not found",
            )
        return policy_pb2.GetPolicyResponse(policy_descriptor=policy.to_proto())

    async def ListPolicies(
        self, request: policy_pb2.ListPoliciesRequest, context: Context
    ) -> policy_pb2.ListPoliciesResponse:
        await self._identity(context)
        descriptors = [p.to_proto() for p in self._policies.list(request.mode)]
        return policy_pb2.ListPoliciesResponse(descriptors=descriptors)

    async def WatchPolicies(
        self, request: policy_pb2.WatchPoliciesRequest, context: Context
    ) -> AsyncIterator[policy_pb2.WatchPoliciesResponse]:
        subscription = self._policies.watch()
        async for response in self._drain(subscription, context, self._policies.unwatch, None):
            yield response

    # ---- Governance: receipts and what-if replay (logic in governance.py) ----------------

    async def WhatIfReplay(
        self, request: policy_pb2.WhatIfReplayRequest, context: Context
    ) -> policy_pb2.WhatIfReplayResponse:
        identity = await self._identity(context)
        try:
            return self._governance.what_if(request, identity)
        except StatusError as error:
            await abort_status(context, error)

    async def GetDecisionReceipt(
        self, request: core_pb2.GetDecisionReceiptRequest, context: Context
    ) -> core_pb2.GetDecisionReceiptResponse:
        identity = await self._identity(context)
        try:
            return self._governance.decision_receipt(request.session_id, identity)
        except StatusError as error:
            await abort_status(context, error)

    async def GetReceiptKeys(
        self, request: core_pb2.GetReceiptKeysRequest, context: Context
    ) -> core_pb2.GetReceiptKeysResponse:
        return self._governance.receipt_keys()
