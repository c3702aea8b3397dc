"""Commitment-time evaluation of a decision policy's voting and objection rules.

With `voting.algorithm` "none" (the default policy) only the objection veto can deny. Otherwise
the ballots are tallied per proposal; the session's vote "passed" when any proposal meets the
algorithm. Schema version 2 adds the vote-gated decline (protocol.md §3.1): a negative outcome
then needs a failed vote with at least one explicit REJECT.

Schema version 3 (RFC-MACP-0012 §4.1 as macp-sdk-python 0.22.0 documents it, its decision
builder's default) keeps version 2's rules and makes two of them explicit: an empty decisive
tally (no APPROVE or REJECT ballot) fails closed for every algorithm but "none", whatever
`commitment.require_vote_quorum` says, and that flag only gates on the participation floor
(`voting.quorum`), so over a floor of zero it gates nothing. This evaluator already denied a
positive commitment on an empty tally under versions 1 and 2 (the reference runtime's
behaviour, kept unchanged), so the versions differ here in the reason given, not the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from macp_sdk.facts import decision as facts

from ..policy import Policy


class VoteResult(Enum):
    PASSED = "passed"
    FAILED = "failed"
    NO_VOTES = "no_votes"


@dataclass(frozen=True)
class Ballots:
    """Votes of one proposal: sender -> APPROVE | REJECT | ABSTAIN."""

    by_sender: Mapping[str, str]

    def count(self, choice: str) -> int:
        return sum(1 for vote in self.by_sender.values() if vote == choice)


def _number(block: Mapping[str, Any], name: str, default: float) -> float:
    value = block.get(name, default)
    return float(value) if isinstance(value, int | float) else default


def _proposal_passes(voting: Mapping[str, Any], ballots: Ballots) -> bool:
    algorithm = voting.get("algorithm", "none")
    threshold = _number(voting, "threshold", 0.5)
    approvals, rejections = ballots.count(facts.VOTE_APPROVE), ballots.count(facts.VOTE_REJECT)
    decisive = approvals + rejections
    if decisive == 0:
        return False
    if algorithm == "majority":
        return approvals * 2 > decisive
    if algorithm == "supermajority":
        return approvals >= threshold * decisive
    if algorithm == "unanimous":
        return rejections == 0
    if algorithm == "plurality":
        return approvals > rejections
    if algorithm == "weighted":
        weights = voting.get("weights")
        weights = weights if isinstance(weights, dict) else {}

        def weight(sender: str) -> float:
            value = weights.get(sender, 1.0)
            return float(value) if isinstance(value, int | float) else 1.0

        approve_weight = sum(
            weight(s) for s, v in ballots.by_sender.items() if v == facts.VOTE_APPROVE
        )
        decisive_weight = sum(
            weight(s) for s, v in ballots.by_sender.items() if v != facts.VOTE_ABSTAIN
        )
        return decisive_weight > 0 and approve_weight >= threshold * decisive_weight
    return False


def vote_quorum_met(voting: Mapping[str, Any], ballots: Ballots, participants: int) -> bool:
    quorum = voting.get("quorum")
    if not isinstance(quorum, dict):
        return True
    required = _number(quorum, "value", 0.0)
    if required <= 0:
        return True
    cast = len(ballots.by_sender)
    if quorum.get("type") == "percentage":
        return cast >= math.ceil(required * participants / 100)
    return cast >= required


def decisive_ballots(votes: Mapping[str, Ballots]) -> int:
    return sum(
        ballots.count(facts.VOTE_APPROVE) + ballots.count(facts.VOTE_REJECT)
        for ballots in votes.values()
    )


def tally(voting: Mapping[str, Any], votes: Mapping[str, Ballots]) -> VoteResult:
    if not any(ballots.by_sender for ballots in votes.values()):
        return VoteResult.NO_VOTES
    if any(_proposal_passes(voting, ballots) for ballots in votes.values()):
        return VoteResult.PASSED
    return VoteResult.FAILED


def _critical_objection_reasons(
    policy: Policy, critical_objections: int, outcome_positive: bool
) -> list[str]:
    handling = policy.section("objection_handling")
    if not handling.get("critical_severity_vetoes", False):
        return []
    veto_threshold = int(_number(handling, "veto_threshold", 1))
    if critical_objections < veto_threshold:
        return []
    action = handling.get("critical_objection_action", "deny")
    if action == "hold":
        return ["critical objections hold the decision"]
    if outcome_positive or action == "deny":
        return ["critical objection veto"]
    return []  # finalize_decline: a decline is allowed


def evaluate_decision(
    policy: Policy,
    votes: Mapping[str, Ballots],
    participants: int,
    critical_objections: int,
    outcome_positive: bool,
) -> list[str]:
    """Reasons to deny the commitment; empty when the policy allows it."""
    reasons = _critical_objection_reasons(policy, critical_objections, outcome_positive)
    if reasons:
        return reasons
    handling = policy.section("objection_handling")
    if (
        not outcome_positive
        and handling.get("critical_objection_action") == "finalize_decline"
        and handling.get("critical_severity_vetoes", False)
        and critical_objections >= int(_number(handling, "veto_threshold", 1))
    ):
        return []
    voting = policy.section("voting")
    if voting.get("algorithm", "none") == "none":
        return []
    commitment = policy.section("commitment")
    require_quorum = bool(commitment.get("require_vote_quorum", False))
    all_ballots = Ballots({f"{p}/{s}": v for p, b in votes.items() for s, v in b.by_sender.items()})
    quorum_met = vote_quorum_met(voting, all_ballots, participants)
    result = tally(voting, votes)
    if outcome_positive:
        if policy.schema_version >= 3 and decisive_ballots(votes) == 0:
            return ["no decisive votes: an empty tally fails closed (schema_version 3)"]
        if result is not VoteResult.PASSED:
            return ["voting threshold not met"]
        if require_quorum and not quorum_met:
            return ["vote quorum not met"]
        return []
    if policy.schema_version < 2:
        return []  # before the decline rules, a negative outcome is taken at face value
    if result is VoteResult.PASSED:
        if commitment.get("allow_decline_over_approval", False):
            return []
        return ["vote passed; decline over approval not allowed"]
    if result is VoteResult.NO_VOTES:
        return ["no votes cast; decline requires an explicit REJECT vote"]
    if all_ballots.count(facts.VOTE_REJECT) == 0:
        return ["decline requires at least one explicit REJECT vote"]
    if require_quorum and not quorum_met:
        return ["vote quorum not met"]
    return []
