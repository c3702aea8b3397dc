"""The session send path: one envelope build per send, and what it still checks.

``send_payload`` builds the envelope itself (not through ``build_envelope``), serializes
payloads without map fields the plain way, takes message ids from a pre-formatted pool and
hands the projection the payload message it built. Each shortcut is held here to the slow
path it replaced.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar, cast

import pytest
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2
from macp_core.envelope import _has_maps
from macp_sdk import DecisionSession
from macp_sdk.auth import AuthConfig
from macp_sdk.base_projection import BaseProjection
from macp_sdk.client import MacpClient
from macp_sdk.envelope import (
    build_envelope,
    build_session_start_payload,
    new_message_id,
    serialize_message,
)
from macp_sdk.errors import MacpIdentityMismatchError, MacpValidationError
from macp_sdk.modes import decision as decision_mode

from .test_client import MODE
from .test_sessions import VoteProjection, VoteSession


def test_map_detection_follows_nested_messages_and_cycles() -> None:
    assert not _has_maps(decision_pb2.VotePayload.DESCRIPTOR, set())
    assert not _has_maps(timestamp_pb2.Timestamp.DESCRIPTOR, set())
    assert _has_maps(core_pb2.SessionStartPayload.DESCRIPTOR, set())  # extensions map
    # ListValue -> Value -> Struct (a map) -> Value ...: found through a cycle.
    assert _has_maps(struct_pb2.ListValue.DESCRIPTOR, set())


@pytest.mark.parametrize("seed", range(20))
def test_serialized_payloads_are_the_deterministic_bytes(seed: int) -> None:
    keys = [f"x-{(seed * 7 + k * 13) % 23}" for k in range(12)]
    start = build_session_start_payload(
        intent="i", participants=["a"], ttl_ms=5, extensions={k: k.encode() for k in keys}
    )
    vote = decision_pb2.VotePayload(proposal_id=f"p{seed}", vote="APPROVE", reason="r" * seed)
    value = struct_pb2.Value(
        struct_value=struct_pb2.Struct(fields={k: struct_pb2.Value(number_value=1) for k in keys})
    )
    for message in (start, vote, value, start, vote, value):  # the second round: cached class
        assert serialize_message(message) == message.SerializeToString(deterministic=True)


class _Recorder:
    """The blocking client's ``send`` as a session calls it, acking at once; it records what
    it was given so the test sees exactly what went out."""

    def __init__(self, auth: AuthConfig | None = None) -> None:
        self.auth = auth
        self.sent: list[tuple[envelope_pb2.Envelope, AuthConfig | None]] = []

    def send(
        self, envelope: envelope_pb2.Envelope, *, auth: AuthConfig | None = None, **_: object
    ) -> envelope_pb2.Ack:
        self.sent.append((envelope, auth))
        return envelope_pb2.Ack(ok=True, message_id=envelope.message_id)


def test_send_payload_builds_what_build_envelope_builds() -> None:
    client = _Recorder(AuthConfig.for_dev_agent("coordinator"))
    session = DecisionSession(client)  # type: ignore[arg-type]
    session.vote("p1", "approve")
    sent, auth = client.sent[0]
    assert auth is client.auth  # the client's auth, as no other was given
    expected = build_envelope(
        mode=session.mode,
        message_type="Vote",
        session_id=session.session_id,
        sender="coordinator",
        payload=decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE"),
        message_id=sent.message_id,
        timestamp_unix_ms=sent.timestamp_unix_ms,
    )
    assert sent == expected
    assert sent.timestamp_unix_ms > 1_700_000_000_000
    assert session.projection.transcript == [sent]


# Each decision action as (session method call, the same call of its payload builder): the
# generated methods construct plain-scalar payloads themselves (model.method_builds_payload)
# with the builders' field expressions, so they must send and refuse exactly alike.
_SENT_AND_BUILT: list[tuple[str, tuple[object, ...], dict[str, object]]] = [
    ("propose", ("p1", "deploy"), {"rationale": "r", "supporting_data": b"\x00"}),
    ("evaluate", ("p1", "review"), {"confidence": 0.25, "reason": "why"}),
    ("raise_objection", ("p1",), {"reason": "risky", "severity": "HIGH"}),
    ("vote", ("p1", "abstain"), {"reason": "later"}),
    ("vote", ("p1", "Approve"), {}),  # mixed case: normalised by the checks' slow path
]
_REFUSED: list[tuple[str, tuple[object, ...], dict[str, object]]] = [
    ("propose", (" ", "deploy"), {}),
    ("propose", ("p1", 7), {}),  # not a string: the protobuf constructor's TypeError
    ("evaluate", ("p1", "maybe"), {"confidence": 0.5}),
    ("evaluate", ("p1", "APPROVE"), {"confidence": 1.5}),
    ("evaluate", ("p1", "APPROVE"), {"confidence": float("nan")}),
    ("raise_objection", ("p1",), {"reason": "r", "severity": "fatal"}),
    ("vote", ("p1", "yes"), {}),
    ("vote", ("", "APPROVE"), {}),
    ("vote", ("p1", None), {}),
]


def _builder(method: str) -> Callable[..., Message]:
    name = {"raise_objection": "build_raise_objection_payload"}.get(
        method, f"build_{method}_payload"
    )
    return cast("Callable[..., Message]", getattr(decision_mode, name))


def test_session_methods_send_what_their_payload_builders_build() -> None:
    client = _Recorder()
    session = DecisionSession(client)  # type: ignore[arg-type]
    for method, args, kwargs in _SENT_AND_BUILT:
        getattr(session, method)(*args, **kwargs)
        built = _builder(method)(*args, **kwargs)
        assert client.sent[-1][0].payload == built.SerializeToString(), (method, args, kwargs)
    for method, args, kwargs in _REFUSED:
        with pytest.raises((MacpValidationError, TypeError)) as refused:
            getattr(session, method)(*args, **kwargs)
        with pytest.raises(refused.type) as built_refused:
            _builder(method)(*args, **kwargs)
        assert str(refused.value) == str(built_refused.value), (method, args, kwargs)
    assert len(client.sent) == len(_SENT_AND_BUILT)  # nothing went out for the refused calls


def test_send_payload_auth_order_and_sender_checks() -> None:
    client = _Recorder(AuthConfig.for_dev_agent("client"))
    session_auth = AuthConfig.for_dev_agent("session")
    session = DecisionSession(client, auth=session_auth)  # type: ignore[arg-type]
    session.vote("p1", "APPROVE")
    assert client.sent[-1][1] is session_auth and client.sent[-1][0].sender == "session"
    call_auth = AuthConfig.for_dev_agent("call")
    session.vote("p1", "APPROVE", auth=call_auth)
    assert client.sent[-1][1] is call_auth and client.sent[-1][0].sender == "call"
    with pytest.raises(MacpIdentityMismatchError):
        session.vote("p1", "APPROVE", sender="someone-else")
    anonymous = DecisionSession(_Recorder())  # type: ignore[arg-type]
    anonymous.vote("p1", "APPROVE")
    anonymous.vote("p1", "APPROVE", sender="explicit")
    assert [e.sender for e, _ in anonymous.client.sent] == ["", "explicit"]  # type: ignore[attr-defined]
    with pytest.raises(MacpValidationError, match="message_type"):
        session.send_payload(" ", decision_pb2.VotePayload(), sender=None, auth=None)
    with pytest.raises(TypeError, match="protobuf message"):
        session.send_payload("Vote", b"raw", sender=None, auth=None)  # type: ignore[arg-type]
    assert len(client.sent) == 2  # nothing went out for the refused calls


class _TakesPayload(VoteProjection):
    """A projection offering the payload fast path records what it was handed."""

    MODE: ClassVar[str] = MODE

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        self.handed: list[tuple[str, Message]] = []

    def _apply_sent(
        self,
        envelope: envelope_pb2.Envelope,
        payload: Message,
        mode: str,
        session_id: str,
        message_id: str,
        message_type: str,
        sender: str,
        timestamp_unix_ms: int,
    ) -> bool:
        self.handed.append((envelope.message_id, payload))
        # The header values handed along are the envelope's own, exactly.
        header = (
            envelope.mode,
            envelope.session_id,
            envelope.message_id,
            envelope.message_type,
            envelope.sender,
            envelope.timestamp_unix_ms,
        )
        assert (mode, session_id, message_id, message_type, sender, timestamp_unix_ms) == header
        return self.apply_envelope(envelope)


class _PayloadSession(VoteSession):
    PROJECTION_CLASS: ClassVar[type[BaseProjection]] = _TakesPayload


def test_accepted_sends_hand_the_projection_the_payload_they_built(client: MacpClient) -> None:
    session = _PayloadSession(client, auth=AuthConfig.for_dev_agent("coordinator"))
    session.start(intent="pick", participants=["coordinator", "alice"], ttl_ms=60_000)
    session.vote("p1", "APPROVE")
    projection = session.projection
    assert isinstance(projection, _TakesPayload)
    ids = [e.message_id for e in projection.transcript]
    assert [message_id for message_id, _ in projection.handed] == ids
    vote = projection.handed[1][1]
    assert isinstance(vote, decision_pb2.VotePayload) and vote.vote == "APPROVE"
    assert vote.SerializeToString() == projection.transcript[1].payload
    # Without the fast path the projection decodes the envelope (VoteSession's projection).
    plain = VoteSession(client, auth=AuthConfig.for_dev_agent("coordinator"))
    plain.start(intent="pick", participants=["coordinator", "alice"], ttl_ms=60_000)
    plain.vote("p1", "REJECT")
    assert isinstance(plain.projection, VoteProjection)
    assert plain.projection.votes == {"coordinator": "REJECT"}


def test_a_forked_child_never_reuses_its_parents_pooled_ids() -> None:
    new_message_id()  # the pool now holds ids formatted in this process
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave without running pytest's exit
        try:
            os.write(write, " ".join(new_message_id() for _ in range(3)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {new_message_id() for _ in range(3)}
    assert len(child) == 3 and not child & parent
