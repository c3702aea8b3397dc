"""Widget projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._widget_base import (
    ConfirmRecord,
    OrderRecord,
    ShipRecord,
    WidgetProjectionBase,
)

__all__ = ["WidgetProjection"]


class WidgetProjection(WidgetProjectionBase):
    """State of one ext.widget.v1 session, derived from accepted envelopes."""

    def on_place_order(self, record: OrderRecord) -> None:
        """Called once for each accepted Order."""
        super().on_place_order(record)

    def on_confirm(self, record: ConfirmRecord) -> None:
        """Called once for each accepted Confirm."""
        super().on_confirm(record)

    def on_ship(self, record: ShipRecord) -> None:
        """Called once for each accepted Ship."""
        super().on_ship(record)
