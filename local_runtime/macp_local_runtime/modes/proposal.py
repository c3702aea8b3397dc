"""Proposal mode rules, `macp.mode.proposal.v1` (runtime-behavior.md §4.2).

The phase is recomputed after every message: any terminal rejection -> TerminalRejected; else a
live proposal meeting the acceptance criterion -> Converged; else Negotiating.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from macp.modes.proposal.v1 import proposal_pb2
from macp_sdk.facts import proposal as facts

from ..errors import forbidden, policy_denied
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, decode, require
from .base import require_participant as _require_participant
from .commitment import authorize_commitment, check_policy_schema_version, validate_commitment

MODE = facts.MODE
_TYPES = (facts.PROPOSAL, facts.COUNTER_PROPOSAL, facts.ACCEPT, facts.REJECT, facts.WITHDRAW)


@dataclass
class ProposalRecord:
    proposer: str
    supersedes: str = ""
    withdrawn: bool = False


@dataclass
class ProposalRules(ModeRules):
    proposals: dict[str, ProposalRecord] = field(default_factory=dict)
    accepts: dict[str, str] = field(default_factory=dict)  # sender -> proposal_id
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (sender, proposal_id)
    terminal_rejections: list[tuple[str, str]] = field(default_factory=list)
    counter_proposals: int = 0
    phase: str = "Negotiating"

    def on_session_start(self, ctx: ModeContext) -> None:
        require(bool(ctx.participants), "proposal sessions need participants")

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == "Commitment":
            authorize_commitment(ctx, sender)
        else:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == "Commitment":
            return self._commitment(ctx, payload)
        require(message_type in _TYPES, f"unknown message type {message_type}")
        if message_type == facts.PROPOSAL:
            self._proposal(sender, payload)
        elif message_type == facts.COUNTER_PROPOSAL:
            self._counter_proposal(ctx, sender, payload)
        elif message_type == facts.ACCEPT:
            self._accept(sender, payload)
        elif message_type == facts.REJECT:
            self._reject(ctx, sender, payload)
        else:
            self._withdraw(sender, payload)
        self.phase = self._compute_phase(ctx)
        return ACCEPTED

    def _proposal(self, sender: str, payload: bytes) -> None:
        proposal = decode(proposal_pb2.ProposalPayload, payload)
        require(bool(proposal.proposal_id.strip()), "proposal_id is blank")
        require(proposal.proposal_id not in self.proposals, "duplicate proposal_id")
        self.proposals[proposal.proposal_id] = ProposalRecord(proposer=sender)

    def _counter_proposal(self, ctx: ModeContext, sender: str, payload: bytes) -> None:
        counter = decode(proposal_pb2.CounterProposalPayload, payload)
        require(bool(counter.proposal_id.strip()), "proposal_id is blank")
        require(bool(counter.supersedes_proposal_id.strip()), "supersedes_proposal_id is blank")
        require(counter.proposal_id not in self.proposals, "duplicate proposal_id")
        require(counter.supersedes_proposal_id in self.proposals, "superseded proposal unknown")
        max_rounds = _int_rule(ctx, "counter_proposal", "max_rounds")
        require(
            max_rounds <= 0 or self.counter_proposals < max_rounds,
            "counter-proposal rounds exhausted",
        )
        self.proposals[counter.proposal_id] = ProposalRecord(
            proposer=sender, supersedes=counter.supersedes_proposal_id
        )
        self.counter_proposals += 1

    def _live(self, proposal_id: str) -> bool:
        record = self.proposals.get(proposal_id)
        return record is not None and not record.withdrawn

    def _accept(self, sender: str, payload: bytes) -> None:
        accept = decode(proposal_pb2.AcceptPayload, payload)
        require(self._live(accept.proposal_id), "proposal is unknown or withdrawn")
        self.accepts[sender] = accept.proposal_id

    def _reject(self, ctx: ModeContext, sender: str, payload: bytes) -> None:
        reject = decode(proposal_pb2.RejectPayload, payload)
        require(self._live(reject.proposal_id), "proposal is unknown or withdrawn")
        rejection = ctx.policy.section("rejection")
        if reject.terminal or rejection.get("terminal_on_any_reject", False) is True:
            self.terminal_rejections.append((sender, reject.proposal_id))
        else:
            self.rejections.append((sender, reject.proposal_id))

    def _withdraw(self, sender: str, payload: bytes) -> None:
        withdraw = decode(proposal_pb2.WithdrawPayload, payload)
        require(bool(withdraw.proposal_id.strip()), "proposal_id is blank")
        record = self.proposals.get(withdraw.proposal_id)
        require(record is not None, "proposal is unknown")
        assert record is not None
        if record.proposer != sender:
            raise forbidden("only the proposer may withdraw")
        require(not record.withdrawn, "proposal already withdrawn")
        record.withdrawn = True
        pid = withdraw.proposal_id
        self.accepts = {s: p for s, p in self.accepts.items() if p != pid}
        self.terminal_rejections = [(s, p) for s, p in self.terminal_rejections if p != pid]

    def _compute_phase(self, ctx: ModeContext) -> str:
        if self.terminal_rejections:
            return "TerminalRejected"
        if any(self._converged(ctx, pid) for pid in self.proposals if self._live(pid)):
            return "Converged"
        return "Negotiating"

    def _converged(self, ctx: ModeContext, proposal_id: str) -> bool:
        criterion = ctx.policy.section("acceptance").get("criterion", "all_parties")
        if criterion == "initiator":
            required = [ctx.initiator]
        elif criterion == "counterparty":
            proposer = self.proposals[proposal_id].proposer
            required = [p for p in ctx.participants if p != proposer]
        else:
            required = list(ctx.participants)
        return bool(required) and all(self.accepts.get(p) == proposal_id for p in required)

    def _commitment(self, ctx: ModeContext, payload: bytes) -> ModeOutcome:
        commitment = validate_commitment(ctx, payload)
        require(
            self._compute_phase(ctx) in ("Converged", "TerminalRejected"),
            "no convergence and no terminal rejection",
        )
        reasons = check_policy_schema_version(ctx)
        max_rounds = _int_rule(ctx, "counter_proposal", "max_rounds")
        if commitment.outcome_positive and 0 < max_rounds < self.counter_proposals:
            reasons.append("counter-proposal rounds exceeded")
        if reasons:
            raise policy_denied(*reasons)
        self.phase = "Committed"
        return ModeOutcome(resolution=payload)


def _int_rule(ctx: ModeContext, section: str, name: str) -> int:
    value = ctx.policy.section(section).get(name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
