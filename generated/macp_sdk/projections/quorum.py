"""Quorum projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from ..facts.quorum import ANOMALY_DUPLICATE_BALLOT
from ._quorum_base import (
    AbstainRecord,
    ApprovalRequestRecord,
    ApproveRecord,
    QuorumModeRecord,
    QuorumProjectionBase,
    RejectRecord,
)

__all__ = [
    "ANOMALY_DUPLICATE_REQUEST",
    "ANOMALY_UNKNOWN_REQUEST",
    "CHOICE_ABSTAIN",
    "CHOICE_APPROVE",
    "CHOICE_REJECT",
    "PHASE_VOTING",
    "UNSET",
    "EffectiveThreshold",
    "QuorumBallot",
    "QuorumProjection",
]

CHOICE_APPROVE = "approve"
CHOICE_REJECT = "reject"
CHOICE_ABSTAIN = "abstain"

# Phases follow macp-sdk-python 0.22.0 (the runtime keeps none for quorum).
PHASE_VOTING = "Voting"

ANOMALY_DUPLICATE_REQUEST = "duplicate_request"
ANOMALY_UNKNOWN_REQUEST = "unknown_request"


@dataclass(frozen=True)
class QuorumBallot:
    """One participant's ballot (0.22.0's ``BallotRecord``, same constructor)."""

    request_id: str
    vote: str  # approve | reject | abstain
    reason: str
    sender: str
    message_id: str = ""

    @property
    def choice(self) -> str:
        """Same as ``vote`` (this SDK's earlier name)."""
        return self.vote


class _Unset(enum.Enum):
    UNSET = 0


# `effective_threshold=` left out: the request's own required_approvals. An explicit None is
# different: effective_quorum_threshold's "unsatisfiable", a bar no count reaches (as 0.22.0).
UNSET: Final = _Unset.UNSET
EffectiveThreshold: TypeAlias = int | None | _Unset


class QuorumProjection(QuorumProjectionBase):
    """State of one macp.mode.quorum.v1 session (one request per session), from envelopes.

    One ballot per sender across Approve, Reject and Abstain: the first stands (the runtime
    never lets a ballot change) and later ones are ``duplicate_ballot`` anomalies. Ballots for
    another request, or before the request, are anomalies too and are not counted. Phases:
    ``Pending`` → ``Voting`` (the ApprovalRequest) → ``Committed``.

    The threshold is the request's ``required_approvals``. A bound policy may replace it; the
    projection cannot see policies, so the threshold queries accept ``effective_threshold=``
    (:func:`~macp_sdk.policy.effective_quorum_threshold`'s result) for that.
    Eligible voters are the declared participants (the coordinator votes only if declared).
    """

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        self.request: ApprovalRequestRecord | None = None
        # sender -> their (first) ballot on the request, in arrival order.
        self.ballots: dict[str, QuorumBallot] = {}

    # -- hooks ---------------------------------------------------------------------------
    def on_request_approval(self, record: ApprovalRequestRecord) -> None:
        """Called once for each accepted ApprovalRequest."""
        super().on_request_approval(record)
        if self.request is not None:
            self._anomaly(
                ANOMALY_DUPLICATE_REQUEST,
                record,
                f"session already has request {self.request.request_id!r}; ignored",
                record.request_id,
            )
            return
        self.request = record
        self._set_phase(PHASE_VOTING)

    def on_approve(self, record: ApproveRecord) -> None:
        """Called once for each accepted Approve."""
        super().on_approve(record)
        self._cast(record, CHOICE_APPROVE)

    def on_reject(self, record: RejectRecord) -> None:
        """Called once for each accepted Reject."""
        super().on_reject(record)
        self._cast(record, CHOICE_REJECT)

    def on_abstain(self, record: AbstainRecord) -> None:
        """Called once for each accepted Abstain."""
        super().on_abstain(record)
        self._cast(record, CHOICE_ABSTAIN)

    def _cast(self, record: ApproveRecord | RejectRecord | AbstainRecord, choice: str) -> None:
        if self.request is None or record.request_id != self.request.request_id:
            self._note(record, ANOMALY_UNKNOWN_REQUEST, "ballot for a request not seen")
            return
        earlier = self.ballots.get(record.sender)
        if earlier is not None:
            self._note(
                record,
                ANOMALY_DUPLICATE_BALLOT,
                f"sender already voted {earlier.vote}; the first ballot stands",
            )
            return
        self.ballots[record.sender] = QuorumBallot(
            request_id=record.request_id,
            vote=choice,
            reason=record.reason,
            sender=record.sender,
            message_id=record.message_id,
        )

    def _note(self, record: QuorumModeRecord, kind: str, detail: str) -> None:
        self._anomaly(kind, record, detail, record.request_id)

    # -- queries -------------------------------------------------------------------------
    @property
    def requests(self) -> dict[str, ApprovalRequestRecord]:
        """The approval request by id (0.22.0's view; a session here has one)."""
        return {} if self.request is None else {self.request.request_id: self.request}

    @property
    def request_id(self) -> str | None:
        return None if self.request is None else self.request.request_id

    def _matches(self, request_id: str | None) -> bool:
        return self.request is not None and request_id in (None, self.request.request_id)

    def _count(self, choice: str, request_id: str | None) -> int:
        if not self._matches(request_id):
            return 0
        return sum(1 for b in self.ballots.values() if b.vote == choice)

    def approval_count(self, request_id: str | None = None) -> int:
        return self._count(CHOICE_APPROVE, request_id)

    def rejection_count(self, request_id: str | None = None) -> int:
        return self._count(CHOICE_REJECT, request_id)

    def abstention_count(self, request_id: str | None = None) -> int:
        return self._count(CHOICE_ABSTAIN, request_id)

    def voted_senders(self, request_id: str | None = None) -> list[str]:
        return list(self.ballots) if self._matches(request_id) else []

    @property
    def eligible_voters(self) -> list[str]:
        """The declared participants."""
        return list(self.participants)

    def pending_voters(self) -> list[str]:
        """Declared participants who have not cast a ballot."""
        return [p for p in self.participants if p not in self.ballots]

    @staticmethod
    def _override(
        effective_threshold: EffectiveThreshold, required: int | None
    ) -> EffectiveThreshold:
        """``effective_threshold``, or the deprecated ``required=`` in its place (warns)."""
        if required is None:
            return effective_threshold
        if effective_threshold is not UNSET:
            raise TypeError("pass effective_threshold= or required=, not both")
        warnings.warn("required= is deprecated; pass effective_threshold=", DeprecationWarning, 3)
        return required

    def _bar(self, effective_threshold: EffectiveThreshold) -> float:
        """The approvals needed: the override, else the request's ``required_approvals``."""
        if effective_threshold is None:
            return math.inf
        if effective_threshold is UNSET:
            return self.request.required_approvals if self.request is not None else 0
        return effective_threshold

    def threshold(
        self,
        request_id: str | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> int | float:
        """Approvals needed (0 without the request; ``math.inf`` for ``effective_threshold=None``).

        ``effective_threshold`` replaces ``required_approvals``: pass
        :func:`~macp_sdk.policy.effective_quorum_threshold`'s result unchanged. ``required=``
        is this SDK's earlier, deprecated name for an integer override.
        """
        bar = self._bar(self._override(effective_threshold, required))
        return bar if self._matches(request_id) else 0

    def has_quorum(
        self,
        request_id: str | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> bool:
        """Whether approvals have reached the threshold (never without the request)."""
        bar = self._bar(self._override(effective_threshold, required))
        return self._matches(request_id) and self.approval_count(request_id) >= bar

    @property
    def threshold_reached(self) -> bool:
        return self.has_quorum()

    def remaining_votes_needed(
        self,
        request_id: str | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> int | float:
        """Further approvals needed to reach the threshold (0 once reached or without one)."""
        bar = self._bar(self._override(effective_threshold, required))
        if not self._matches(request_id):
            return 0
        return max(0, bar - self.approval_count(request_id))

    def can_still_pass(
        self,
        eligible: int | Sequence[str] | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> bool:
        """Whether the approvals cast plus every ballot not yet cast could reach the threshold.

        ``eligible`` is who may still vote: a list of voters, a head count, or by default the
        declared participants. Abstentions and rejections use up a voter. Reached → True.
        """
        bar = self._bar(self._override(effective_threshold, required))
        if self.request is None:
            return False
        if isinstance(eligible, int):
            outstanding = max(0, eligible - len(self.ballots))
        else:
            voters = self.participants if eligible is None else list(eligible)
            outstanding = sum(1 for p in voters if p not in self.ballots)
        return self.approval_count() + outstanding >= bar

    def is_threshold_unreachable(
        self,
        request_id: str | int | Sequence[str] | None = None,
        total_eligible: int | Sequence[str] | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> bool:
        """The runtime's "can no longer pass" fact (False without the request).

        0.22.0's call, ``(request_id, total_eligible, *, effective_threshold=)``. For this
        SDK's earlier call the first argument may still be ``total_eligible`` (a head count
        or a list of voters, see :meth:`can_still_pass`).
        """
        if request_id is not None and not isinstance(request_id, str):
            if total_eligible is not None:
                raise TypeError("total_eligible given twice")
            request_id, total_eligible = None, request_id
        threshold = self._override(effective_threshold, required)
        return self._matches(request_id) and not self.can_still_pass(
            total_eligible, effective_threshold=threshold
        )

    def commit_eligible(
        self, *, effective_threshold: EffectiveThreshold = UNSET, required: int | None = None
    ) -> bool:
        """The runtime's readiness to commit: threshold reached, or no longer reachable."""
        threshold = self._override(effective_threshold, required)
        return self.has_quorum(effective_threshold=threshold) or self.is_threshold_unreachable(
            effective_threshold=threshold
        )

    @property
    def is_commit_eligible(self) -> bool:
        """:meth:`commit_eligible` with the request's own threshold."""
        return self.commit_eligible()

    def commitment_ready(
        self,
        request_id: str | None = None,
        *,
        effective_threshold: EffectiveThreshold = UNSET,
        required: int | None = None,
    ) -> bool:
        """Threshold reached and not committed yet (0.22.0's query)."""
        threshold = self._override(effective_threshold, required)
        return self.has_quorum(request_id, effective_threshold=threshold) and not self.is_committed
