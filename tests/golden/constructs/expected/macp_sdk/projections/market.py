"""Market projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._market_base import (
    BidRecord,
    CloseRecord,
    MarketProjectionBase,
    OfferRecord,
)

__all__ = ["MarketProjection"]


class MarketProjection(MarketProjectionBase):
    """State of one ext.market.v1 session, derived from accepted envelopes."""

    def on_offer(self, record: OfferRecord) -> None:
        """Called once for each accepted Offer."""
        super().on_offer(record)

    def on_bid(self, record: BidRecord) -> None:
        """Called once for each accepted Bid."""
        super().on_bid(record)

    def on_close(self, record: CloseRecord) -> None:
        """Called once for each accepted Close."""
        super().on_close(record)
