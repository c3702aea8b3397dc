"""TTL with an injected clock, suspend/resume banking, duplicates, and identity checks."""

from __future__ import annotations

import grpc
import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
from macp_sdk.local_runtime import (
    LocalRuntime,
    ManualClock,
    RateLimits,
    RuntimeConfig,
    StaticToken,
)

from .helpers import DECISION, commitment, creds, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
OPEN = envelope_pb2.SESSION_STATE_OPEN
EXPIRED = envelope_pb2.SESSION_STATE_EXPIRED
SUSPENDED = envelope_pb2.SESSION_STATE_SUSPENDED
RESOLVED = envelope_pb2.SESSION_STATE_RESOLVED
PEOPLE = ["alice", "bob"]


def start(stub: Stub, ttl_ms: int = 10_000, **extra: object) -> str:
    session_id = new_session_id()
    ack = send(stub, session_start(DECISION, session_id, "lead", PEOPLE, ttl_ms, **extra), "lead")
    assert ack.ok and ack.session_state == OPEN, ack.error
    return session_id


def propose(stub: Stub, session_id: str, proposal_id: str, message_id: str | None = None
            ) -> envelope_pb2.Ack:
    payload = decision_pb2.ProposalPayload(proposal_id=proposal_id, option="x")
    env = envelope(DECISION, "Proposal", session_id, "alice", payload, message_id)
    return send(stub, env, "alice")


def state(stub: Stub, session_id: str) -> core_pb2.SessionMetadata:
    request = core_pb2.GetSessionRequest(session_id=session_id)
    metadata: core_pb2.SessionMetadata = stub.GetSession(request, metadata=creds("lead")).metadata
    return metadata


def control(stub: Stub, rpc: str, session_id: str, who: str = "lead") -> envelope_pb2.Ack:
    request_class = {
        "CancelSession": core_pb2.CancelSessionRequest,
        "SuspendSession": core_pb2.SuspendSessionRequest,
        "ResumeSession": core_pb2.ResumeSessionRequest,
    }[rpc]
    response = getattr(stub, rpc)(request_class(session_id=session_id), metadata=creds(who))
    ack: envelope_pb2.Ack = response.ack
    return ack


# ---- TTL ---------------------------------------------------------------------------------


def test_ttl_expires_strictly_after_the_deadline(stub: Stub, clock: ManualClock) -> None:
    session_id = start(stub, ttl_ms=1_000)
    clock.advance(1_000)
    assert propose(stub, session_id, "p1").ok  # now == deadline is still in time
    clock.advance(1)
    late = propose(stub, session_id, "p2")
    assert (late.ok, late.error.code, late.error.message) == (
        False, "SESSION_NOT_OPEN", "TtlExpired"
    )
    later = propose(stub, session_id, "p3")
    assert (later.error.code, later.error.message) == ("SESSION_NOT_OPEN", "SessionNotOpen")
    assert state(stub, session_id).state == EXPIRED


def test_ttl_is_anchored_on_the_start_timestamp(stub: Stub, clock: ManualClock) -> None:
    session_id = new_session_id()
    anchor = clock.now_ms() - 9_000  # the client says it started 9 s ago
    env = session_start(DECISION, session_id, "lead", PEOPLE, 10_000, timestamp_ms=anchor)
    assert send(stub, env, "lead").ok
    assert state(stub, session_id).expires_at_unix_ms == anchor + 10_000
    clock.advance(1_001)
    assert propose(stub, session_id, "p1").error.message == "TtlExpired"


def test_get_session_expires_lazily_and_sweep_expires_proactively(
    runtime: LocalRuntime, stub: Stub, clock: ManualClock
) -> None:
    lazy, swept = start(stub, ttl_ms=100), start(stub, ttl_ms=100)
    clock.advance(101)
    assert state(stub, lazy).state == EXPIRED
    assert runtime.sweep().expired == 1
    assert state(stub, swept).state == EXPIRED


# ---- Suspend / resume --------------------------------------------------------------------


def test_suspend_and_resume_bank_the_remaining_ttl(stub: Stub, clock: ManualClock) -> None:
    session_id = start(stub, ttl_ms=10_000)
    deadline = state(stub, session_id).expires_at_unix_ms
    clock.advance(4_000)
    assert control(stub, "SuspendSession", session_id).session_state == SUSPENDED
    rejected = propose(stub, session_id, "p1")
    assert rejected.error.code == "SESSION_NOT_OPEN"
    assert control(stub, "SuspendSession", session_id).error.code == "SESSION_NOT_OPEN"
    clock.advance(100_000)  # far past the original deadline while suspended
    resumed = control(stub, "ResumeSession", session_id)
    assert resumed.ok and resumed.session_state == OPEN and resumed.message_id == ""
    assert state(stub, session_id).expires_at_unix_ms == deadline + 100_000
    assert control(stub, "ResumeSession", session_id).error.code == "SESSION_NOT_OPEN"
    clock.advance(6_000)
    assert propose(stub, session_id, "p1", message_id="m-p1").ok  # exactly at the new deadline
    clock.advance(1)
    assert propose(stub, session_id, "p2").error.message == "TtlExpired"


def test_resume_past_the_suspend_cap_expires(stub: Stub, clock: ManualClock) -> None:
    session_id = start(stub, max_suspend_ms=5_000)
    assert control(stub, "SuspendSession", session_id).ok
    clock.advance(5_001)
    ack = control(stub, "ResumeSession", session_id)
    assert (ack.ok, ack.error.code, ack.error.message) == (False, "SESSION_NOT_OPEN", "TtlExpired")
    assert state(stub, session_id).state == EXPIRED


def test_cancel_is_gated_and_idempotent(stub: Stub) -> None:
    session_id = start(stub)
    with pytest.raises(grpc.RpcError) as denied:
        control(stub, "CancelSession", session_id, who="alice")
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as missing:
        control(stub, "CancelSession", new_session_id())
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    first = control(stub, "CancelSession", session_id)
    again = control(stub, "CancelSession", session_id)
    assert first.ok and again.ok
    assert first.session_state == again.session_state == envelope_pb2.SESSION_STATE_CANCELLED
    assert propose(stub, session_id, "p1").error.code == "SESSION_NOT_OPEN"


# ---- Duplicates --------------------------------------------------------------------------


def test_duplicate_message_ids(stub: Stub) -> None:
    session_id = start(stub)
    first = propose(stub, session_id, "p1", message_id="m1")
    again = propose(stub, session_id, "p1", message_id="m1")
    assert first.ok and not first.duplicate
    assert again.ok and again.duplicate and again.session_state == OPEN
    # A rejected message does not use up its id: the same id can be resent fixed.
    bad = send(stub, envelope(DECISION, "Vote", session_id, "alice",
                              decision_pb2.VotePayload(proposal_id="p1", vote="MAYBE"), "m2"),
               "alice")
    assert bad.error.code == "INVALID_ENVELOPE"
    good = send(stub, envelope(DECISION, "Vote", session_id, "alice",
                               decision_pb2.VotePayload(proposal_id="p1", vote="approve"), "m2"),
                "alice")
    assert good.ok and not good.duplicate
    done = send(stub, envelope(DECISION, "Commitment", session_id, "lead",
                               commitment("decision.selected", True)), "lead")
    assert done.session_state == RESOLVED
    # Dedup runs before the open check: a retry after resolution is still a duplicate.
    retry = propose(stub, session_id, "p1", message_id="m1")
    assert retry.ok and retry.duplicate and retry.session_state == RESOLVED


def test_session_start_duplicate_versus_already_exists(stub: Stub) -> None:
    session_id = new_session_id()
    env = session_start(DECISION, session_id, "lead", PEOPLE, message_id="start-1")
    assert send(stub, env, "lead").ok
    assert send(stub, env, "lead").duplicate
    other = session_start(DECISION, session_id, "lead", PEOPLE, message_id="start-2")
    assert send(stub, other, "lead").error.code == "SESSION_ALREADY_EXISTS"


# ---- Identity ----------------------------------------------------------------------------


def test_sender_mismatch_is_unauthenticated(stub: Stub) -> None:
    session_id = start(stub)
    env = envelope(DECISION, "Proposal", session_id, "mallory",
                   decision_pb2.ProposalPayload(proposal_id="p1", option="x"))
    ack = send(stub, env, "alice")
    assert (ack.ok, ack.error.code, ack.error.message) == (
        False, "UNAUTHENTICATED", "Unauthenticated"
    )
    assert ack.error.session_id == session_id and ack.error.message_id == env.message_id


def test_missing_credentials_and_header_variants(stub: Stub) -> None:
    session_id = new_session_id()
    env = session_start(DECISION, session_id, "", PEOPLE)
    no_creds = stub.Send(core_pb2.SendRequest(envelope=env)).ack
    assert no_creds.error.code == "UNAUTHENTICATED"
    agent_id = stub.Send(core_pb2.SendRequest(envelope=env),
                         metadata=(("x-macp-agent-id", "lead"),)).ack
    assert agent_id.error.code == "UNAUTHENTICATED"  # not a header this runtime honours
    fallback = stub.Send(core_pb2.SendRequest(envelope=env),
                         metadata=(("x-macp-token", "lead"),)).ack
    assert fallback.ok
    assert state(stub, session_id).initiator == "lead"  # the empty sender was filled in


def test_static_tokens_bind_senders_and_rights(clock: ManualClock) -> None:
    tokens = [
        StaticToken(token="t-lead", sender="lead"),
        StaticToken(token="t-alice", sender="alice", can_start_sessions=False),
    ]
    config = RuntimeConfig(clock=clock, auth_tokens=tokens, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        session_id = new_session_id()
        assert send(stub, session_start(DECISION, session_id, "", PEOPLE), "lead"
                    ).error.code == "UNAUTHENTICATED"  # "lead" is not a token here
        denied = send(stub, session_start(DECISION, session_id, "", PEOPLE), "t-alice")
        assert denied.error.code == "FORBIDDEN"
        assert send(stub, session_start(DECISION, session_id, "lead", PEOPLE), "t-lead").ok
        ack = send(stub, envelope(DECISION, "Proposal", session_id, "",
                                  decision_pb2.ProposalPayload(proposal_id="p1", option="x")),
                   "t-alice")
        assert ack.ok


def test_rate_limits_are_off_by_default_and_configurable(stub: Stub, clock: ManualClock) -> None:
    for _ in range(70):  # more than the reference's 60 starts a minute
        start(stub)
    config = RuntimeConfig(clock=clock, rate_limits=RateLimits(2, 600), sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        limited = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        start(limited)
        start(limited)
        third = send(limited, session_start(DECISION, new_session_id(), "lead", PEOPLE), "lead")
        assert third.error.code == "RATE_LIMITED"
        clock.advance(60_000)  # the window slides
        start(limited)


def test_max_open_sessions_caps_a_static_identity(clock: ManualClock) -> None:
    tokens = [StaticToken(token="t", sender="lead", max_open_sessions=1)]
    config = RuntimeConfig(clock=clock, auth_tokens=tokens, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        capped = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        assert send(capped, session_start(DECISION, new_session_id(), "", PEOPLE), "t").ok
        second = send(capped, session_start(DECISION, new_session_id(), "", PEOPLE), "t")
        assert second.error.code == "RATE_LIMITED"
