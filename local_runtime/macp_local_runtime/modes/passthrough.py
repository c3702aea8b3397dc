"""Rules for dynamically registered extension modes (runtime-behavior.md §4.7).

Any message type the descriptor lists is accepted and its payload kept as the mode state;
only the initiator may commit, and no policy is evaluated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, require
from .base import require_participant as _require_participant
from .commitment import authorize_initiator_commitment, validate_commitment


@dataclass
class PassthroughRules(ModeRules):
    message_types: tuple[str, ...]
    state: bytes = b""

    def on_session_start(self, ctx: ModeContext) -> None:
        return None  # participants are optional for extension modes

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == "Commitment":
            authorize_initiator_commitment(ctx, sender)
        elif ctx.participants:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        listed = message_type in self.message_types and message_type != "SessionStart"
        require(listed, f"message type {message_type} is not declared by the mode")
        if message_type == "Commitment":
            commitment = validate_commitment(ctx, payload)
            resolution = {"action": commitment.action, "commitment_id": commitment.commitment_id}
            return ModeOutcome(resolution=json.dumps(resolution, sort_keys=True).encode())
        self.state = payload
        return ACCEPTED
