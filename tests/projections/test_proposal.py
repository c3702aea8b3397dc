"""Proposal projection: dispositions, counter-proposals, latest accepts, convergence."""

from __future__ import annotations

from macp.v1 import envelope_pb2
from macp_sdk.projections.proposal import ProposalProjection, WithdrawRecord

from .envelopes import PROPOSAL, Feed, anomaly_kinds, apply_ok

BUYER, SELLER, BROKER = "agent://buyer", "agent://seller", "agent://broker"


def started(participants: list[str] | None = None) -> tuple[ProposalProjection, Feed]:
    proj, feed = ProposalProjection(), Feed(PROPOSAL)
    apply_ok(proj, feed.start(BUYER, participants or [BUYER, SELLER]))
    return proj, feed


def accept(feed: Feed, sender: str, pid: str) -> envelope_pb2.Envelope:
    return feed.send(sender, "Accept", proposal_id=pid)


def test_convergence_needs_every_declared_participant() -> None:
    proj, feed = started()
    assert proj.phase == "Negotiating"
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer", tags=["x"]))
    p1 = proj.proposals["p1"]
    assert (p1.sender, p1.disposition, p1.tags, p1.is_counter) == (SELLER, "Live", ["x"], False)
    assert p1.status == "open"
    apply_ok(proj, accept(feed, BUYER, "p1"))
    assert proj.phase == "Negotiating" and not proj.is_converged
    assert proj.accepted_proposal() == "p1"  # all standing accepts agree, yet not converged
    assert proj.pending_acceptors("p1") == [SELLER]
    apply_ok(proj, accept(feed, SELLER, "p1"))  # the proposer counts too (all_parties)
    assert proj.phase == "Converged" and proj.converged_proposal() == "p1"
    assert proj.is_commit_eligible
    apply_ok(proj, feed.commit(BUYER, "proposal.accepted", True))
    assert proj.phase == "Committed"
    apply_ok(proj, feed.send(SELLER, "Withdraw", proposal_id="p1"))
    assert proj.phase == "Committed"


def test_undeclared_initiator_is_not_required() -> None:
    """The initiator is not implicitly a participant: only declared ones must accept."""
    proj, feed = started([SELLER, BROKER])
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    apply_ok(proj, accept(feed, SELLER, "p1"), accept(feed, BROKER, "p1"))
    assert proj.required_participants == [SELLER, BROKER]
    assert proj.is_converged
    # A caller applying another criterion (say, the counterparty only) passes its own set.
    assert proj.converged_proposal(required=[BROKER]) == "p1"


def test_latest_accept_wins_and_counter_proposals_supersede() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    apply_ok(proj, accept(feed, SELLER, "p1"))
    apply_ok(
        proj,
        feed.send(
            BUYER, "CounterProposal", proposal_id="p2", supersedes_proposal_id="p1", title="less"
        ),
    )
    p2 = proj.proposals["p2"]
    assert p2.is_counter and p2.supersedes == "p1" and p2.sender == BUYER
    assert proj.disposition("p1") == "Live"  # the countered proposal stays live
    assert proj.superseded_by("p1") == ["p2"] and list(proj.counter_proposals()) == ["p2"]
    apply_ok(proj, accept(feed, BUYER, "p2"), accept(feed, SELLER, "p2"))
    assert proj.accepts == {SELLER: "p2", BUYER: "p2"}
    assert proj.accepters_of("p1") == [] and proj.is_accepted("p2")
    assert proj.converged_proposal() == "p2"
    assert len(proj.accept_records["p1"]) == 1  # the superseded accept stays in the history
    assert proj.latest_proposal() is p2


def test_withdraw_drops_its_accepts_and_blocks_new_ones() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    apply_ok(proj, accept(feed, BUYER, "p1"), accept(feed, SELLER, "p1"))
    assert proj.phase == "Converged"
    apply_ok(proj, feed.send(SELLER, "Withdraw", proposal_id="p1", reason="sold"))
    assert proj.disposition("p1") == "Withdrawn"
    assert proj.accepts == {} and proj.phase == "Negotiating"
    assert list(proj.withdrawn_proposals()) == ["p1"] and proj.live_proposals() == {}
    apply_ok(proj, accept(feed, BUYER, "p1"))
    assert proj.accepts == {}
    assert anomaly_kinds(proj) == ["withdrawn_proposal"]


def test_terminal_rejection() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    apply_ok(proj, feed.send(BUYER, "Reject", proposal_id="p1", reason="too high"))
    assert proj.phase == "Negotiating" and not proj.has_terminal_rejection()
    assert len(proj.rejections_of("p1")) == 1
    apply_ok(proj, feed.send(BUYER, "Reject", proposal_id="p1", terminal=True))
    assert proj.phase == "TerminalRejected"
    assert proj.has_terminal_rejection() and proj.is_terminally_rejected("p1")
    assert proj.is_commit_eligible
    # Withdrawing the proposal removes its terminal rejections (runtime rule).
    apply_ok(proj, feed.send(SELLER, "Withdraw", proposal_id="p1"))
    assert proj.phase == "Negotiating" and not proj.has_terminal_rejection()
    assert not proj.is_commit_eligible


def test_unknowns_and_missing_session_start() -> None:
    proj, feed = ProposalProjection(), Feed(PROPOSAL)
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    apply_ok(proj, accept(feed, SELLER, "p1"))
    # Who is required is unknown without a SessionStart: never converged.
    assert proj.converged_proposal() is None and proj.phase == "Negotiating"
    apply_ok(proj, accept(feed, BUYER, "nope"))
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="again"))
    assert anomaly_kinds(proj) == ["unknown_proposal", "duplicate_proposal"]
    assert proj.proposals["p1"].title == "offer"


class FailsAfterWithdraw(ProposalProjection):
    def on_withdraw(self, record: WithdrawRecord) -> None:
        super().on_withdraw(record)
        raise RuntimeError("hook failed")


def test_a_failing_hook_rolls_back_the_status_change() -> None:
    """`status` changes replace the state in `proposals`, so rollback undoes them too."""
    proj, feed = FailsAfterWithdraw(), Feed(PROPOSAL)
    apply_ok(proj, feed.start(BUYER, [BUYER, SELLER]))
    apply_ok(proj, feed.send(SELLER, "Proposal", proposal_id="p1", title="offer"))
    before = proj.proposals["p1"]
    proj.apply_envelope(feed.send(SELLER, "Withdraw", proposal_id="p1"))
    assert anomaly_kinds(proj) == ["rejected_envelope"]
    assert proj.proposals["p1"] is before and before.status == "open"
