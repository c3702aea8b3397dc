"""Participants in separate threads take sessions of several modes to their end, through the
agent API only (typed handlers, typed actions, the initiator's SessionStart and kickoff)."""

from __future__ import annotations

import threading

import pytest
from macp.v1 import envelope_pb2
from macp_sdk import MacpClient
from macp_sdk.agent import GrpcTransportAdapter, Participant
from macp_sdk.errors import MacpSessionError

from .helpers import JOIN_BOUND, make, no_threads_left_behind, run_in_threads
from .scenarios import LEAD, MEMBERS, SCENARIOS, initiator_config, wire


@pytest.mark.parametrize("name", ["decision", "quorum", "task", "multi_round"])
def test_participants_in_threads_take_a_session_to_its_end(
    name: str, session_id: str, clients: dict[str, MacpClient]
) -> None:
    scenario = SCENARIOS[name]
    participants = []
    for member in MEMBERS:
        initiator = initiator_config(name) if member == LEAD else None
        p = make(
            scenario.participant_class, member, session_id, clients, MEMBERS, initiator=initiator
        )
        wire(name, p)
        participants.append(p)
    # The non-initiators start first: they subscribe before the session exists.
    participants.sort(key=lambda p: p.participant_id == LEAD)

    with no_threads_left_behind():
        results = run_in_threads(participants)

    assert {k: r.state for k, r in results.items()} == dict.fromkeys(MEMBERS, "Committed")
    assert {r.commitment.action for r in results.values()} == {scenario.commit_action}
    metadata = clients[LEAD].get_session(session_id).metadata
    assert metadata.state == envelope_pb2.SESSION_STATE_RESOLVED
    for p in participants:
        assert p.projection.is_committed and p.is_stopped


def test_multi_round_needs_several_rounds(session_id: str, clients: dict[str, MacpClient]) -> None:
    participants = []
    for member in MEMBERS:
        initiator = initiator_config("multi_round") if member == LEAD else None
        p = make(
            SCENARIOS["multi_round"].participant_class,
            member,
            session_id,
            clients,
            MEMBERS,
            initiator=initiator,
        )
        wire("multi_round", p)
        participants.append(p)
    run_in_threads(participants)
    projection = participants[0].projection
    assert projection.agreed_value == "w"
    history = {m: projection.contribution_history(m) for m in MEMBERS}
    assert history["lead"] == ["x", "w"], history


def test_the_generic_participant_dispatches_by_message_type_with_the_mode_bound_classes(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    """0.22.0's style: `Participant(mode=...)`, `.on(type | '*')`, `.on_phase_change`; the
    actions and projection are still the generated ones for the mode."""
    seen: dict[str, list[str]] = {m: [] for m in MEMBERS}
    phases: list[str] = []
    participants = []
    for member in MEMBERS:
        initiator = initiator_config("decision") if member == LEAD else None
        p = make(
            Participant,
            member,
            session_id,
            clients,
            MEMBERS,
            initiator=initiator,
            mode=SCENARIOS["decision"].mode,
        )
        p.on("*", lambda m, ctx, me=member: seen[me].append(m.message_type))
        participants.append(p)
    lead, alice, bob = participants
    for voter in (alice, bob):
        voter.on("Proposal", lambda m, ctx: ctx.actions.vote(m.proposal_id, "APPROVE"))
    lead.on(
        "Vote",
        lambda m, ctx: (
            len(ctx.projection.votes_for("p1")) == 2
            and ctx.actions.commit("decision.approved", "release", reason="both approve")
        ),
    )
    lead.on_phase_change("*", lambda phase, ctx: phases.append(phase))

    results = run_in_threads(participants)

    assert type(lead.actions).__name__ == "DecisionActions"
    assert type(lead.projection).__name__ == "DecisionProjection"
    assert {r.state for r in results.values()} == {"Committed"}
    assert seen["bob"][:2] == ["SessionStart", "Proposal"]
    assert seen["bob"][-1] == "Commitment"
    assert phases == ["Evaluation", "Voting", "Committed"]


def test_a_typed_participant_refuses_another_mode(clients: dict[str, MacpClient]) -> None:
    with pytest.raises(MacpSessionError, match="macp.mode.decision.v1 participant"):
        SCENARIOS["decision"].participant_class(
            participant_id="alice",
            session_id="s" * 22,
            client=clients["alice"],
            mode="macp.mode.task.v1",
        )


def test_a_subscriber_that_starts_before_session_start_gets_everything(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    """alice subscribes first and is refused (NOT_FOUND: no such session yet); only then does
    the lead start the session. alice retries, replays SessionStart and the kickoff, votes."""
    decision = SCENARIOS["decision"]
    transport = GrpcTransportAdapter(clients["alice"], session_id)
    pair = ["lead", "alice"]
    alice = make(
        decision.participant_class, "alice", session_id, clients, pair, transport=transport
    )
    config = initiator_config("decision")
    config.participants = pair
    lead = make(decision.participant_class, "lead", session_id, clients, pair, initiator=config)
    seen: list[str] = []
    alice.on("*", lambda m, ctx: seen.append(m.message_type))
    alice.on_proposal(lambda record, ctx: ctx.actions.vote(record.proposal_id, "approve"))
    lead.on_vote(lambda record, ctx: ctx.actions.commit("decision.approved", "r", reason="ok"))

    early = threading.Thread(target=alice.run, name="agent-alice")
    early.start()
    try:
        refused = threading.Event()
        for _ in range(2000):
            if transport.retrying:
                break
            refused.wait(0.01)
        assert transport.retrying, "alice never saw the session missing"
        results = run_in_threads([lead])
    finally:
        early.join(JOIN_BOUND)
    assert not early.is_alive()
    assert results["lead"].state == "Committed"
    assert alice.terminal_result is not None and alice.terminal_result.state == "Committed"
    assert transport.subscribe_attempts >= 2
    assert seen == ["SessionStart", "Proposal", "Vote", "Commitment"]
