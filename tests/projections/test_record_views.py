"""The record indexes (`vote_records`, `latest_by_sender`, ...) are live views of the record log.

They are built when read, not when a record is filed; each read must nevertheless give exactly
what eager per-envelope bookkeeping gave: the same keys, values and order, live for a holder,
current for a hook mid-envelope, and exact after a rollback (even one that cut records the
view had already indexed, then refilled the log to the same length).
"""

from __future__ import annotations

import copy
import gc
import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from macp_sdk.projections.decision import (
    DecisionProjection,
    EvaluationRecord,
    ProposalRecord,
    VoteRecord,
)

from .envelopes import DECISION, Feed, apply_ok

ORCH, A, B, C = "agent://orch", "agent://a", "agent://b", "agent://c"


def _eager(projection: DecisionProjection) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """What eager bookkeeping would hold: votes by proposal, latest record by sender."""
    votes: dict[str, list[Any]] = {}
    latest: dict[str, Any] = {}
    for envelope in projection.transcript:
        if envelope.message_type == "Vote":
            vote = VoteRecord.decode(envelope)
            votes.setdefault(vote.proposal_id, []).append(vote)
            latest[vote.sender] = vote
        elif envelope.message_type == "Proposal":
            latest[envelope.sender] = ProposalRecord.decode(envelope)
        elif envelope.message_type == "Evaluation":
            latest[envelope.sender] = EvaluationRecord.decode(envelope)
    return votes, latest


def test_a_view_held_between_envelopes_stays_live() -> None:
    feed, projection = Feed(DECISION), DecisionProjection()
    apply_ok(projection, feed.start(ORCH, [ORCH, A, B]))
    votes, latest = projection.vote_records, projection.latest_by_sender
    assert dict(votes) == {} and len(latest) == 0
    apply_ok(projection, feed.send(ORCH, "Proposal", proposal_id="p1", option="x"))
    apply_ok(projection, feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"))
    held = votes["p1"]
    apply_ok(projection, feed.send(B, "Vote", proposal_id="p1", vote="REJECT"))
    # A list taken out of a view is caught up when the view is next read (the same list).
    assert votes["p1"] is held and [r.vote for r in held] == ["APPROVE", "REJECT"]
    assert list(latest) == [ORCH, A, B] and latest[B].vote == "REJECT"
    assert "p1" in votes and "p2" not in votes and len(votes) == 1


def test_a_hook_mid_envelope_sees_the_record_just_filed() -> None:
    seen: list[tuple[int, str]] = []

    class Reading(DecisionProjection):
        def on_vote(self, record: VoteRecord) -> None:
            super().on_vote(record)
            current = self.vote_records[record.proposal_id]
            seen.append((len(current), self.latest_by_sender[record.sender].vote))

    feed, projection = Feed(DECISION), Reading()
    apply_ok(projection, feed.start(ORCH, [ORCH, A, B]))
    apply_ok(projection, feed.send(ORCH, "Proposal", proposal_id="p1", option="x"))
    apply_ok(projection, feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"))
    apply_ok(projection, feed.send(B, "Vote", proposal_id="p1", vote="REJECT"))
    assert seen == [(1, "APPROVE"), (2, "REJECT")]


def test_a_rollback_after_a_hook_read_the_views_leaves_them_exact() -> None:
    class ReadThenFail(DecisionProjection):
        def on_vote(self, record: VoteRecord) -> None:
            super().on_vote(record)
            assert self.vote_records[record.proposal_id][-1] is record
            assert self.latest_by_sender[record.sender] is record
            if record.vote == "BOOM":
                raise RuntimeError("no")

    feed, projection = Feed(DECISION), ReadThenFail()
    apply_ok(projection, feed.start(ORCH, [ORCH, A, B, C]))
    apply_ok(projection, feed.send(ORCH, "Proposal", proposal_id="p1", option="x"))
    apply_ok(projection, feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"))
    before = copy.deepcopy((dict(projection.vote_records), dict(projection.latest_by_sender)))
    order = list(projection.latest_by_sender)
    # A new sender (added last to latest_by_sender), an existing one, a new proposal.
    for sender, pid in ((C, "p1"), (A, "p1"), (B, "p2")):
        assert not projection.apply_envelope(
            feed.send(sender, "Vote", proposal_id=pid, vote="BOOM")
        )
        assert (dict(projection.vote_records), dict(projection.latest_by_sender)) == before
        assert list(projection.latest_by_sender) == order
    # Refill the log to the very length the view had indexed before the rollback.
    apply_ok(projection, feed.send(C, "Vote", proposal_id="p1", vote="REJECT"))
    assert [r.vote for r in projection.vote_records["p1"]] == ["APPROVE", "REJECT"]
    assert list(projection.latest_by_sender) == [ORCH, A, C]


def test_views_copy_pickle_and_compare_like_the_dicts_they_replace() -> None:
    feed, projection = Feed(DECISION), DecisionProjection()
    apply_ok(projection, feed.start(ORCH, [ORCH, A]))
    apply_ok(projection, feed.send(ORCH, "Proposal", proposal_id="p1", option="x"))
    apply_ok(projection, feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"))
    copied = copy.deepcopy(projection)
    apply_ok(copied, feed.send(ORCH, "Proposal", proposal_id="p2", option="y"))
    assert list(copied.proposal_records) == ["p1", "p2"]
    assert list(projection.proposal_records) == ["p1"]  # the copy has its own log
    restored = pickle.loads(pickle.dumps(projection))
    assert restored.vote_records == projection.vote_records
    assert projection.vote_records == {"p1": projection.vote_records["p1"]}
    assert projection.objection_records == {} and projection.vote_records != {}
    assert repr(projection.objection_records) == "{}"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Proposal", "Evaluation", "Vote", "Boom"]),
            st.sampled_from([A, B, C]),
            st.sampled_from(["p1", "p2", "p3"]),
            st.booleans(),  # read the views after this envelope?
        ),
        max_size=25,
    )
)
def test_views_equal_eager_bookkeeping_whatever_is_read_when(
    steps: list[tuple[str, str, str, bool]],
) -> None:
    class Failing(DecisionProjection):
        def on_vote(self, record: VoteRecord) -> None:
            super().on_vote(record)
            if record.vote == "BOOM":
                raise RuntimeError("no")

    feed, projection = Feed(DECISION), Failing()
    apply_ok(projection, feed.start(ORCH, [ORCH, A, B, C]))
    for kind, sender, pid, read in steps:
        if kind == "Proposal":
            projection.apply_envelope(feed.send(sender, kind, proposal_id=pid, option="o"))
        elif kind == "Evaluation":
            projection.apply_envelope(
                feed.send(sender, kind, proposal_id=pid, recommendation="APPROVE")
            )
        else:
            vote = "BOOM" if kind == "Boom" else "APPROVE"
            projection.apply_envelope(feed.send(sender, "Vote", proposal_id=pid, vote=vote))
        if read:
            votes, latest = _eager(projection)
            assert dict(projection.vote_records) == votes
            assert list(projection.latest_by_sender.items()) == list(latest.items())
    votes, latest = _eager(projection)
    assert dict(projection.vote_records) == votes
    assert list(projection.latest_by_sender.items()) == list(latest.items())


def test_filing_a_record_allocates_no_container_per_subject() -> None:
    # The cost the views exist to remove (a list per subject per record class, all of it
    # garbage-collector work): counted in objects, not time.
    from macp_sdk.projections._decision_base import DecisionProjectionBase

    class Bare(DecisionProjectionBase):  # the generated base's own bookkeeping only
        pass

    feed, projection = Feed(DECISION), Bare()
    apply_ok(projection, feed.start(ORCH, [ORCH, A]))
    envelopes = []
    for index in range(500):
        pid = f"p{index}"
        envelopes.append(feed.send(ORCH, "Proposal", proposal_id=pid, option="o"))
        envelopes.append(feed.send(A, "Vote", proposal_id=pid, vote="APPROVE"))
    gc.collect()
    before = len(gc.get_objects())
    apply_ok(projection, *envelopes)
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert grown <= len(envelopes) + 50  # one record per envelope, nothing per subject
    assert len(projection.proposal_records) == len(projection.vote_records) == 500
