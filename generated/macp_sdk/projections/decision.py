"""Decision projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from typing import ClassVar

from ..facts import decision as facts
from ..facts.decision import ANOMALY_DUPLICATE_VOTE
from ._decision_base import (
    DecisionProjectionBase,
    EvaluationRecord,
    ObjectionRecord,
    ProposalRecord,
    VoteRecord,
)

__all__ = [
    "ANOMALY_DUPLICATE_PROPOSAL",
    "ANOMALY_UNKNOWN_PROPOSAL",
    "PHASE_EVALUATION",
    "PHASE_PROPOSAL",
    "PHASE_VOTING",
    "DecisionProjection",
    "normalized_recommendation",
    "normalized_severity",
    "normalized_vote",
]

# The runtime's decision phases (runtime state machine, not RFC text): the first two are
# named after the message type they wait for.
PHASE_PROPOSAL = facts.PROPOSAL
PHASE_EVALUATION = facts.EVALUATION
PHASE_VOTING = "Voting"

# Anomalies this projection notes beyond the pinned parity kinds.
ANOMALY_DUPLICATE_PROPOSAL = "duplicate_proposal"
ANOMALY_UNKNOWN_PROPOSAL = "unknown_proposal"

VOTE_APPROVE = facts.VOTE_APPROVE
VOTE_REJECT = facts.VOTE_REJECT
VOTE_ABSTAIN = facts.VOTE_ABSTAIN
REVIEW = facts.RECOMMENDATION_REVIEW
SEVERITY_CRITICAL = facts.SEVERITY_CRITICAL


def normalized_vote(record: VoteRecord) -> str:
    """The vote as the runtime stores it: accepted in any case, kept upper-case."""
    return record.vote.strip().upper()


def normalized_recommendation(record: EvaluationRecord) -> str:
    """The recommendation as the runtime stores it (upper-case)."""
    return record.recommendation.strip().upper()


def normalized_severity(record: ObjectionRecord) -> str:
    """The severity as the runtime stores it: lower-case, and an empty one means medium."""
    return record.severity.strip().lower() or facts.SEVERITY_MEDIUM


class DecisionProjection(DecisionProjectionBase):
    """State of one macp.mode.decision.v1 session, derived from accepted envelopes.

    Phases follow the runtime: ``Proposal`` → ``Evaluation`` (first Proposal) → ``Voting``
    (first Vote) → ``Committed``. Only facts are offered; what to do with them (which
    proposal wins, whether an objection blocks) is the orchestrator's call.
    """

    INITIAL_PHASE: ClassVar[str] = PHASE_PROPOSAL

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        # First Proposal per proposal_id (ids are unique in a session).
        self.proposals: dict[str, ProposalRecord] = {}
        # In arrival order, across all proposals.
        self.evaluations: list[EvaluationRecord] = []
        self.objections: list[ObjectionRecord] = []
        # proposal_id -> sender -> that sender's latest vote on it.
        self.votes: dict[str, dict[str, VoteRecord]] = {}

    # -- hooks ---------------------------------------------------------------------------
    def on_propose(self, record: ProposalRecord) -> None:
        """Called once for each accepted Proposal."""
        if record.proposal_id in self.proposals:
            # The runtime refuses a reused id; keep the first, say what happened.
            self._anomaly(
                ANOMALY_DUPLICATE_PROPOSAL,
                record,
                "proposal_id already proposed; the first proposal is kept",
                record.proposal_id,
            )
            return
        self.proposals[record.proposal_id] = record
        # Only the first proposal moves the phase; a late one never reopens evaluation.
        if self.phase == PHASE_PROPOSAL:
            self._set_phase(PHASE_EVALUATION)

    def on_evaluate(self, record: EvaluationRecord) -> None:
        """Called once for each accepted Evaluation."""
        if record.proposal_id not in self.proposals:
            self._note_unknown(record)
        self.evaluations.append(record)

    def on_raise_objection(self, record: ObjectionRecord) -> None:
        """Called once for each accepted Objection."""
        if record.proposal_id not in self.proposals:
            self._note_unknown(record)
        self.objections.append(record)

    def on_vote(self, record: VoteRecord) -> None:
        """Called once for each accepted Vote."""
        pid = record.proposal_id
        if pid not in self.proposals:
            self._note_unknown(record)
        by_sender = self.votes.get(pid)
        if by_sender is None:  # the first vote on pid (get first: no dict built per vote)
            by_sender = self.votes.setdefault(pid, {})
        earlier = by_sender.get(record.sender)
        if earlier is not None:
            # Latest wins; the replaced vote stays visible in vote_records and the anomaly.
            self._anomaly(
                ANOMALY_DUPLICATE_VOTE,
                record,
                f"replaces earlier vote {normalized_vote(earlier)} "
                f"(message {earlier.message_id or '-'})",
                pid,
            )
        by_sender[record.sender] = record
        if self.phase != PHASE_VOTING:
            self._set_phase(PHASE_VOTING)

    def _note_unknown(self, record: EvaluationRecord | ObjectionRecord | VoteRecord) -> None:
        # For a record about a proposal not in `proposals`; kept anyway. Only a projection
        # that saw the session from its SessionStart can tell a proposal is unknown: one that
        # joined later (a participant's freshly built session) simply missed it, and 0.22.0
        # said nothing there either.
        if self.session_start is not None:
            self._anomaly(
                ANOMALY_UNKNOWN_PROPOSAL,
                record,
                "references a proposal not seen",
                record.proposal_id,
            )

    # -- queries -------------------------------------------------------------------------
    @property
    def outcome(self) -> bool | None:
        """The commitment's ``outcome_positive``, or ``None`` while uncommitted."""
        return self.is_positive_outcome

    @property
    def committed_action(self) -> str | None:
        """The commitment's ``action`` (e.g. ``decision.selected``), or ``None``."""
        return None if self.commitment is None else self.commitment.action

    @property
    def is_commit_eligible(self) -> bool:
        """The runtime's mode check before a Commitment: at least one proposal exists.

        A bound policy (voting rules, objection handling) may still refuse; that is not
        visible here.
        """
        return bool(self.proposals)

    def latest_proposal(self) -> ProposalRecord | None:
        """The most recently proposed option, or ``None``."""
        return next(reversed(self.proposals.values()), None)

    def votes_for(self, proposal_id: str) -> dict[str, VoteRecord]:
        """sender -> latest vote on ``proposal_id`` (a copy; empty when nobody voted)."""
        return dict(self.votes.get(proposal_id, {}))

    def vote_counts(self, proposal_id: str) -> dict[str, int]:
        """How many current votes on ``proposal_id`` say each value (APPROVE/REJECT/ABSTAIN)."""
        counts = {VOTE_APPROVE: 0, VOTE_REJECT: 0, VOTE_ABSTAIN: 0}
        for vote in self.votes.get(proposal_id, {}).values():
            choice = normalized_vote(vote)
            counts[choice] = counts.get(choice, 0) + 1
        return counts

    def vote_totals(self) -> dict[str, int]:
        """APPROVE votes per proposal; proposals nobody voted on are absent (as in 0.22.0)."""
        return {pid: self.vote_counts(pid)[VOTE_APPROVE] for pid, by in self.votes.items() if by}

    def vote_ratio(self, proposal_id: str) -> float:
        """APPROVE / non-ABSTAIN votes on ``proposal_id``; 0.0 when there are none."""
        counts = self.vote_counts(proposal_id)
        cast = sum(counts.values()) - counts[VOTE_ABSTAIN]
        return counts[VOTE_APPROVE] / cast if cast else 0.0

    def majority_winner(self) -> str | None:
        """The proposal holding more than half of all non-ABSTAIN votes cast, or ``None``.

        The denominator is every non-abstaining vote across all proposals (0.22.0's rule), so
        at most one proposal can hold a strict majority. This reports a count, not a verdict:
        whether a majority suffices is the orchestrator's (or the policy's) business.
        """
        cast = 0
        for pid in self.votes:
            counts = self.vote_counts(pid)
            cast += sum(counts.values()) - counts[VOTE_ABSTAIN]
        if cast == 0:
            return None
        for pid, approvals in self.vote_totals().items():
            if 2 * approvals > cast:  # integer form of approvals / cast > 0.5
                return pid
        return None

    def objections_for(self, proposal_id: str) -> list[ObjectionRecord]:
        return [o for o in self.objections if o.proposal_id == proposal_id]

    def has_blocking_objection(self, proposal_id: str | None = None) -> bool:
        """Whether a ``critical`` objection exists (for ``proposal_id``, or for any proposal).

        Only critical severity feeds the runtime's veto rules; lower severities are advisory.
        """
        return any(
            normalized_severity(o) == SEVERITY_CRITICAL
            and (proposal_id is None or o.proposal_id == proposal_id)
            for o in self.objections
        )

    def evaluations_for(self, proposal_id: str) -> list[EvaluationRecord]:
        return [e for e in self.evaluations if e.proposal_id == proposal_id]

    def review_evaluations(self) -> list[EvaluationRecord]:
        """Evaluations recommending REVIEW (informational only)."""
        return [e for e in self.evaluations if normalized_recommendation(e) == REVIEW]

    def qualifying_evaluations(self) -> list[EvaluationRecord]:
        """Evaluations that are not REVIEW (APPROVE, BLOCK, REJECT)."""
        return [e for e in self.evaluations if normalized_recommendation(e) != REVIEW]
