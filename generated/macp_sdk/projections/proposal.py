"""Proposal projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._proposal_base import (
    AcceptRecord,
    CounterProposalRecord,
    ProposalProjectionBase,
    ProposalRecord,
    RejectRecord,
    WithdrawRecord,
)

__all__ = ["ProposalProjection"]


class ProposalProjection(ProposalProjectionBase):
    """State of one macp.mode.proposal.v1 session, derived from accepted envelopes."""

    def on_propose(self, record: ProposalRecord) -> None:
        """Called once for each accepted Proposal."""
        super().on_propose(record)

    def on_counter_propose(self, record: CounterProposalRecord) -> None:
        """Called once for each accepted CounterProposal."""
        super().on_counter_propose(record)

    def on_accept(self, record: AcceptRecord) -> None:
        """Called once for each accepted Accept."""
        super().on_accept(record)

    def on_reject(self, record: RejectRecord) -> None:
        """Called once for each accepted Reject."""
        super().on_reject(record)

    def on_withdraw(self, record: WithdrawRecord) -> None:
        """Called once for each accepted Withdraw."""
        super().on_withdraw(record)
