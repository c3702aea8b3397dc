"""Quorum mode rules, `macp.mode.quorum.v1` (runtime-behavior.md §4.5)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from macp.modes.quorum.v1 import quorum_pb2
from macp_sdk.facts import quorum as facts

from ..errors import forbidden, policy_denied
from ..policy import DEFAULT_POLICY_ID
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, decode, require
from .base import require_participant as _require_participant
from .commitment import authorize_commitment, check_policy_schema_version, validate_commitment

MODE = facts.MODE
_BALLOTS = (facts.APPROVE, facts.REJECT, facts.ABSTAIN)


def _ballot_request_id(message_type: str, payload: bytes) -> str:
    if message_type == facts.APPROVE:
        return decode(quorum_pb2.ApprovePayload, payload).request_id
    if message_type == facts.REJECT:
        return decode(quorum_pb2.RejectPayload, payload).request_id
    return decode(quorum_pb2.AbstainPayload, payload).request_id


@dataclass
class QuorumRules(ModeRules):
    request_id: str | None = None
    required_approvals: int = 0
    ballots: dict[str, str] = field(default_factory=dict)  # sender -> Approve|Reject|Abstain

    def on_session_start(self, ctx: ModeContext) -> None:
        require(bool(ctx.participants), "quorum sessions need participants")

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == facts.APPROVAL_REQUEST:
            if sender != ctx.initiator:
                raise forbidden("only the initiator may request approval")
        elif message_type == "Commitment":
            authorize_commitment(ctx, sender)
        else:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == facts.APPROVAL_REQUEST:
            request = decode(quorum_pb2.ApprovalRequestPayload, payload)
            require(self.request_id is None, "approval was already requested")
            require(bool(request.request_id), "request_id is empty")
            require(
                1 <= request.required_approvals <= len(ctx.participants),
                "required_approvals must be between 1 and the participant count",
            )
            self.request_id = request.request_id
            self.required_approvals = request.required_approvals
            return ACCEPTED
        if message_type in _BALLOTS:
            request_id = _ballot_request_id(message_type, payload)
            require(self.request_id is not None, "no approval request yet")
            require(request_id == self.request_id, "unknown request_id")
            require(sender not in self.ballots, "sender already cast a ballot")
            self.ballots[sender] = message_type
            return ACCEPTED
        if message_type == "Commitment":
            return self._commitment(ctx, payload)
        require(False, f"unknown message type {message_type}")
        return ACCEPTED

    def threshold(self, ctx: ModeContext) -> int:
        """`required_approvals`, unless the policy's `threshold.value > 0` replaces it."""
        rule = ctx.policy.section("threshold")
        value = rule.get("value", 0)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return self.required_approvals
        if rule.get("type") == "percentage":
            return math.ceil(value * len(ctx.participants) / 100)
        return value

    def _commitment(self, ctx: ModeContext, payload: bytes) -> ModeOutcome:
        commitment = validate_commitment(ctx, payload)
        require(self.request_id is not None, "no approval request yet")
        threshold = self.threshold(ctx)
        approvals = sum(1 for choice in self.ballots.values() if choice == facts.APPROVE)
        outstanding = len(ctx.participants) - len(self.ballots)
        reached = approvals >= threshold
        unreachable = approvals + outstanding < threshold
        require(reached or unreachable, "the quorum is neither reached nor unreachable")
        reasons = check_policy_schema_version(ctx)
        governed = ctx.policy.policy_id != DEFAULT_POLICY_ID  # the default policy never denies
        if governed and commitment.outcome_positive and not reached:
            reasons.append(f"approvals {approvals} below threshold {threshold}")
        if reasons:
            raise policy_denied(*reasons)
        return ModeOutcome(resolution=payload)
