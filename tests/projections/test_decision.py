"""Decision projection: phases, votes, the queries the seed's orchestrator calls."""

from __future__ import annotations

from macp.v1 import envelope_pb2
from macp_sdk.projections.decision import DecisionProjection

from .envelopes import DECISION, Feed, anomaly_kinds, apply_ok

ORCH, A, B, C = "agent://orch", "agent://a", "agent://b", "agent://c"


def started() -> tuple[DecisionProjection, Feed]:
    proj, feed = DecisionProjection(), Feed(DECISION)
    apply_ok(proj, feed.start(ORCH, [ORCH, A, B, C]))
    return proj, feed


def propose(feed: Feed, pid: str, sender: str = ORCH) -> envelope_pb2.Envelope:
    return feed.send(sender, "Proposal", proposal_id=pid, option=f"option-{pid}")


def test_phases_follow_the_runtime() -> None:
    proj, feed = started()
    assert proj.phase == "Proposal"
    apply_ok(proj, feed.send(ORCH, "Proposal", proposal_id="p1", option="deploy"))
    assert proj.phase == "Evaluation"
    apply_ok(
        proj,
        feed.send(A, "Evaluation", proposal_id="p1", recommendation="APPROVE", confidence=0.9),
        feed.send(B, "Objection", proposal_id="p1", reason="risky", severity="high"),
    )
    assert proj.phase == "Evaluation"
    apply_ok(proj, feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"))
    assert proj.phase == "Voting"
    # A late proposal (the runtime refuses it) never moves the phase back.
    apply_ok(proj, feed.send(B, "Proposal", proposal_id="p2", option="wait"))
    assert proj.phase == "Voting"
    assert not proj.is_committed and proj.outcome is None
    apply_ok(proj, feed.commit(ORCH, "decision.selected", True))
    assert proj.phase == "Committed"
    assert proj.is_committed and proj.outcome is True
    assert proj.committed_action == "decision.selected"
    apply_ok(proj, feed.send(C, "Vote", proposal_id="p1", vote="REJECT"))
    assert proj.phase == "Committed"  # terminal


def test_later_vote_replaces_earlier_and_is_an_anomaly() -> None:
    proj, feed = started()
    apply_ok(proj, propose(feed, "p1"))
    apply_ok(proj, feed.send(A, "Vote", proposal_id="p1", vote="REJECT"))
    apply_ok(proj, feed.send(A, "Vote", proposal_id="p1", vote="approve"))
    assert proj.votes["p1"][A].vote == "approve"
    assert proj.vote_counts("p1") == {"APPROVE": 1, "REJECT": 0, "ABSTAIN": 0}
    assert [r.vote for r in proj.vote_records["p1"]] == ["REJECT", "approve"]  # history kept
    assert anomaly_kinds(proj) == ["duplicate_vote"]
    assert proj.anomalies[0].subject_id == "p1" and proj.anomalies[0].sender == A
    # Voting on another proposal is not a duplicate.
    apply_ok(proj, propose(feed, "p2", B), feed.send(A, "Vote", proposal_id="p2", vote="APPROVE"))
    assert anomaly_kinds(proj) == ["duplicate_vote"]


def test_vote_totals_ratio_and_majority_winner() -> None:
    proj, feed = started()
    apply_ok(proj, propose(feed, "p1"), propose(feed, "p2", A), propose(feed, "p3", B))
    assert proj.vote_totals() == {} and proj.majority_winner() is None
    assert proj.vote_ratio("p1") == 0.0
    apply_ok(
        proj,
        feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"),
        feed.send(B, "Vote", proposal_id="p1", vote="APPROVE"),
        feed.send(C, "Vote", proposal_id="p2", vote="APPROVE"),
        feed.send(ORCH, "Vote", proposal_id="p1", vote="ABSTAIN"),
    )
    # p3 has no votes: absent, not zero.
    assert proj.vote_totals() == {"p1": 2, "p2": 1}
    assert proj.vote_ratio("p1") == 1.0  # the abstention is not in the denominator
    # 2 of 3 non-abstaining votes across all proposals: a strict majority.
    assert proj.majority_winner() == "p1"
    apply_ok(proj, feed.send(C, "Vote", proposal_id="p1", vote="REJECT"))
    assert proj.vote_ratio("p1") == 2 / 3
    # Now 2 of 4: half is not a majority.
    assert proj.majority_winner() is None


def test_blocking_objection_is_critical_only() -> None:
    proj, feed = started()
    apply_ok(proj, propose(feed, "p1"), propose(feed, "p2"))
    apply_ok(
        proj,
        feed.send(A, "Objection", proposal_id="p1", reason="meh", severity="high"),
        feed.send(B, "Objection", proposal_id="p2", reason="meh"),  # empty means medium
    )
    assert not proj.has_blocking_objection()
    apply_ok(proj, feed.send(C, "Objection", proposal_id="p2", reason="no", severity="CRITICAL"))
    assert proj.has_blocking_objection()
    assert proj.has_blocking_objection("p2") and not proj.has_blocking_objection("p1")
    assert [o.sender for o in proj.objections_for("p2")] == [B, C]


def test_seed_orchestrator_pattern() -> None:
    """The seed's code: winner = majority_winner(); commit unless it has a blocking objection."""
    proj, feed = started()
    apply_ok(proj, propose(feed, "p1"))
    for voter in (A, B, C):
        apply_ok(proj, feed.send(voter, "Vote", proposal_id="p1", vote="APPROVE"))
    winner = proj.majority_winner()
    assert winner == "p1" and not proj.has_blocking_objection(winner)
    apply_ok(proj, feed.send(A, "Objection", proposal_id="p1", reason="x", severity="critical"))
    assert proj.has_blocking_objection(winner)


def test_evaluations_qualifying_and_review() -> None:
    proj, feed = started()
    apply_ok(proj, propose(feed, "p1"))
    for sender, rec in ((A, "APPROVE"), (B, "review"), (C, "BLOCK")):
        apply_ok(
            proj,
            feed.send(sender, "Evaluation", proposal_id="p1", recommendation=rec, confidence=0.5),
        )
    assert [e.sender for e in proj.review_evaluations()] == [B]
    assert [e.sender for e in proj.qualifying_evaluations()] == [A, C]
    assert len(proj.evaluations_for("p1")) == 3 and proj.evaluations_for("p2") == []


def test_unknown_and_duplicate_proposals_are_noted() -> None:
    proj, feed = started()
    assert not proj.is_commit_eligible
    apply_ok(proj, feed.send(A, "Vote", proposal_id="ghost", vote="APPROVE"))
    assert anomaly_kinds(proj) == ["unknown_proposal"]
    assert proj.vote_totals() == {"ghost": 1}  # still a fact: the vote was accepted
    apply_ok(proj, propose(feed, "p1"))
    apply_ok(proj, feed.send(B, "Proposal", proposal_id="p1", option="other"))
    assert proj.proposals["p1"].option == "option-p1"
    assert anomaly_kinds(proj) == ["unknown_proposal", "duplicate_proposal"]
    assert proj.latest_proposal() is proj.proposals["p1"]
    assert proj.is_commit_eligible
