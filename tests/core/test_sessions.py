"""BaseSession, BaseProjection and the envelope helpers."""

from __future__ import annotations

from typing import ClassVar

import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk.auth import AuthConfig
from macp_sdk.base_projection import BaseProjection, ProjectionAnomaly
from macp_sdk.base_session import BaseSession
from macp_sdk.client import MacpClient
from macp_sdk.envelope import (
    build_commitment_payload,
    build_envelope,
    build_session_start_payload,
    infer_outcome_positive,
    is_valid_session_id,
    new_session_id,
    serialize_message,
    validate_session_id,
)
from macp_sdk.errors import (
    MacpIdentityMismatchError,
    MacpSessionNotOpenError,
    MacpValidationError,
)
from macp_sdk.retry import RetryPolicy

from .fake_runtime import RunningRuntime
from .test_client import MODE

HASH = "sha256:" + "ab" * 32


class VoteProjection(BaseProjection):
    """A tiny mode projection: first vote per sender wins, 'boom' votes raise."""

    MODE: ClassVar[str] = MODE

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        self.votes: dict[str, str] = {}

    def apply_mode_envelope(self, envelope: envelope_pb2.Envelope) -> None:
        vote = decision_pb2.VotePayload.FromString(envelope.payload)
        self.votes[envelope.sender] = vote.vote  # mutate first, to prove rollback
        self._set_phase("Voting")
        if vote.vote == "boom":
            raise ValueError("boom")


class VoteSession(BaseSession):
    MODE: ClassVar[str] = MODE
    PROJECTION_CLASS: ClassVar[type[BaseProjection]] = VoteProjection

    def vote(
        self,
        proposal_id: str,
        vote: str,
        *,
        sender: str | None = None,
        auth: AuthConfig | None = None,
    ) -> envelope_pb2.Ack:
        payload = decision_pb2.VotePayload(proposal_id=proposal_id, vote=vote)
        return self.send_payload("Vote", payload, sender=sender, auth=auth)


def env(
    sid: str,
    message_type: str,
    payload,
    *,
    sender: str = "alice",
    mode: str = MODE,  # type: ignore[no-untyped-def]
    message_id: str | None = None,
) -> envelope_pb2.Envelope:
    return build_envelope(
        mode=mode,
        message_type=message_type,
        session_id=sid,
        sender=sender,
        payload=payload,
        message_id=message_id,
    )


def test_session_lifecycle_updates_projection(client: MacpClient) -> None:
    session = VoteSession(client, auth=AuthConfig.for_dev_agent("coordinator"))
    assert is_valid_session_id(session.session_id)
    session.start(intent="pick", participants=["coordinator", "alice"], ttl_ms=60_000)
    session.vote("p1", "APPROVE")
    proj = session.projection
    assert isinstance(proj, VoteProjection)
    assert proj.votes == {"coordinator": "APPROVE"} and proj.phase == "Voting"
    assert session.metadata().metadata.initiator == "coordinator"
    ack = session.commit(
        action="decision.rejected",
        authority_scope="s",
        reason="r",
        supersedes=("other-session", HASH),
    )
    assert ack.session_state == envelope_pb2.SESSION_STATE_RESOLVED
    assert proj.is_committed and proj.phase == "Committed" and proj.is_positive_outcome is False
    assert proj.commitment is not None and proj.commitment.supersedes.commitment_hash == HASH
    assert [e.message_type for e in proj.transcript] == ["SessionStart", "Vote", "Commitment"]
    with pytest.raises(MacpSessionNotOpenError):
        session.vote("p1", "REJECT")
    assert len(proj.transcript) == 3  # a NACK leaves the projection alone


def test_session_identity_guard_and_given_ids(client: MacpClient) -> None:
    session = VoteSession(
        client, session_id=new_session_id(), auth=AuthConfig.for_dev_agent("coordinator")
    )
    with pytest.raises(MacpIdentityMismatchError, match="for_dev_agent\\('alice'\\)"):
        session.vote("p1", "APPROVE", sender="alice")
    with pytest.raises(MacpValidationError, match="session_id"):
        VoteSession(client, session_id="NOT-A-UUID")
    with pytest.raises(MacpValidationError, match="ttl_ms"):
        session.start(intent="x", participants=["a"], ttl_ms=0)


def test_session_control_and_stream(client: MacpClient) -> None:
    session = VoteSession(client, auth=AuthConfig.for_dev_agent("coordinator"))
    session.start(intent="pick", participants=["coordinator", "alice"], ttl_ms=60_000)
    with session.open_stream() as stream:  # subscribes after what the projection holds
        session.vote("p1", "APPROVE")
        got = stream.read(timeout=5.0)
        assert got is not None and got.message_type == "Vote"
    assert session.suspend().session_state == envelope_pb2.SESSION_STATE_SUSPENDED
    assert session.resume().session_state == envelope_pb2.SESSION_STATE_OPEN
    assert session.cancel(reason="stop").session_state == envelope_pb2.SESSION_STATE_CANCELLED


def test_session_retry_policy_is_used(client: MacpClient, runtime: RunningRuntime) -> None:
    session = VoteSession(
        client,
        auth=AuthConfig.for_dev_agent("coordinator"),
        retry=RetryPolicy(sleep=lambda _s: None),
    )
    runtime.runtime.send_script = ["UNAVAILABLE", "UNAVAILABLE"]
    assert session.start(intent="x", participants=["coordinator"], ttl_ms=1000).ok
    assert len(set(runtime.runtime.send_attempts)) == 1 and len(runtime.runtime.send_attempts) == 3


def test_projection_never_raises_and_rolls_back() -> None:
    sid = new_session_id()
    proj = VoteProjection(sid)
    start = build_session_start_payload(intent="i", participants=["alice", "bob"], ttl_ms=10)
    assert proj.apply_envelope(env(sid, "SessionStart", start))
    assert proj.participants == ["alice", "bob"]
    ok = env(sid, "Vote", decision_pb2.VotePayload(proposal_id="p", vote="APPROVE"))
    assert proj.apply_envelope(ok)
    assert not proj.apply_envelope(ok)  # duplicate message id
    assert not proj.apply_envelope(
        env(sid, "Vote", decision_pb2.VotePayload(vote="boom"), sender="bob")
    )
    assert proj.votes == {"alice": "APPROVE"}  # rolled back
    assert not proj.apply_envelope(env(sid, "Vote", b"\xff\xff\xff", sender="bob"))
    assert not proj.apply_envelope(env(new_session_id(), "Vote", decision_pb2.VotePayload()))
    assert not proj.apply_envelope(env(sid, "Vote", decision_pb2.VotePayload(), mode="other.mode"))
    kinds = [a.kind for a in proj.anomalies]
    assert kinds == [
        "duplicate_message",
        "rejected_envelope",
        "undecodable_payload",
        "foreign_session",
    ]
    assert isinstance(proj.anomalies[0], ProjectionAnomaly) and proj.has_anomalies
    assert len(proj.transcript) == 2


def test_terminal_phase_is_final() -> None:
    sid = new_session_id()
    proj = VoteProjection(sid)
    commit = build_commitment_payload(action="decision.approved", authority_scope="s", reason="r")
    assert proj.apply_envelope(env(sid, "Commitment", commit))
    assert proj.phase == "Committed" and proj.is_positive_outcome is True
    proj.apply_envelope(env(sid, "Vote", decision_pb2.VotePayload(vote="APPROVE"), sender="bob"))
    assert proj.phase == "Committed"
    cancelled = BaseProjection(sid, mode=MODE)
    assert cancelled.phase == "Pending"
    cancelled.apply_envelope(env(sid, "SessionCancel", core_pb2.SessionCancelPayload(reason="x")))
    assert cancelled.phase == "Cancelled" and cancelled.cancel_reason == "x"


def test_envelope_helpers() -> None:
    assert infer_outcome_positive("task.completed")
    assert not infer_outcome_positive("quorum.REJECTED")
    assert not infer_outcome_positive("handoff.declined")
    sid = new_session_id()
    assert sid == sid.lower() and validate_session_id(sid) == sid
    assert not is_valid_session_id(sid.upper())
    assert is_valid_session_id("A" * 22) and not is_valid_session_id("short")
    a = build_session_start_payload(
        intent="i", participants=["a"], ttl_ms=5, extensions={"x-b": b"2", "x-a": b"1"}
    )
    b = build_session_start_payload(
        intent="i", participants=["a"], ttl_ms=5, extensions={"x-a": b"1", "x-b": b"2"}
    )
    assert serialize_message(a) == serialize_message(b)
    e1 = build_envelope(
        mode=MODE,
        message_type="Vote",
        session_id=sid,
        payload=b"",
        message_id="m",
        timestamp_unix_ms=0,
    )
    assert e1.timestamp_unix_ms == 0 and e1.macp_version == "1.0"
    with pytest.raises(MacpValidationError) as info:
        build_session_start_payload(intent="i", participants=["a", "a"], ttl_ms=5)
    assert info.value.field == "participants" and info.value.value == "a"
    with pytest.raises(MacpValidationError, match="commitment_hash"):
        build_commitment_payload(
            action="x", authority_scope="", reason="", supersedes=("s", "sha256:nothex")
        )
    with pytest.raises(TypeError):
        serialize_message("not a message")  # type: ignore[arg-type]
