"""Proposal projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from ._proposal_base import (
    AcceptRecord,
    CounterProposalRecord,
    ProposalModeRecord,
    ProposalProjectionBase,
    ProposalRecord,
    RejectRecord,
    WithdrawRecord,
)

__all__ = [
    "ANOMALY_DUPLICATE_PROPOSAL",
    "ANOMALY_UNKNOWN_PROPOSAL",
    "ANOMALY_WITHDRAWN_PROPOSAL",
    "DISPOSITION_LIVE",
    "DISPOSITION_WITHDRAWN",
    "PHASE_CONVERGED",
    "PHASE_NEGOTIATING",
    "PHASE_TERMINAL_REJECTED",
    "STATUS_OPEN",
    "STATUS_REJECTED",
    "STATUS_WITHDRAWN",
    "ProposalProjection",
    "ProposalState",
]

# The runtime's proposal phases and dispositions.
PHASE_NEGOTIATING = "Negotiating"
PHASE_CONVERGED = "Converged"
PHASE_TERMINAL_REJECTED = "TerminalRejected"
DISPOSITION_LIVE = "Live"
DISPOSITION_WITHDRAWN = "Withdrawn"

ANOMALY_DUPLICATE_PROPOSAL = "duplicate_proposal"
ANOMALY_UNKNOWN_PROPOSAL = "unknown_proposal"
ANOMALY_WITHDRAWN_PROPOSAL = "withdrawn_proposal"


STATUS_OPEN = "open"
STATUS_REJECTED = "rejected"
STATUS_WITHDRAWN = "withdrawn"


# Frozen: a status change replaces the state in `proposals` (a journaled write, so a hook that
# fails afterwards rolls it back). 0.22.0 changed its record in place instead.
@dataclass(frozen=True, slots=True)
class ProposalState:
    """One proposal or counter-proposal as it stands now (0.22.0's ``ProposalRecord``).

    ``status`` is ``open``, ``rejected`` (a terminal Reject stands) or ``withdrawn``. It is
    never ``accepted``: acceptance is each sender's latest Accept, see
    :meth:`ProposalProjection.is_accepted`. The constructor takes 0.22.0's fields in its
    order; ``details`` and ``message_id`` trail with defaults.
    """

    proposal_id: str
    title: str
    summary: str
    sender: str
    # The proposal this one counters; "" for an original proposal.
    supersedes: str
    status: str
    tags: list[str]
    details: bytes = b""
    message_id: str = ""

    @property
    def proposer(self) -> str:
        """Same as ``sender``: the conformance fixtures' name (0.22.0 deprecated it; no warning
        here, since the fixtures still use it)."""
        return self.sender

    @property
    def disposition(self) -> str:
        """The runtime's view: ``Withdrawn``, else ``Live`` (a rejected proposal stays live)."""
        return DISPOSITION_WITHDRAWN if self.status == STATUS_WITHDRAWN else DISPOSITION_LIVE

    @property
    def is_counter(self) -> bool:
        return bool(self.supersedes)

    @property
    def is_live(self) -> bool:
        return self.status != STATUS_WITHDRAWN


class ProposalProjection(ProposalProjectionBase):
    """State of one macp.mode.proposal.v1 session, derived from accepted envelopes.

    The phase is recomputed after every mode message, as the runtime does: any terminal
    rejection → ``TerminalRejected``; else a live proposal every required participant accepts
    → ``Converged``; else ``Negotiating``. A Commitment makes it ``Committed`` for good.

    Required participants are the declared ``participants`` of the SessionStart (the runtime's
    default ``all_parties`` criterion, proposer included). The initiator counts only when it is
    declared: the protocol never makes it an implicit participant. Policy criteria such as
    ``counterparty`` or ``initiator`` are not applied here; pass ``required`` to the queries to
    ask about another set.
    """

    INITIAL_PHASE: ClassVar[str] = PHASE_NEGOTIATING

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        # Proposals and counter-proposals together, in arrival order (ids share one space).
        self.proposals: dict[str, ProposalState] = {}
        # sender -> proposal_id of that sender's latest standing Accept.
        self.accepts: dict[str, str] = {}
        self.rejections: list[RejectRecord] = []
        # Terminal rejections still standing (a withdraw removes those of its proposal).
        self.terminal_rejections: list[RejectRecord] = []
        self.withdrawals: list[WithdrawRecord] = []

    # -- hooks ---------------------------------------------------------------------------
    def on_propose(self, record: ProposalRecord) -> None:
        """Called once for each accepted Proposal."""
        super().on_propose(record)
        self._add_proposal(
            record,
            ProposalState(
                proposal_id=record.proposal_id,
                title=record.title,
                summary=record.summary,
                sender=record.sender,
                supersedes="",
                status=STATUS_OPEN,
                tags=list(record.tags),
                details=record.details,
                message_id=record.message_id,
            ),
        )

    def on_counter_propose(self, record: CounterProposalRecord) -> None:
        """Called once for each accepted CounterProposal."""
        super().on_counter_propose(record)
        if record.supersedes_proposal_id not in self.proposals:
            self._anomaly(
                ANOMALY_UNKNOWN_PROPOSAL,
                record,
                "counters a proposal not seen",
                record.supersedes_proposal_id,
            )
        # The countered proposal stays live: all proposals are tracked independently.
        self._add_proposal(
            record,
            ProposalState(
                proposal_id=record.proposal_id,
                title=record.title,
                summary=record.summary,
                sender=record.sender,
                supersedes=record.supersedes_proposal_id,
                status=STATUS_OPEN,
                tags=[],  # a CounterProposal carries no tags
                details=record.details,
                message_id=record.message_id,
            ),
        )

    def on_accept(self, record: AcceptRecord) -> None:
        """Called once for each accepted Accept."""
        super().on_accept(record)
        if self._is_live_or_note(record):
            self.accepts[record.sender] = record.proposal_id  # latest accept wins
        self._recompute_phase()

    def on_reject(self, record: RejectRecord) -> None:
        """Called once for each accepted Reject."""
        super().on_reject(record)
        self.rejections.append(record)
        # ``terminal`` is the payload's flag; a policy's terminal_on_any_reject is not visible.
        if self._is_live_or_note(record) and record.terminal:
            self.terminal_rejections.append(record)
            self._set_status(record.proposal_id, STATUS_REJECTED)
        self._recompute_phase()

    def on_withdraw(self, record: WithdrawRecord) -> None:
        """Called once for each accepted Withdraw."""
        super().on_withdraw(record)
        self.withdrawals.append(record)
        state = self.proposals.get(record.proposal_id)
        if state is None:
            self._anomaly(
                ANOMALY_UNKNOWN_PROPOSAL,
                record,
                "withdraws a proposal not seen",
                record.proposal_id,
            )
        else:
            self._set_status(record.proposal_id, STATUS_WITHDRAWN)
            # As the runtime does: accepts of, and terminal rejections of, it no longer stand.
            self.accepts = {s: p for s, p in self.accepts.items() if p != record.proposal_id}
            self.terminal_rejections = [
                r for r in self.terminal_rejections if r.proposal_id != record.proposal_id
            ]
        self._recompute_phase()

    def _set_status(self, proposal_id: str, status: str) -> None:
        self.proposals[proposal_id] = dataclasses.replace(
            self.proposals[proposal_id], status=status
        )

    def _add_proposal(self, record: ProposalModeRecord, state: ProposalState) -> None:
        if state.proposal_id in self.proposals:
            self._anomaly(
                ANOMALY_DUPLICATE_PROPOSAL,
                record,
                "proposal_id already used; the first proposal is kept",
                state.proposal_id,
            )
        else:
            self.proposals[state.proposal_id] = state
        self._recompute_phase()

    def _is_live_or_note(self, record: AcceptRecord | RejectRecord) -> bool:
        state = self.proposals.get(record.proposal_id)
        if state is None:
            self._anomaly(
                ANOMALY_UNKNOWN_PROPOSAL,
                record,
                "references a proposal not seen",
                record.proposal_id,
            )
            return False
        if not state.is_live:
            self._anomaly(
                ANOMALY_WITHDRAWN_PROPOSAL,
                record,
                "references a withdrawn proposal; ignored",
                record.proposal_id,
            )
            return False
        return True

    def _recompute_phase(self) -> None:
        if self.terminal_rejections:
            self._set_phase(PHASE_TERMINAL_REJECTED)
        elif self.converged_proposal() is not None:
            self._set_phase(PHASE_CONVERGED)
        else:
            self._set_phase(PHASE_NEGOTIATING)

    # -- queries -------------------------------------------------------------------------
    def disposition(self, proposal_id: str) -> str | None:
        """``Live`` or ``Withdrawn``, or ``None`` for an unknown id."""
        state = self.proposals.get(proposal_id)
        return None if state is None else state.disposition

    def active_proposals(self) -> list[ProposalState]:
        """Open proposals (neither withdrawn nor terminally rejected), oldest first (0.22.0)."""
        return [p for p in self.proposals.values() if p.status == STATUS_OPEN]

    def live_proposals(self) -> dict[str, ProposalState]:
        """Proposals and counter-proposals not withdrawn."""
        return {pid: p for pid, p in self.proposals.items() if p.is_live}

    def withdrawn_proposals(self) -> dict[str, ProposalState]:
        return {pid: p for pid, p in self.proposals.items() if not p.is_live}

    def counter_proposals(self) -> dict[str, ProposalState]:
        """Counter-proposals only (each names the proposal it supersedes)."""
        return {pid: p for pid, p in self.proposals.items() if p.is_counter}

    def superseded_by(self, proposal_id: str) -> list[str]:
        """Ids of the counter-proposals that counter ``proposal_id``, in arrival order."""
        return [pid for pid, p in self.proposals.items() if p.supersedes == proposal_id]

    def latest_proposal(self) -> ProposalState | None:
        return next(reversed(self.proposals.values()), None)

    @property
    def required_participants(self) -> list[str]:
        """Who must accept for convergence: the declared participants (see the class doc)."""
        return list(self.participants)

    def accepters_of(self, proposal_id: str) -> list[str]:
        """Senders whose latest standing accept is ``proposal_id``."""
        return [sender for sender, pid in self.accepts.items() if pid == proposal_id]

    def is_accepted(self, proposal_id: str) -> bool:
        """Whether ``proposal_id`` is somebody's latest standing accept."""
        return proposal_id in self.accepts.values()

    def accepted_proposal(self) -> str | None:
        """The one proposal every standing accept points to, or ``None`` (0.22.0's query).

        Unlike :meth:`converged_proposal` it does not ask who *should* have accepted.
        """
        ids = set(self.accepts.values())
        return ids.pop() if len(ids) == 1 else None

    def pending_acceptors(self, proposal_id: str, required: list[str] | None = None) -> list[str]:
        """Required participants whose latest accept is not ``proposal_id``."""
        who = self.required_participants if required is None else required
        return [p for p in who if self.accepts.get(p) != proposal_id]

    def converged_proposal(self, required: list[str] | None = None) -> str | None:
        """The live proposal all required participants accept, or ``None``.

        ``None`` as well while no required participants are known (no SessionStart seen).
        """
        who = self.required_participants if required is None else required
        if not who:
            return None
        ids = {self.accepts.get(p) for p in who}
        if len(ids) != 1:
            return None
        pid = ids.pop()
        state = None if pid is None else self.proposals.get(pid)
        return pid if state is not None and state.is_live else None

    @property
    def is_converged(self) -> bool:
        return self.converged_proposal() is not None

    def has_terminal_rejection(self) -> bool:
        return bool(self.terminal_rejections)

    @property
    def is_commit_eligible(self) -> bool:
        """The runtime's readiness to commit: converged, or a terminal rejection stands."""
        return self.is_converged or self.has_terminal_rejection()

    def is_terminally_rejected(self, proposal_id: str) -> bool:
        return any(r.proposal_id == proposal_id for r in self.terminal_rejections)

    def rejections_of(self, proposal_id: str) -> list[RejectRecord]:
        """Every accepted Reject of ``proposal_id``, terminal or not."""
        return [r for r in self.rejections if r.proposal_id == proposal_id]
