"""Quorum projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._quorum_base import (
    AbstainRecord,
    ApprovalRequestRecord,
    ApproveRecord,
    QuorumProjectionBase,
    RejectRecord,
)

__all__ = ["QuorumProjection"]


class QuorumProjection(QuorumProjectionBase):
    """State of one macp.mode.quorum.v1 session, derived from accepted envelopes."""

    def on_request_approval(self, record: ApprovalRequestRecord) -> None:
        """Called once for each accepted ApprovalRequest."""
        super().on_request_approval(record)

    def on_approve(self, record: ApproveRecord) -> None:
        """Called once for each accepted Approve."""
        super().on_approve(record)

    def on_reject(self, record: RejectRecord) -> None:
        """Called once for each accepted Reject."""
        super().on_reject(record)

    def on_abstain(self, record: AbstainRecord) -> None:
        """Called once for each accepted Abstain."""
        super().on_abstain(record)
