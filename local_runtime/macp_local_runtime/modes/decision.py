"""Decision mode rules, `macp.mode.decision.v1` (runtime-behavior.md §4.1).

Phases: Proposal -> Evaluation (first proposal) -> Voting (first vote) -> Committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from macp.modes.decision.v1 import decision_pb2
from macp_sdk.facts import decision as facts

from ..errors import forbidden, policy_denied
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, decode, require
from .base import require_participant as _require_participant
from .commitment import authorize_commitment, check_policy_schema_version, validate_commitment
from .voting import Ballots, evaluate_decision

MODE = facts.MODE
_BALLOT_TYPES = facts.MESSAGE_TYPES
# The runtime's phases are named after the message that opens them (plus Voting, Committed).
PHASE_PROPOSAL, PHASE_EVALUATION = facts.PROPOSAL, facts.EVALUATION
PHASE_VOTING, PHASE_COMMITTED = "Voting", "Committed"


@dataclass
class DecisionRules(ModeRules):
    phase: str = PHASE_PROPOSAL
    proposals: dict[str, str] = field(default_factory=dict)  # proposal_id -> proposer
    evaluations: list[tuple[str, str, str]] = field(default_factory=list)
    objections: list[tuple[str, str, str]] = field(default_factory=list)  # (pid, sender, sev)
    votes: dict[str, dict[str, str]] = field(default_factory=dict)

    def on_session_start(self, ctx: ModeContext) -> None:
        require(bool(ctx.participants), "decision sessions need participants")

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type in _BALLOT_TYPES:
            _require_participant(ctx, sender)
        elif message_type == "Commitment":
            authorize_commitment(ctx, sender)
        else:
            # The reference's authorization falls through for unknown types.
            raise forbidden(f"unknown message type {message_type}")

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == facts.PROPOSAL:
            return self._proposal(sender, payload)
        if message_type == facts.EVALUATION:
            return self._evaluation(sender, payload)
        if message_type == facts.OBJECTION:
            return self._objection(sender, payload)
        if message_type == facts.VOTE:
            return self._vote(sender, payload)
        return self._commitment(ctx, payload)

    def _proposal(self, sender: str, payload: bytes) -> ModeOutcome:
        require(self.phase != PHASE_VOTING, "proposals are closed once voting started")
        proposal = decode(decision_pb2.ProposalPayload, payload)
        require(bool(proposal.proposal_id.strip()), "proposal_id is blank")
        require(bool(proposal.option.strip()), "option is blank")
        require(proposal.proposal_id not in self.proposals, "duplicate proposal_id")
        self.proposals[proposal.proposal_id] = sender
        self.phase = PHASE_EVALUATION
        return ACCEPTED

    def _evaluation(self, sender: str, payload: bytes) -> ModeOutcome:
        evaluation = decode(decision_pb2.EvaluationPayload, payload)
        recommendation = evaluation.recommendation.upper()
        require(recommendation in facts.RECOMMENDATION_VALUES, "unknown recommendation")
        require(0.0 <= evaluation.confidence <= 1.0, "confidence must be in [0, 1]")
        require(self.phase == PHASE_EVALUATION, "evaluations need the Evaluation phase")
        require(evaluation.proposal_id in self.proposals, "unknown proposal_id")
        self.evaluations.append((evaluation.proposal_id, sender, recommendation))
        return ACCEPTED

    def _objection(self, sender: str, payload: bytes) -> ModeOutcome:
        objection = decode(decision_pb2.ObjectionPayload, payload)
        severity = objection.severity.lower() or facts.SEVERITY_MEDIUM
        require(severity in facts.SEVERITY_VALUES, "unknown severity")
        require(self.phase == PHASE_EVALUATION, "objections need the Evaluation phase")
        require(objection.proposal_id in self.proposals, "unknown proposal_id")
        self.objections.append((objection.proposal_id, sender, severity))
        return ACCEPTED

    def _vote(self, sender: str, payload: bytes) -> ModeOutcome:
        vote = decode(decision_pb2.VotePayload, payload)
        choice = vote.vote.upper()
        require(choice in facts.VOTE_VALUES, "unknown vote")
        require(self.phase in (PHASE_EVALUATION, PHASE_VOTING), "no proposal to vote on")
        require(vote.proposal_id in self.proposals, "unknown proposal_id")
        voted = sender in self.votes.get(vote.proposal_id, {})
        require(not voted, "sender already voted on this proposal")
        self.votes.setdefault(vote.proposal_id, {})[sender] = choice
        self.phase = PHASE_VOTING
        return ACCEPTED

    def _commitment(self, ctx: ModeContext, payload: bytes) -> ModeOutcome:
        commitment = validate_commitment(ctx, payload)
        require(bool(self.proposals), "a commitment needs at least one proposal")
        reasons = check_policy_schema_version(ctx) or evaluate_decision(
            ctx.policy,
            {pid: Ballots(ballots) for pid, ballots in self.votes.items()},
            len(ctx.participants),
            sum(1 for _, _, severity in self.objections if severity == facts.SEVERITY_CRITICAL),
            commitment.outcome_positive,
        )
        if reasons:
            raise policy_denied(*reasons)
        self.phase = PHASE_COMMITTED
        return ModeOutcome(resolution=payload)
