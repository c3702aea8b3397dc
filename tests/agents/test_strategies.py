"""0.22.0's strategies: end to end on the runtime, and their decisions on a projection."""

from __future__ import annotations

from typing import Any

from macp_sdk import DecisionProjection, MacpClient
from macp_sdk.agent import (
    CommitmentResult,
    EvaluationResult,
    SessionInfo,
    commitment_handler,
    evaluation_handler,
    function_committer,
    function_evaluator,
    majority_committer,
    majority_voter,
    voting_handler,
)
from macp_sdk.modes.decision import build_evaluate, build_propose, build_vote
from macp_sdk.participants.decision import DecisionParticipant

from .helpers import make, run_in_threads
from .scenarios import initiator_config

PAIR = ["lead", "alice"]


def test_strategy_handlers_take_a_decision_to_its_commitment(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    seen: list[dict[str, Any]] = []

    def judge(proposal: dict[str, Any], session: SessionInfo) -> EvaluationResult:
        seen.append(proposal)
        return EvaluationResult("APPROVE", 0.8, f"fine for {session.session_id[:4]}")

    config = initiator_config("decision")
    config.participants = PAIR
    lead = make(DecisionParticipant, "lead", session_id, clients, PAIR, initiator=config)
    alice = make(DecisionParticipant, "alice", session_id, clients, PAIR)
    alice.on("Proposal", evaluation_handler(function_evaluator(judge)))
    alice.on("Evaluation", voting_handler(majority_voter()))
    lead.on("Vote", commitment_handler(majority_committer(quorum_size=1, action="approved")))

    results = run_in_threads([alice, lead])

    assert seen == [{"proposal_id": "p1", "option": "ship v2"}]
    assert {r.state for r in results.values()} == {"Committed"}
    commitment = results["lead"].commitment
    assert commitment is not None and commitment.action == "approved"
    assert commitment.reason == "majority winner: p1" and commitment.outcome_positive
    assert [e.recommendation for e in lead.projection.evaluations] == ["APPROVE"]


def _projection(*envelopes: Any) -> DecisionProjection:
    projection = DecisionProjection("s" * 22)
    for envelope in envelopes:
        assert projection.apply_envelope(envelope), projection.anomalies
    return projection


def _env(builder: Any, sender: str, **fields: Any) -> Any:
    return builder(session_id="s" * 22, sender=sender, **fields)


def test_majority_voter_decides_from_evaluations_of_the_latest_proposal() -> None:
    voter = majority_voter(positive_threshold=0.6)
    empty = _projection()
    assert not voter.should_vote(empty)
    base = [
        _env(build_propose, "lead", proposal_id="p1", option="a"),
        _env(build_evaluate, "x", proposal_id="p1", recommendation="APPROVE", confidence=1.0),
        _env(build_evaluate, "y", proposal_id="p1", recommendation="REVIEW", confidence=1.0),
        _env(build_evaluate, "z", proposal_id="p1", recommendation="REJECT", confidence=1.0),
    ]
    projection = _projection(*base)
    assert voter.should_vote(projection)
    decision = voter.decide_vote(projection)
    assert decision.vote == "ABSTAIN" and decision.reason.startswith("1/2 ")  # REVIEW ignored
    only_review = _projection(base[0], base[2])
    assert not voter.should_vote(only_review)
    assert majority_voter().decide_vote(projection).vote == "APPROVE"  # 1/2 >= 50%


def test_majority_committer_counts_only_the_winners_votes() -> None:
    committer = majority_committer(quorum_size=2)
    envelopes = [
        _env(build_propose, "lead", proposal_id="p1", option="a"),
        _env(build_propose, "lead", proposal_id="p2", option="b"),
        _env(build_vote, "x", proposal_id="p1", vote="APPROVE"),
    ]
    projection = _projection(*envelopes)
    assert projection.majority_winner() == "p1" and not committer.should_commit(projection)
    projection = _projection(*envelopes, _env(build_vote, "y", proposal_id="p1", vote="APPROVE"))
    assert committer.should_commit(projection)
    result = committer.decide_commitment(projection)
    assert result == CommitmentResult("commit", "session", "majority winner: p1", True)


def test_function_committer_infers_the_outcome_from_the_action(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    config = initiator_config("decision")
    config.participants = PAIR
    lead = make(DecisionParticipant, "lead", session_id, clients, PAIR, initiator=config)
    alice = make(DecisionParticipant, "alice", session_id, clients, PAIR)
    alice.on_proposal(lambda record, ctx: ctx.actions.vote(record.proposal_id, "reject"))
    rejecting = function_committer(
        lambda projection: bool(projection.votes_for("p1")),
        lambda projection: CommitmentResult("proposal.rejected", "release", "rejected"),
    )
    lead.on("Vote", commitment_handler(rejecting))
    results = run_in_threads([alice, lead])
    commitment = results["alice"].commitment
    assert commitment is not None and commitment.outcome_positive is False
