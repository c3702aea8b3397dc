"""Multi-round convergence rules, `ext.multi_round.v1` (runtime-behavior.md §4.6)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from macp.modes.multi_round.v1 import multi_round_pb2
from macp_sdk.facts import multi_round as facts

from ..errors import invalid_payload
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, require
from .base import require_participant as _require_participant
from .commitment import authorize_initiator_commitment, validate_commitment

MODE = facts.MODE


def contribution_value(payload: bytes) -> str:
    """The contributed value: legacy JSON `{"value": ...}` first, then `ContributePayload`."""
    require(bool(payload), "empty Contribute payload")
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict) and "value" in document:
        value = document["value"]
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    contribution = multi_round_pb2.ContributePayload()
    try:
        contribution.ParseFromString(payload)
    except DecodeError as exc:
        raise invalid_payload("cannot decode Contribute payload") from exc
    require(bool(contribution.value), "Contribute value is empty")
    return contribution.value


@dataclass
class MultiRoundRules(ModeRules):
    round: int = 0
    contributions: dict[str, str] = field(default_factory=dict)
    converged: bool = False

    def on_session_start(self, ctx: ModeContext) -> None:
        require(bool(ctx.participants), "multi_round sessions need participants")

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == "Commitment":
            authorize_initiator_commitment(ctx, sender)
        else:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == facts.CONTRIBUTE:
            require(not self.converged, "the session already converged")
            value = contribution_value(payload)
            if self.contributions.get(sender) != value:
                self.round += 1
                self.contributions[sender] = value
            values = {self.contributions.get(p) for p in ctx.participants}
            self.converged = None not in values and len(values) == 1
            return ACCEPTED
        if message_type == "Commitment":
            require(self.converged, "the session has not converged")
            validate_commitment(ctx, payload)
            resolution = {
                "converged_value": next(iter(self.contributions.values())),
                "round": self.round,
                "final": self.contributions,
            }
            return ModeOutcome(resolution=json.dumps(resolution, sort_keys=True).encode())
        require(False, f"unknown message type {message_type}")
        return ACCEPTED
