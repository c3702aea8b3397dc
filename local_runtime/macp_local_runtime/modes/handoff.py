"""Handoff mode rules, `macp.mode.handoff.v1` (runtime-behavior.md §4.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from macp.modes.handoff.v1 import handoff_pb2
from macp_sdk.facts import handoff as facts

from ..errors import forbidden, policy_denied
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, decode, require
from .base import require_participant as _require_participant
from .commitment import authorize_commitment, check_policy_schema_version, validate_commitment

MODE = facts.MODE
OFFERED, ACCEPTED_OFFER, DECLINED = "Offered", "Accepted", "Declined"


@dataclass
class Offer:
    offerer: str
    target: str
    offered_at_ms: int  # server acceptance clock, never the client's timestamp
    disposition: str = OFFERED


@dataclass
class HandoffRules(ModeRules):
    offers: dict[str, Offer] = field(default_factory=dict)
    contexts: int = 0

    def on_session_start(self, ctx: ModeContext) -> None:
        require(len(ctx.participants) >= 2, "a handoff needs at least two participants")
        require(ctx.is_participant(ctx.initiator), "the handoff initiator must be a participant")

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == facts.HANDOFF_OFFER:
            if sender != ctx.initiator:
                raise forbidden("only the owner may offer a handoff")
        elif message_type == "Commitment":
            authorize_commitment(ctx, sender)
        else:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == facts.HANDOFF_OFFER:
            self._offer(ctx, sender, payload)
        elif message_type == facts.HANDOFF_CONTEXT:
            context = decode(handoff_pb2.HandoffContextPayload, payload)
            offer = self._existing(context.handoff_id)
            if sender != offer.offerer:
                raise forbidden("only the offerer may add context")
            self.contexts += 1
        elif message_type == facts.HANDOFF_ACCEPT:
            accept = decode(handoff_pb2.HandoffAcceptPayload, payload)
            self._respond(sender, accept.handoff_id, accept.accepted_by, ACCEPTED_OFFER)
        elif message_type == facts.HANDOFF_DECLINE:
            decline = decode(handoff_pb2.HandoffDeclinePayload, payload)
            self._respond(sender, decline.handoff_id, decline.declined_by, DECLINED)
        elif message_type == "Commitment":
            return self._commitment(ctx, payload)
        else:
            require(False, f"unknown message type {message_type}")
        return ACCEPTED

    def _offer(self, ctx: ModeContext, sender: str, payload: bytes) -> None:
        offer = decode(handoff_pb2.HandoffOfferPayload, payload)
        require(bool(offer.handoff_id), "handoff_id is empty")
        require(offer.handoff_id not in self.offers, "handoff_id already used")
        target = offer.target_participant
        require(bool(target) and ctx.is_participant(target), "target must be a participant")
        require(target != sender, "cannot hand off to oneself")
        dispositions = {o.disposition for o in self.offers.values()}
        require(OFFERED not in dispositions, "another offer is outstanding")
        require(ACCEPTED_OFFER not in dispositions, "an offer was already accepted")
        self.offers[offer.handoff_id] = Offer(sender, target, ctx.now_ms)

    def _existing(self, handoff_id: str) -> Offer:
        offer = self.offers.get(handoff_id)
        require(offer is not None, "unknown handoff_id")
        assert offer is not None
        return offer

    def _respond(self, sender: str, handoff_id: str, claimed: str, disposition: str) -> None:
        offer = self._existing(handoff_id)
        if sender != offer.target:
            raise forbidden("only the offer's target may respond")
        require(not claimed or claimed == sender, "responder must be the sender")
        require(offer.disposition == OFFERED, "the offer was already answered")
        offer.disposition = disposition

    def _commitment(self, ctx: ModeContext, payload: bytes) -> ModeOutcome:
        validate_commitment(ctx, payload)
        timeout = ctx.policy.section("acceptance").get("implicit_accept_timeout_ms", 0)
        implicit = [
            offer
            for offer in self.offers.values()
            if isinstance(timeout, int)
            and timeout > 0
            and offer.disposition == OFFERED
            and ctx.now_ms - offer.offered_at_ms > timeout
        ]
        require(
            bool(implicit)
            or any(o.disposition in (ACCEPTED_OFFER, DECLINED) for o in self.offers.values()),
            "no offer was accepted or declined",
        )
        reasons = check_policy_schema_version(ctx)
        if reasons:
            raise policy_denied(*reasons)
        for offer in implicit:  # accepted by the timeout, now that the commitment stands
            offer.disposition = ACCEPTED_OFFER
        return ModeOutcome(resolution=payload)
