"""Handoff projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._handoff_base import (
    HandoffAcceptRecord,
    HandoffContextRecord,
    HandoffDeclineRecord,
    HandoffOfferRecord,
    HandoffProjectionBase,
)

__all__ = ["HandoffProjection"]


class HandoffProjection(HandoffProjectionBase):
    """State of one macp.mode.handoff.v1 session, derived from accepted envelopes."""

    def on_offer(self, record: HandoffOfferRecord) -> None:
        """Called once for each accepted HandoffOffer."""
        super().on_offer(record)

    def on_add_context(self, record: HandoffContextRecord) -> None:
        """Called once for each accepted HandoffContext."""
        super().on_add_context(record)

    def on_accept_handoff(self, record: HandoffAcceptRecord) -> None:
        """Called once for each accepted HandoffAccept."""
        super().on_accept_handoff(record)

    def on_decline(self, record: HandoffDeclineRecord) -> None:
        """Called once for each accepted HandoffDecline."""
        super().on_decline(record)
