"""Multi-round convergence projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._multi_round_base import (
    ContributeRecord,
    MultiRoundProjectionBase,
)

__all__ = ["MultiRoundProjection"]


class MultiRoundProjection(MultiRoundProjectionBase):
    """State of one ext.multi_round.v1 session, derived from accepted envelopes."""

    def on_contribute(self, record: ContributeRecord) -> None:
        """Called once for each accepted Contribute."""
        super().on_contribute(record)
