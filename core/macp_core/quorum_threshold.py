"""The approval bar a Quorum session really needs under its bound policy (RFC-MACP-0012 §4.2).

Semantics, so hand-written: a policy's `threshold` replaces the ApprovalRequest's
`required_approvals` when its `value` is a positive integer. This is the embedded runtime's
rule (`macp_local_runtime.modes.quorum.QuorumRules.threshold`), and
tests/core/test_quorum_threshold.py holds the two together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from macp.v1 import policy_pb2

RulesLike = Mapping[str, Any] | bytes | str | policy_pb2.PolicyDescriptor | None


def _rules_mapping(rules: RulesLike) -> Mapping[str, Any] | None:
    if isinstance(rules, policy_pb2.PolicyDescriptor):
        rules = rules.rules
    if isinstance(rules, bytes | str):
        # Unparsable rules count as `{}`, as the runtime reads them.
        try:
            rules = json.loads(rules) if rules.strip() else None
        except ValueError:
            return None
    return rules if isinstance(rules, Mapping) else None


def effective_quorum_threshold(
    rules: RulesLike, participant_count: int, required_approvals: int
) -> int | None:
    """The approvals a Quorum commitment needs; pass it as ``effective_threshold=``.

    ``rules`` is a PolicyDescriptor, its JSON rules, or the decoded mapping (``None``: no
    policy). No ``threshold``, or a ``value`` that is not a positive integer, leaves
    ``required_approvals``. ``percentage`` is ``ceil(value * participant_count / 100)`` in
    exact integer arithmetic; any other ``type`` (``n_of_m``, ``weighted``) is the value as a
    count. ``None`` (unsatisfiable) only for a percentage over no participants, which the
    runtime never evaluates (a quorum session has participants).
    """
    mapping = _rules_mapping(rules)
    threshold = mapping.get("threshold") if mapping is not None else None
    if not isinstance(threshold, Mapping):
        return required_approvals
    value = threshold.get("value", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return required_approvals
    if threshold.get("type") == "percentage":
        if participant_count <= 0:
            return None
        return -(-value * participant_count // 100)
    return value
