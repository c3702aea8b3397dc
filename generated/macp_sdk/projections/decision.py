"""Decision projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._decision_base import (
    DecisionProjectionBase,
    EvaluationRecord,
    ObjectionRecord,
    ProposalRecord,
    VoteRecord,
)

__all__ = ["DecisionProjection"]


class DecisionProjection(DecisionProjectionBase):
    """State of one macp.mode.decision.v1 session, derived from accepted envelopes."""

    def on_propose(self, record: ProposalRecord) -> None:
        """Called once for each accepted Proposal."""
        super().on_propose(record)

    def on_evaluate(self, record: EvaluationRecord) -> None:
        """Called once for each accepted Evaluation."""
        super().on_evaluate(record)

    def on_raise_objection(self, record: ObjectionRecord) -> None:
        """Called once for each accepted Objection."""
        super().on_raise_objection(record)

    def on_vote(self, record: VoteRecord) -> None:
        """Called once for each accepted Vote."""
        super().on_vote(record)
