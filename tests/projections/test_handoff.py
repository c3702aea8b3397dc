"""Handoff projection: offer dispositions, settle-once, contexts, who can be offered next."""

from __future__ import annotations

import copy

from macp_sdk.projections.handoff import (
    HandoffAcceptRecord,
    HandoffOfferState,
    HandoffProjection,
    HandoffRecord,
)

from .envelopes import HANDOFF, Feed, anomaly_kinds, apply_ok, state_of

OWNER, T1, T2, OUT = "agent://owner", "agent://t1", "agent://t2", "agent://out"


def started() -> tuple[HandoffProjection, Feed]:
    proj, feed = HandoffProjection(), Feed(HANDOFF)
    apply_ok(proj, feed.start(OWNER, [OWNER, T1, T2]))
    return proj, feed


def test_offer_context_accept() -> None:
    proj, feed = started()
    assert proj.can_offer_to(T1) and not proj.can_offer_to(OWNER) and not proj.can_offer_to(OUT)
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T1))
    assert proj.phase == "OfferPending" and proj.disposition("h1") == "Offered"
    assert proj.active_offer() is proj.offers["h1"] and not proj.can_offer_to(T2)
    h1 = proj.handoffs["h1"]
    assert (h1.status, h1.sender, h1.offerer, h1.context_content_type) == (
        "offered",
        OWNER,
        OWNER,
        None,
    )
    apply_ok(
        proj,
        feed.send(OWNER, "HandoffContext", handoff_id="h1", content_type="text/md", context=b"n"),
    )
    assert proj.phase == "ContextSharing"
    assert (h1.status, h1.disposition, h1.context_content_type) == (
        "context_sent",
        "Offered",
        "text/md",
    )
    assert not proj.is_commit_eligible
    # accepted_by is the payload's, as in 0.22.0 ("" when left empty; only the target settles).
    apply_ok(proj, feed.send(T1, "HandoffAccept", handoff_id="h1", reason="ok"))
    assert proj.offers["h1"] is h1  # updated in place: a held record moves with the session
    assert (h1.status, h1.disposition, h1.accepted_by, h1.settle_reason) == (
        "accepted",
        "Accepted",
        "",
        "ok",
    )
    assert h1.declined_by is None and h1.target_participant == T1
    assert proj.phase == "Accepted" and proj.is_accepted("h1") and proj.has_accepted_offer()
    assert proj.accepted_offer() is h1 and proj.active_offer() is None
    assert not proj.can_offer_to(T2)  # no offers once one is accepted
    assert proj.is_commit_eligible and not proj.is_implicitly_accepted("h1")
    # Late context is supplementary: recorded, phase untouched.
    apply_ok(
        proj,
        feed.send(OWNER, "HandoffContext", handoff_id="h1", content_type="x/late", context=b"l"),
    )
    assert [c.context for c in proj.contexts_for("h1")] == [b"n", b"l"]
    assert proj.phase == "Accepted"
    assert (h1.status, h1.context_content_type) == ("accepted", "x/late")


def test_settles_only_once() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T1))
    apply_ok(proj, feed.send(T1, "HandoffDecline", handoff_id="h1", reason="no"))
    before = proj.offers["h1"]
    apply_ok(proj, feed.send(T1, "HandoffAccept", handoff_id="h1"))
    assert proj.offers["h1"] is before and proj.is_declined("h1")
    assert anomaly_kinds(proj) == ["settled_handoff"]
    assert proj.anomalies[0].subject_id == "h1"


def test_decline_then_new_offer_to_someone_else() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T1))
    apply_ok(proj, feed.send(T1, "HandoffDecline", handoff_id="h1", declined_by=T1))
    assert proj.phase == "Declined" and proj.declined_targets() == [T1]
    assert (proj.handoffs["h1"].status, proj.handoffs["h1"].declined_by) == ("declined", T1)
    assert proj.handoffs["h1"].accepted_by is None
    assert proj.is_commit_eligible  # a decline settles an offer too
    assert not proj.can_offer_to(T1) and proj.can_offer_to(T2)
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h2", target_participant=T2))
    assert proj.phase == "OfferPending"
    assert [o.handoff_id for o in proj.pending_handoffs()] == ["h2"]


def test_implicit_accept_and_unknown_ids() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(T1, "HandoffAccept", handoff_id="h0"))
    apply_ok(proj, feed.send(OWNER, "HandoffContext", handoff_id="h0"))
    assert anomaly_kinds(proj) == ["unknown_handoff", "unknown_handoff"]
    assert proj.offers == {} and proj.contexts == [] and proj.phase == "Pending"
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T1))
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T2))
    assert proj.offers["h1"].target_participant == T1
    apply_ok(proj, feed.send(T1, "HandoffAccept", handoff_id="h1", implicit=True))
    assert proj.is_implicitly_accepted("h1")
    assert anomaly_kinds(proj)[-1] == "duplicate_handoff"


def test_a_failing_hook_leaves_the_handoff_record_as_it_was() -> None:
    class Fails(HandoffProjection):
        def on_accept_handoff(self, record: HandoffAcceptRecord) -> None:
            super().on_accept_handoff(record)
            raise RuntimeError("after the record moved")

    proj, feed = Fails(), Feed(HANDOFF)
    apply_ok(proj, feed.start(OWNER, [OWNER, T1, T2]))
    apply_ok(proj, feed.send(OWNER, "HandoffOffer", handoff_id="h1", target_participant=T1))
    record = proj.handoffs["h1"]
    before = copy.deepcopy(state_of(proj))
    accept = feed.send(T1, "HandoffAccept", handoff_id="h1", accepted_by=T1, reason="ok")
    assert not proj.apply_envelope(accept)
    assert anomaly_kinds(proj) == ["rejected_envelope"]
    assert (record.status, record.accepted_by, record.settle_reason) == ("offered", None, "")
    assert state_of(proj) == before and proj.handoffs["h1"] is record


def test_the_record_has_0_22s_constructor_and_our_views() -> None:
    record = HandoffRecord("h1", T1, "scope", "why", OWNER, "context_sent", "a/b", None, None)
    assert record.implicit is False and record.settle_reason == ""
    assert (record.offerer, record.disposition, record.is_pending) == (OWNER, "Offered", True)
    assert HandoffOfferState is HandoffRecord
