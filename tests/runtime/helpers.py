"""Raw-gRPC helpers for driving the local runtime in tests (no SDK client involved)."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf.message import Message
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

Metadata = tuple[tuple[str, str], ...]
DECISION = "macp.mode.decision.v1"


def settles(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll for a state the runtime reaches asynchronously (bounded; not a timing check)."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def creds(sender: str) -> Metadata:
    return (("authorization", f"Bearer {sender}"),)


def new_session_id() -> str:
    return str(uuid.uuid4())


def new_message_id() -> str:
    return uuid.uuid4().hex


def envelope(
    mode: str,
    message_type: str,
    session_id: str,
    sender: str = "",
    payload: Message | bytes = b"",
    message_id: str | None = None,
    timestamp_ms: int = 0,
) -> envelope_pb2.Envelope:
    raw = payload if isinstance(payload, bytes) else payload.SerializeToString()
    return envelope_pb2.Envelope(
        macp_version="1.0",
        mode=mode,
        message_type=message_type,
        message_id=message_id or new_message_id(),
        session_id=session_id,
        sender=sender,
        timestamp_unix_ms=timestamp_ms,
        payload=raw,
    )


def session_start(
    mode: str,
    session_id: str,
    initiator: str,
    participants: list[str],
    ttl_ms: int = 60_000,
    policy_version: str = "",
    message_id: str | None = None,
    timestamp_ms: int = 0,
    **extra: Any,
) -> envelope_pb2.Envelope:
    payload = core_pb2.SessionStartPayload(
        intent="test",
        participants=participants,
        mode_version="1.0.0",
        configuration_version="cfg-1",
        policy_version=policy_version,
        ttl_ms=ttl_ms,
        **extra,
    )
    return envelope(
        mode, "SessionStart", session_id, initiator, payload, message_id, timestamp_ms
    )


def commitment(
    action: str, positive: bool, commitment_id: str = "c1", policy_version: str = ""
) -> core_pb2.CommitmentPayload:
    return core_pb2.CommitmentPayload(
        commitment_id=commitment_id,
        action=action,
        authority_scope="test",
        reason="because",
        mode_version="1.0.0",
        configuration_version="cfg-1",
        policy_version=policy_version,
        outcome_positive=positive,
    )


def send(
    stub: core_pb2_grpc.MACPRuntimeServiceStub, env: envelope_pb2.Envelope, sender: str
) -> envelope_pb2.Ack:
    response: core_pb2.SendResponse = stub.Send(
        core_pb2.SendRequest(envelope=env), metadata=creds(sender), timeout=10
    )
    return response.ack


class StreamClient:
    """One StreamSession call: frames go in through a queue, responses are collected."""

    def __init__(self, stub: core_pb2_grpc.MACPRuntimeServiceStub, sender: str) -> None:
        self._frames: queue.Queue[core_pb2.StreamSessionRequest | None] = queue.Queue()
        self.responses: list[core_pb2.StreamSessionResponse] = []
        self.final_code: grpc.StatusCode | None = None
        self.final_details = ""
        self.final_macp_code: str | None = None  # the `macp-error-code` trailer, if any
        self._changed = threading.Condition()
        self._done = False
        self._call = stub.StreamSession(self._requests(), metadata=creds(sender), timeout=60)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _requests(self) -> Iterator[core_pb2.StreamSessionRequest]:
        while True:
            frame = self._frames.get()
            if frame is None:
                return
            yield frame

    def _read(self) -> None:
        try:
            for response in self._call:
                with self._changed:
                    self.responses.append(response)
                    self._changed.notify_all()
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
            self.final_details = error.details() or ""
            trailers = dict(error.trailing_metadata() or ())
            self.final_macp_code = trailers.get("macp-error-code")
        with self._changed:
            self.final_code = code
            self._done = True
            self._changed.notify_all()

    def send(self, env: envelope_pb2.Envelope) -> None:
        self._frames.put(core_pb2.StreamSessionRequest(envelope=env))

    def subscribe(self, session_id: str, after_sequence: int = 0) -> None:
        self._frames.put(
            core_pb2.StreamSessionRequest(
                subscribe_session_id=session_id, after_sequence=after_sequence
            )
        )

    def send_frame(self, frame: core_pb2.StreamSessionRequest) -> None:
        self._frames.put(frame)

    def half_close(self) -> None:
        self._frames.put(None)

    def cancel(self) -> None:
        self._call.cancel()

    def envelopes(self) -> list[envelope_pb2.Envelope]:
        with self._changed:
            return [r.envelope for r in self.responses if r.HasField("envelope")]

    def errors(self) -> list[envelope_pb2.MACPError]:
        with self._changed:
            return [r.error for r in self.responses if r.HasField("error")]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[core_pb2.StreamSessionResponse]:
        """Block until `count` responses arrived (or the stream ended)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.responses) >= count or self._done, timeout)
            return list(self.responses)

    def wait_done(self, timeout: float = 10.0) -> grpc.StatusCode | None:
        with self._changed:
            self._changed.wait_for(lambda: self._done, timeout)
            return self.final_code
