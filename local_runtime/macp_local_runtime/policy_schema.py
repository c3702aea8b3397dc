"""Shape checks for policy rules, per mode (the schemas in protocol.md §8 "Policy rule schemas").

Only the known fields are checked (type, range, allowed values); unknown keys such as an
`audit` block pass through, and modes without a schema accept any JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from macp_sdk.facts import decision, handoff, proposal, quorum, task

Check = Callable[[Any], bool]


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _number(low: float | None = None, high: float | None = None) -> Check:
    def check(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def _integer(low: int) -> Check:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low

    return check


def _one_of(*allowed: str) -> Check:
    return lambda value: isinstance(value, str) and value in allowed


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _number_map(value: Any) -> bool:
    return isinstance(value, dict) and all(_number()(v) for v in value.values())


def _quorum_block(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return _fields_ok(value, {"type": _one_of("count", "percentage"), "value": _number(0)})


_COMMITMENT: Mapping[str, Check] = {
    "authority": _one_of("initiator_only", "any_participant", "designated_role"),
    "designated_roles": _strings,
    "require_vote_quorum": _boolean,
    "allow_decline_over_approval": _boolean,
}

_DECISION: Mapping[str, Mapping[str, Check]] = {
    "voting": {
        "algorithm": _one_of(
            "none", "majority", "supermajority", "unanimous", "weighted", "plurality"
        ),
        "threshold": _number(0, 1),
        "quorum": _quorum_block,
        "weights": _number_map,
    },
    "objection_handling": {
        "critical_severity_vetoes": _boolean,
        "veto_threshold": _integer(1),
        "critical_objection_action": _one_of("deny", "finalize_decline", "hold"),
    },
    "evaluation": {"minimum_confidence": _number(0, 1), "required_before_voting": _boolean},
    "commitment": _COMMITMENT,
}

SCHEMAS: Mapping[str, Mapping[str, Mapping[str, Check]]] = {
    "*": _DECISION,
    decision.MODE: _DECISION,
    quorum.MODE: {
        "threshold": {"type": _one_of("n_of_m", "percentage", "weighted"), "value": _integer(0)},
        "abstention": {
            "counts_toward_quorum": _boolean,
            "interpretation": _one_of("neutral", "implicit_reject", "ignored"),
        },
        "commitment": _COMMITMENT,
    },
    proposal.MODE: {
        "acceptance": {"criterion": _one_of("all_parties", "counterparty", "initiator")},
        "counter_proposal": {"max_rounds": _integer(0)},
        "rejection": {"terminal_on_any_reject": _boolean},
        "commitment": _COMMITMENT,
    },
    task.MODE: {
        "assignment": {"allow_reassignment_on_reject": _boolean},
        "completion": {"require_output": _boolean},
        "commitment": _COMMITMENT,
    },
    handoff.MODE: {
        "acceptance": {"implicit_accept_timeout_ms": _integer(0)},
        "commitment": _COMMITMENT,
    },
}


def _fields_ok(block: Mapping[str, Any], checks: Mapping[str, Check]) -> bool:
    return all(name not in block or check(block[name]) for name, check in checks.items())


def validate_rules(mode: str, rules: Mapping[str, Any]) -> None:
    """Raise ValueError when `rules` does not fit the mode's schema."""
    schema = SCHEMAS.get(mode)
    if schema is None:
        return
    for section, checks in schema.items():
        if section not in rules:
            continue
        block = rules[section]
        if not isinstance(block, dict):
            raise ValueError(f"rules.{section} must be an object")
        for name, check in checks.items():
            if name in block and not check(block[name]):
                raise ValueError(f"rules.{section}.{name} has an invalid value")
    _validate_cross_fields(rules)


def _validate_cross_fields(rules: Mapping[str, Any]) -> None:
    voting = rules.get("voting")
    if isinstance(voting, dict):
        algorithm = voting.get("algorithm")
        if algorithm == "weighted" and not voting.get("weights"):
            raise ValueError("voting.algorithm 'weighted' requires voting.weights")
        if algorithm == "supermajority" and not float(voting.get("threshold", 0.5)) > 0.5:
            raise ValueError("voting.algorithm 'supermajority' requires threshold > 0.5")
    commitment = rules.get("commitment")
    if isinstance(commitment, dict) and commitment.get("authority") == "designated_role":
        if not commitment.get("designated_roles"):
            raise ValueError("commitment.authority 'designated_role' requires designated_roles")
