"""StreamSession semantics: binding, echo, replay windows, duplicates, ending conditions."""

from __future__ import annotations

import grpc
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2_grpc

from .helpers import DECISION, StreamClient, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub


def test_session_start_on_a_stream_echoes_and_duplicates_are_silent(stub: Stub) -> None:
    session_id = new_session_id()
    lead = StreamClient(stub, "lead")
    start = session_start(DECISION, session_id, "", ["alice"])
    lead.send(start)
    lead.send(start)  # duplicate: produces nothing
    lead.wait_for(1)  # the echo is the stream's only sign of acceptance
    first = envelope(DECISION, "Proposal", session_id, "alice",
                     decision_pb2.ProposalPayload(proposal_id="p1", option="x"))
    assert send(stub, first, "alice").ok
    lead.wait_for(2)
    lead.half_close()
    assert lead.wait_done() == grpc.StatusCode.OK
    echoed = lead.envelopes()
    assert [e.message_id for e in echoed] == [start.message_id, first.message_id]
    assert echoed[0].sender == "lead"  # the authenticated sender is filled in


def test_passive_subscribe_replays_after_the_given_ordinal(stub: Stub) -> None:
    session_id = new_session_id()
    start = session_start(DECISION, session_id, "lead", ["alice"])
    assert send(stub, start, "lead").ok
    ids = [start.message_id]
    for number in range(3):
        env = envelope(DECISION, "Proposal", session_id, "alice",
                       decision_pb2.ProposalPayload(proposal_id=f"p{number}", option="x"))
        assert send(stub, env, "alice").ok
        ids.append(env.message_id)
    late = StreamClient(stub, "lead")
    late.subscribe(session_id, after_sequence=2)  # ordinals are 1-based and exclusive
    late.wait_for(2)
    live = envelope(DECISION, "Proposal", session_id, "alice",
                    decision_pb2.ProposalPayload(proposal_id="live", option="x"))
    assert send(stub, live, "alice").ok
    late.wait_for(3)
    late.half_close()
    late.wait_done()
    assert [e.message_id for e in late.envelopes()] == [*ids[2:], live.message_id]


def test_a_stream_is_bound_to_one_session(stub: Stub) -> None:
    first, second = new_session_id(), new_session_id()
    for session_id in (first, second):
        assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
    stream = StreamClient(stub, "alice")
    stream.send(envelope(DECISION, "Proposal", first, "alice",
                         decision_pb2.ProposalPayload(proposal_id="p", option="x")))
    stream.wait_for(1)
    stream.send(envelope(DECISION, "Proposal", second, "alice",
                         decision_pb2.ProposalPayload(proposal_id="p", option="x")))
    assert stream.wait_done() == grpc.StatusCode.INVALID_ARGUMENT


def test_mode_errors_are_inline_and_spoofing_ends_the_stream(stub: Stub) -> None:
    session_id = new_session_id()
    assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
    stream = StreamClient(stub, "eve")
    stream.send(envelope(DECISION, "Proposal", session_id, "eve",
                         decision_pb2.ProposalPayload(proposal_id="p", option="x")))
    (forbidden,) = stream.wait_for(1)
    assert (forbidden.error.code, forbidden.error.session_id) == ("Forbidden", session_id)
    stream.send(envelope(DECISION, "Proposal", session_id, "alice",
                         decision_pb2.ProposalPayload(proposal_id="p", option="x")))
    assert stream.wait_done() == grpc.StatusCode.UNAUTHENTICATED
