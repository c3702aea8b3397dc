"""The StreamSession RPC (runtime-behavior.md §5).

A reader thread consumes request frames and runs them through the kernel; the RPC's own thread
only drains the stream's output queue. Accepted envelopes reach the queue through the session
broadcast, inline errors are queued by the reader, and stream-ending errors close the queue
with a status. No Acks are ever sent on a stream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from macp.v1 import core_pb2, envelope_pb2

from .auth import Authenticator, Identity, bind_sender
from .errors import MacpError, StatusError
from .fanout import Subscription
from .ingress import check_header, check_rights
from .kernel import Kernel
from .limits import RateLimiter, check_payload_size
from .session import OPEN
from .streams import StreamHub, StreamOutput

STREAM_BUFFER = 256
_POLL_SECONDS = 0.2
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
    def __init__(self, status: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _StreamState:
    output: StreamOutput
    identity: Identity
    bound: str | None = None
    ending: _EndStream | None = None


@dataclass(frozen=True)
class StreamGates:
    authenticator: Authenticator
    limiter: RateLimiter | None
    max_payload_bytes: int


class StreamSessionHandler:
    def __init__(
        self, kernel: Kernel, hub: StreamHub, gates: StreamGates, stopping: threading.Event
    ) -> None:
        self._kernel = kernel
        self._hub = hub
        self._gates = gates
        self._stopping = stopping

    def serve(
        self, requests: Iterator[core_pb2.StreamSessionRequest], context: grpc.ServicerContext
    ) -> Iterator[core_pb2.StreamSessionResponse]:
        try:
            identity = self._gates.authenticator.authenticate(context.invocation_metadata())
        except MacpError as error:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, error.reason or error.variant)
        output: StreamOutput = Subscription(STREAM_BUFFER)
        state = _StreamState(output, identity)
        context.add_callback(output.close)  # the client went away or the RPC ended
        reader = threading.Thread(
            target=self._read, args=(requests, state), name="macp-stream-reader", daemon=True
        )
        reader.start()
        try:
            while True:
                alive, item = output.get(_POLL_SECONDS)
                if item is not None:
                    yield item
                elif not alive:
                    break
                elif self._stopping.is_set() or not context.is_active():
                    return
            if state.ending is not None:
                context.abort(state.ending.status, state.ending.message)
            if output.lagged:
                context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED, "StreamSession receiver fell behind"
                )
        finally:
            output.close()
            if state.bound is not None:
                self._hub.unbind(state.bound, output)

    def _read(self, requests: Iterator[core_pb2.StreamSessionRequest], state: _StreamState) -> None:
        try:
            for frame in requests:
                if state.output.closed:
                    return
                try:
                    self._frame(frame, state)
                except _EndStream as end:
                    state.ending = end
                    return
        except Exception:  # noqa: BLE001 - a broken client connection ends the stream
            return
        finally:
            # Half-close (or any end): queued envelopes are still flushed, then the stream ends.
            state.output.close()

    def _frame(self, frame: core_pb2.StreamSessionRequest, state: _StreamState) -> None:
        subscribe_id = frame.subscribe_session_id
        if frame.HasField("envelope") and subscribe_id:
            raise _EndStream(
                grpc.StatusCode.INVALID_ARGUMENT, "a frame carries an envelope or a subscribe"
            )
        if subscribe_id:
            self._subscribe(subscribe_id, frame.after_sequence, state)
        elif frame.HasField("envelope"):
            self._envelope(frame.envelope, state)
        else:
            raise _EndStream(grpc.StatusCode.INVALID_ARGUMENT, "empty StreamSession frame")

    def _subscribe(self, session_id: str, after_sequence: int, state: _StreamState) -> None:
        if state.bound is not None and state.bound != session_id:
            raise _EndStream(grpc.StatusCode.INVALID_ARGUMENT, "stream bound to another session")
        try:
            if state.bound == session_id:
                self._hub.unbind(session_id, state.output)  # re-subscribe replaces the binding
            self._kernel.subscribe(session_id, state.identity, after_sequence, state.output)
            state.bound = session_id
        except StatusError as error:
            self._fail(state, error.status, error.message)

    def _envelope(self, envelope: envelope_pb2.Envelope, state: _StreamState) -> None:
        try:
            check_header(envelope)
            if not envelope.session_id or not envelope.mode:
                raise _EndStream(
                    grpc.StatusCode.INVALID_ARGUMENT, "stream envelopes need session_id and mode"
                )
            check_payload_size(envelope.payload, self._gates.max_payload_bytes)
            if state.bound is None:
                # Bind before processing, so even a rejected first envelope binds the stream.
                self._hub.bind(envelope.session_id, state.output)
                state.bound = envelope.session_id
            elif state.bound != envelope.session_id:
                raise _EndStream(
                    grpc.StatusCode.INVALID_ARGUMENT, "stream bound to another session"
                )
            envelope.sender = bind_sender(state.identity, envelope.sender)
            self._check_session_open(envelope)
            check_rights(state.identity, envelope, self._gates.limiter)
            self._kernel.process(envelope, state.identity)  # duplicates produce nothing
        except MacpError as error:
            self._fail(state, error.status, error.status_message)

    def _check_session_open(self, envelope: envelope_pb2.Envelope) -> None:
        known = self._kernel.state_of(envelope.session_id)
        if known is None:
            return
        mode, session_state = known
        if mode != envelope.mode:
            raise _EndStream(grpc.StatusCode.INVALID_ARGUMENT, "envelope mode differs")
        if session_state != OPEN:
            raise _EndStream(grpc.StatusCode.INVALID_ARGUMENT, "SESSION_NOT_OPEN")

    def _fail(self, state: _StreamState, status: grpc.StatusCode, message: str) -> None:
        if status in _ENDING:
            raise _EndStream(status, message)
        error = envelope_pb2.MACPError(
            code=message, message=message, session_id=state.bound or "", message_id=""
        )
        state.output.offer(core_pb2.StreamSessionResponse(error=error))
