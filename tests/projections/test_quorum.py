"""Quorum projection: one ballot per sender, tallies, threshold facts."""

from __future__ import annotations

import math

import pytest
from macp_sdk.projections.quorum import QuorumProjection

from .envelopes import QUORUM, Feed, anomaly_kinds, apply_ok

COORD, AL, BO, CA, DI = "agent://coord", "agent://al", "agent://bo", "agent://ca", "agent://di"


def started(required: int = 2) -> tuple[QuorumProjection, Feed]:
    # The coordinator is not declared, so it is not a voter.
    proj, feed = QuorumProjection(), Feed(QUORUM)
    apply_ok(proj, feed.start(COORD, [AL, BO, CA, DI]))
    assert proj.phase == "Pending" and proj.threshold() == 0 and not proj.can_still_pass()
    apply_ok(
        proj,
        feed.send(
            COORD, "ApprovalRequest", request_id="r1", action="deploy", required_approvals=required
        ),
    )
    return proj, feed


def test_tallies_and_threshold() -> None:
    proj, feed = started()
    assert proj.phase == "Voting" and proj.request_id == "r1" and proj.threshold() == 2
    assert proj.eligible_voters == [AL, BO, CA, DI] and proj.can_still_pass()
    apply_ok(proj, feed.send(AL, "Approve", request_id="r1", reason="lgtm"))
    assert proj.approval_count() == 1 and proj.remaining_votes_needed() == 1
    assert not proj.threshold_reached and not proj.is_commit_eligible
    apply_ok(proj, feed.send(BO, "Abstain", request_id="r1"))
    apply_ok(proj, feed.send(CA, "Reject", request_id="r1"))
    assert (proj.approval_count(), proj.rejection_count(), proj.abstention_count()) == (1, 1, 1)
    assert proj.voted_senders() == [AL, BO, CA] and proj.pending_voters() == [DI]
    assert proj.ballots[BO].vote == "abstain" == proj.ballots[BO].choice  # the earlier name
    assert proj.can_still_pass()  # 1 approval + DI still to vote reaches 2
    apply_ok(proj, feed.send(DI, "Approve", request_id="r1"))
    assert proj.threshold_reached and proj.has_quorum("r1") and proj.commitment_ready()
    assert proj.is_commit_eligible and proj.remaining_votes_needed() == 0
    apply_ok(proj, feed.commit(COORD, "quorum.approved", True))
    assert proj.phase == "Committed" and not proj.commitment_ready()


def test_threshold_becomes_unreachable() -> None:
    proj, feed = started(required=3)
    apply_ok(proj, feed.send(AL, "Reject", request_id="r1"))
    assert proj.can_still_pass()
    apply_ok(proj, feed.send(BO, "Abstain", request_id="r1"))  # abstaining uses up a voter
    assert not proj.can_still_pass() and proj.is_threshold_unreachable()
    assert proj.is_commit_eligible and not proj.threshold_reached
    # The caller may ask with its own voter set, head count or (policy) threshold.
    assert proj.can_still_pass(eligible=[AL, BO, CA, DI, "agent://extra"])
    assert proj.can_still_pass(5)
    assert proj.can_still_pass(effective_threshold=2)
    assert proj.threshold(effective_threshold=2) == 2
    assert not proj.has_quorum(effective_threshold=2)


def test_effective_threshold_as_0_22_and_the_deprecated_required() -> None:
    proj, feed = started(required=3)
    apply_ok(proj, feed.send(AL, "Approve", request_id="r1"))
    apply_ok(proj, feed.send(BO, "Approve", request_id="r1"))
    # None is effective_quorum_threshold's "unsatisfiable": an infinite bar.
    assert proj.threshold("r1", effective_threshold=None) == math.inf
    assert proj.remaining_votes_needed(request_id="r1", effective_threshold=None) == math.inf
    assert not proj.has_quorum("r1", effective_threshold=None)
    assert proj.is_threshold_unreachable("r1", 4, effective_threshold=None)
    assert proj.has_quorum("r1", effective_threshold=2) and not proj.has_quorum("r1")
    assert proj.commitment_ready(request_id="r1", effective_threshold=2)
    assert proj.remaining_votes_needed("r1") == 1
    # 0.22.0's (request_id, total_eligible): 2 approvals + 2 voters left reach 3, not 5.
    assert not proj.is_threshold_unreachable("r1", 4)
    assert proj.is_threshold_unreachable(request_id="r1", total_eligible=4, effective_threshold=5)
    # Another request id knows nothing.
    assert proj.threshold("r9") == 0 and not proj.has_quorum("r9", effective_threshold=0)
    assert not proj.is_threshold_unreachable("r9", 4, effective_threshold=None)
    # This SDK's earlier calls still work: required= (deprecated) and total_eligible first.
    with pytest.warns(DeprecationWarning, match="effective_threshold"):
        assert proj.has_quorum(required=2)
    with pytest.warns(DeprecationWarning) as caught:
        assert proj.commit_eligible(required=2)
    assert len(caught) == 1  # one warning per call, however many queries it asks
    assert proj.is_threshold_unreachable(2, effective_threshold=5)
    assert not proj.is_threshold_unreachable([AL, BO, CA, DI])
    with pytest.raises(TypeError):
        proj.threshold(effective_threshold=2, required=2)
    with pytest.raises(TypeError):
        proj.is_threshold_unreachable(2, 3)


def test_one_ballot_per_sender_first_stands() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(AL, "Approve", request_id="r1"))
    apply_ok(proj, feed.send(AL, "Reject", request_id="r1"))
    apply_ok(proj, feed.send(AL, "Approve", request_id="r1"))
    assert proj.approval_count() == 1 and proj.rejection_count() == 0
    assert anomaly_kinds(proj) == ["duplicate_ballot", "duplicate_ballot"]
    assert {a.subject_id for a in proj.anomalies} == {"r1"}


def test_ballots_without_the_request_are_not_counted() -> None:
    proj, feed = QuorumProjection(), Feed(QUORUM)
    apply_ok(proj, feed.start(COORD, [AL, BO]))
    apply_ok(proj, feed.send(AL, "Approve", request_id="r1"))
    apply_ok(proj, feed.send(COORD, "ApprovalRequest", request_id="r1", required_approvals=1))
    apply_ok(proj, feed.send(BO, "Approve", request_id="r2"))
    apply_ok(proj, feed.send(COORD, "ApprovalRequest", request_id="r2", required_approvals=1))
    assert proj.ballots == {} and proj.request_id == "r1"
    assert anomaly_kinds(proj) == ["unknown_request", "unknown_request", "duplicate_request"]
    assert proj.approval_count("r2") == 0 and proj.voted_senders("r2") == []
