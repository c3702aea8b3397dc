"""The StreamSession RPC (runtime-behavior.md §5), on the runtime's event loop.

A reader task consumes request frames and runs them through the kernel; the RPC's coroutine
only drains the stream's output queue. Accepted envelopes reach the queue through the session
broadcast (filtered by the session's audience, see streams.py), inline errors are queued by
the reader, and stream-ending errors close the queue with a status. No Acks are ever sent on
a stream. An idle stream costs a coroutine and a queue, never a thread, so open streams
cannot starve other RPCs; `StreamGuard` caps how many may be open at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
from macp.v1 import core_pb2, envelope_pb2

from .auth import Authenticator, Identity, bind_sender
from .errors import MacpError, StatusError
from .fanout import Subscription
from .guard import StreamGuard
from .ingress import check_header, check_rights
from .kernel import Kernel
from .limits import RateLimiter, check_payload_size
from .session import OPEN
from .status import Context, abort
from .streams import StreamHub, StreamOutput

STREAM_BUFFER = 256
# Statuses that end the stream; every other failure is reported inline (§5 "Error classes").
_ENDING = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
    }
)


class _EndStream(Exception):
    def __init__(self, status: grpc.StatusCode, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad_frame(message: str, code: str = "INVALID_REQUEST") -> _EndStream:
    return _EndStream(grpc.StatusCode.INVALID_ARGUMENT, code, message)


@dataclass
class _StreamState:
    output: StreamOutput
    identity: Identity
    bound: str | None = None
    ending: _EndStream | None = None
    last_activity: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class StreamGates:
    authenticator: Authenticator
    limiter: RateLimiter | None
    max_payload_bytes: int
    idle_timeout_s: float | None = None


class StreamSessionHandler:
    def __init__(
        self, kernel: Kernel, hub: StreamHub, gates: StreamGates, guard: StreamGuard
    ) -> None:
        self._kernel = kernel
        self._hub = hub
        self._gates = gates
        self._guard = guard

    async def serve(
        self, requests: AsyncIterator[core_pb2.StreamSessionRequest], context: Context
    ) -> AsyncIterator[core_pb2.StreamSessionResponse]:
        try:
            identity = self._gates.authenticator.authenticate(context.invocation_metadata() or ())
        except MacpError as error:
            await abort(context, error.status, error.code, error.reason or error.variant)
        output: StreamOutput = Subscription(STREAM_BUFFER)
        if not self._guard.open(output):
            await abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "RATE_LIMITED",
                f"too many open streams (limit {self._guard.limit})",
            )
        state = _StreamState(output, identity)
        reader = asyncio.ensure_future(self._read(requests, state))
        try:
            while True:
                alive, item = await output.get(self._gates.idle_timeout_s)
                if item is not None:
                    state.last_activity = time.monotonic()
                    yield item
                elif not alive:
                    break
                elif self._idle_for_too_long(state):
                    await context.abort(
                        grpc.StatusCode.UNAVAILABLE,
                        f"StreamSession idle for {self._gates.idle_timeout_s}s; reconnect",
                    )
            if state.ending is not None:
                await abort(context, state.ending.status, state.ending.code, state.ending.message)
            if output.lagged:
                await abort(
                    context,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "STREAM_LAGGED",
                    "StreamSession receiver fell behind",
                )
        finally:
            output.close()
            reader.cancel()
            self._guard.release(output)
            if state.bound is not None:
                self._hub.unbind(state.bound, output)

    def _idle_for_too_long(self, state: _StreamState) -> bool:
        timeout = self._gates.idle_timeout_s
        return timeout is not None and time.monotonic() - state.last_activity >= timeout

    async def _read(
        self, requests: AsyncIterator[core_pb2.StreamSessionRequest], state: _StreamState
    ) -> None:
        try:
            async for frame in requests:
                state.last_activity = time.monotonic()
                if state.output.closed:
                    return
                if not isinstance(frame, core_pb2.StreamSessionRequest):  # UNDECODABLE bytes
                    state.ending = _bad_frame("undecodable StreamSession frame")
                    return
                try:
                    self._frame(frame, state)
                except _EndStream as end:
                    state.ending = end
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - an undecodable frame or a broken connection
            state.ending = _bad_frame("malformed StreamSession frame")
        finally:
            # Half-close (or any end): queued envelopes are still flushed, then the stream ends.
            state.output.close()

    def _frame(self, frame: core_pb2.StreamSessionRequest, state: _StreamState) -> None:
        subscribe_id = frame.subscribe_session_id
        if frame.HasField("envelope") and subscribe_id:
            raise _bad_frame("a frame carries an envelope or a subscribe")
        if subscribe_id:
            self._subscribe(subscribe_id, frame.after_sequence, state)
        elif frame.HasField("envelope"):
            self._envelope(frame.envelope, state)
        else:
            raise _bad_frame("empty StreamSession frame")

    def _subscribe(self, session_id: str, after_sequence: int, state: _StreamState) -> None:
        if state.bound is not None and state.bound != session_id:
            raise _bad_frame("stream bound to another session")
        try:
            if state.bound == session_id:
                self._hub.unbind(session_id, state.output)  # re-subscribe replaces the binding
            self._kernel.subscribe(session_id, state.identity, after_sequence, state.output)
            state.bound = session_id
        except StatusError as error:
            self._fail(state, error.status, error.code, error.message)

    def _envelope(self, envelope: envelope_pb2.Envelope, state: _StreamState) -> None:
        try:
            check_header(envelope)
            if not envelope.session_id or not envelope.mode:
                raise _bad_frame("stream envelopes need session_id and mode", "INVALID_ENVELOPE")
            check_payload_size(envelope.payload, self._gates.max_payload_bytes)
            if state.bound is None:
                # Bind before processing, so even a rejected first envelope binds the stream
                # (a SessionStart sent here must echo back). What the binding delivers is
                # filtered by the session's audience, so binding alone reveals nothing.
                self._hub.bind(envelope.session_id, state.output, state.identity)
                state.bound = envelope.session_id
            elif state.bound != envelope.session_id:
                raise _bad_frame("stream bound to another session")
            envelope.sender = bind_sender(state.identity, envelope.sender)
            self._check_session_open(envelope)
            check_rights(state.identity, envelope, self._gates.limiter)
            self._kernel.process(envelope, state.identity)  # duplicates produce nothing
        except MacpError as error:
            self._fail(state, error.status, error.code, error.status_message)

    def _check_session_open(self, envelope: envelope_pb2.Envelope) -> None:
        known = self._kernel.state_of(envelope.session_id)
        if known is None:
            return
        mode, session_state = known
        if mode != envelope.mode:
            raise _bad_frame("envelope mode differs", "INVALID_ENVELOPE")
        if session_state != OPEN:
            raise _bad_frame("SESSION_NOT_OPEN", "SESSION_NOT_OPEN")

    def _fail(self, state: _StreamState, status: grpc.StatusCode, code: str, message: str) -> None:
        if status in _ENDING:
            raise _EndStream(status, code, message)
        error = envelope_pb2.MACPError(
            code=message, message=message, session_id=state.bound or "", message_id=""
        )
        state.output.offer(core_pb2.StreamSessionResponse(error=error))
