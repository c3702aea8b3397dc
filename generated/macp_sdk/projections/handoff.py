"""Handoff projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..facts.handoff import ANOMALY_SETTLED_HANDOFF
from ._handoff_base import (
    HandoffAcceptRecord,
    HandoffContextRecord,
    HandoffDeclineRecord,
    HandoffOfferRecord,
    HandoffProjectionBase,
)

__all__ = [
    "ANOMALY_DUPLICATE_HANDOFF",
    "ANOMALY_UNKNOWN_HANDOFF",
    "DISPOSITION_ACCEPTED",
    "DISPOSITION_DECLINED",
    "DISPOSITION_OFFERED",
    "PHASE_ACCEPTED",
    "PHASE_CONTEXT_SHARING",
    "PHASE_DECLINED",
    "PHASE_OFFER_PENDING",
    "STATUS_ACCEPTED",
    "STATUS_CONTEXT_SENT",
    "STATUS_DECLINED",
    "STATUS_OFFERED",
    "HandoffOfferState",
    "HandoffProjection",
    "HandoffRecord",
]

# The runtime's offer dispositions.
DISPOSITION_OFFERED = "Offered"
DISPOSITION_ACCEPTED = "Accepted"
DISPOSITION_DECLINED = "Declined"

# Phases (the runtime keeps none for handoff; these follow macp-sdk-python 0.22.0).
PHASE_OFFER_PENDING = "OfferPending"
PHASE_CONTEXT_SHARING = "ContextSharing"
PHASE_ACCEPTED = "Accepted"
PHASE_DECLINED = "Declined"

ANOMALY_DUPLICATE_HANDOFF = "duplicate_handoff"
ANOMALY_UNKNOWN_HANDOFF = "unknown_handoff"


# An offer's status as macp-sdk-python 0.22.0's HandoffRecord reports it.
STATUS_OFFERED = "offered"
STATUS_CONTEXT_SENT = "context_sent"  # context arrived while the offer was pending
STATUS_ACCEPTED = "accepted"
STATUS_DECLINED = "declined"
_PENDING = (STATUS_OFFERED, STATUS_CONTEXT_SENT)


@dataclass(slots=True)
class HandoffRecord:
    """One offer as it stands now (macp-sdk-python 0.22.0's record, its constructor and values).

    The projection keeps one per handoff id in ``handoffs`` (also ``offers``) and updates it in
    place as HandoffContext, HandoffAccept and HandoffDecline arrive, so a record you hold
    moves with the session. Treat it as read-only: it is the projection's own state.
    ``accepted_by`` / ``declined_by`` are the payload's (``""`` if it left them empty; the
    runtime only takes a settlement from the offer's target).
    """

    handoff_id: str
    target_participant: str
    scope: str
    reason: str
    sender: str
    status: str
    # The content type of the latest context for this offer (late context included).
    context_content_type: str | None
    accepted_by: str | None
    declined_by: str | None
    # True when the runtime accepted it on the target's behalf (implicit-accept timeout).
    implicit: bool = False
    # The accept's or decline's reason (ours; not a constructor argument, as in 0.22.0).
    settle_reason: str = field(default="", init=False)

    @property
    def offerer(self) -> str:
        """Who made the offer (the envelope sender)."""
        return self.sender

    @property
    def disposition(self) -> str:
        """The runtime's word for the status: ``Offered``, ``Accepted`` or ``Declined``."""
        if self.status == STATUS_ACCEPTED:
            return DISPOSITION_ACCEPTED
        if self.status == STATUS_DECLINED:
            return DISPOSITION_DECLINED
        return DISPOSITION_OFFERED

    @property
    def is_pending(self) -> bool:
        return self.status in _PENDING


# The name this class had before it took 0.22.0's shape.
HandoffOfferState = HandoffRecord


class HandoffProjection(HandoffProjectionBase):
    """State of one macp.mode.handoff.v1 session, derived from accepted envelopes.

    Each offer is ``Offered`` until its target accepts or declines it, and settles only once:
    a later accept or decline is a ``settled_handoff`` anomaly and changes nothing. Phases:
    ``Pending`` → ``OfferPending`` (an offer) → ``ContextSharing`` (context for the pending
    offer) → ``Accepted`` / ``Declined`` (the last settlement; a new offer after a decline
    goes back to ``OfferPending``) → ``Committed``.
    """

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        # Offers by handoff id, in arrival order (0.22.0's name; ``offers`` is the same dict).
        self.handoffs: dict[str, HandoffRecord] = {}
        # Context shared for known offers, in arrival order (late context included).
        self.contexts: list[HandoffContextRecord] = []

    # -- hooks ---------------------------------------------------------------------------
    def on_offer(self, record: HandoffOfferRecord) -> None:
        """Called once for each accepted HandoffOffer."""
        super().on_offer(record)
        if record.handoff_id in self.handoffs:
            self._anomaly(
                ANOMALY_DUPLICATE_HANDOFF,
                record,
                "handoff_id already offered; the first offer is kept",
                record.handoff_id,
            )
            return
        self.handoffs[record.handoff_id] = HandoffRecord(
            handoff_id=record.handoff_id,
            target_participant=record.target_participant,
            scope=record.scope,
            reason=record.reason,
            sender=record.sender,
            status=STATUS_OFFERED,
            context_content_type=None,
            accepted_by=None,
            declined_by=None,
        )
        self._set_phase(PHASE_OFFER_PENDING)

    def on_add_context(self, record: HandoffContextRecord) -> None:
        """Called once for each accepted HandoffContext."""
        super().on_add_context(record)
        offer = self.handoffs.get(record.handoff_id)
        if offer is None:
            self._anomaly(
                ANOMALY_UNKNOWN_HANDOFF, record, "context for an offer not seen", record.handoff_id
            )
            return
        self.contexts.append(record)
        status = STATUS_CONTEXT_SENT if offer.status == STATUS_OFFERED else offer.status
        self._update(offer, status=status, context_content_type=record.content_type)
        # Late context (after settlement) is supplementary: it does not move the phase.
        if offer.is_pending and self.phase == PHASE_OFFER_PENDING:
            self._set_phase(PHASE_CONTEXT_SHARING)

    def on_accept_handoff(self, record: HandoffAcceptRecord) -> None:
        """Called once for each accepted HandoffAccept."""
        super().on_accept_handoff(record)
        offer = self._pending_offer(record)
        if offer is None:
            return
        self._update(
            offer,
            status=STATUS_ACCEPTED,
            accepted_by=record.accepted_by,
            settle_reason=record.reason,
            implicit=record.implicit,
        )
        self._set_phase(PHASE_ACCEPTED)

    def on_decline(self, record: HandoffDeclineRecord) -> None:
        """Called once for each accepted HandoffDecline."""
        super().on_decline(record)
        offer = self._pending_offer(record)
        if offer is None:
            return
        self._update(
            offer,
            status=STATUS_DECLINED,
            declined_by=record.declined_by,
            settle_reason=record.reason,
        )
        self._set_phase(PHASE_DECLINED)

    def _pending_offer(
        self, record: HandoffAcceptRecord | HandoffDeclineRecord
    ) -> HandoffRecord | None:
        offer = self.handoffs.get(record.handoff_id)
        if offer is None:
            self._anomaly(
                ANOMALY_UNKNOWN_HANDOFF, record, "settles an offer not seen", record.handoff_id
            )
            return None
        if not offer.is_pending:
            self._anomaly(
                ANOMALY_SETTLED_HANDOFF,
                record,
                f"handoff already {offer.disposition}; ignored",
                record.handoff_id,
            )
            return None
        return offer

    # -- queries -------------------------------------------------------------------------
    @property
    def offers(self) -> dict[str, HandoffRecord]:
        """Every offer by handoff id (``handoffs``, 0.22.0's name, is the same dict)."""
        return self.handoffs

    def get_handoff(self, handoff_id: str) -> HandoffRecord | None:
        return self.handoffs.get(handoff_id)

    def disposition(self, handoff_id: str) -> str | None:
        """``Offered``, ``Accepted`` or ``Declined``, or ``None`` for an unknown id."""
        offer = self.offers.get(handoff_id)
        return None if offer is None else offer.disposition

    def pending_handoffs(self) -> list[HandoffRecord]:
        """Offers still awaiting their target's answer."""
        return [o for o in self.offers.values() if o.is_pending]

    def active_offer(self) -> HandoffRecord | None:
        """The most recent offer still pending, or ``None``."""
        pending = self.pending_handoffs()
        return pending[-1] if pending else None

    def accepted_offer(self) -> HandoffRecord | None:
        """The accepted offer (at most one: no offers follow an accept), or ``None``."""
        return next(
            (o for o in self.offers.values() if o.disposition == DISPOSITION_ACCEPTED), None
        )

    def has_accepted_offer(self, handoff_id: str | None = None) -> bool:
        if handoff_id is not None:
            return self.is_accepted(handoff_id)
        return self.accepted_offer() is not None

    def is_accepted(self, handoff_id: str) -> bool:
        return self.disposition(handoff_id) == DISPOSITION_ACCEPTED

    def is_declined(self, handoff_id: str) -> bool:
        return self.disposition(handoff_id) == DISPOSITION_DECLINED

    def is_implicitly_accepted(self, handoff_id: str) -> bool:
        offer = self.offers.get(handoff_id)
        return offer is not None and offer.disposition == DISPOSITION_ACCEPTED and offer.implicit

    def is_settled(self, handoff_id: str) -> bool:
        """Whether the offer was accepted or declined (what the runtime needs to commit)."""
        offer = self.offers.get(handoff_id)
        return offer is not None and not offer.is_pending

    def has_settled_offer(self) -> bool:
        return any(not o.is_pending for o in self.offers.values())

    @property
    def is_commit_eligible(self) -> bool:
        """The runtime's readiness to commit: some offer was accepted or declined.

        (A policy's implicit-accept timeout can settle an offer inside the runtime; that
        shows up here only once its synthetic HandoffAccept is applied.)
        """
        return self.has_settled_offer()

    def contexts_for(self, handoff_id: str) -> list[HandoffContextRecord]:
        return [c for c in self.contexts if c.handoff_id == handoff_id]

    def declined_targets(self) -> list[str]:
        """Targets of declined offers, in offer order, without repeats (keyed on the target)."""
        return list(
            dict.fromkeys(
                o.target_participant
                for o in self.offers.values()
                if o.disposition == DISPOSITION_DECLINED
            )
        )

    def can_offer_to(self, target: str) -> bool:
        """Whether the runtime would take a new HandoffOffer to ``target`` now.

        ``target`` must be a declared participant other than the initiator (the owner who
        offers), must not have declined an earlier offer, no offer may be pending, and none
        may have been accepted. The offerer itself is not checked.
        """
        if not target or target == self.initiator or target not in self.participants:
            return False
        if target in self.declined_targets():
            return False
        return not any(
            o.disposition in (DISPOSITION_OFFERED, DISPOSITION_ACCEPTED)
            for o in self.offers.values()
        )
