"""`effective_quorum_threshold` (core) is the embedded runtime's own threshold rule."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from macp_local_runtime.modes.base import ModeContext
from macp_local_runtime.modes.quorum import QuorumRules
from macp_local_runtime.policy import Policy
from macp_sdk import build_quorum_policy, effective_quorum_threshold
from macp_sdk.policy import QuorumThreshold

_values = st.one_of(
    st.integers(min_value=-5, max_value=10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
_threshold = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["n_of_m", "percentage", "weighted", "count", "other", 3]),
            "value": _values,
        },
    ),
)


def _runtime_threshold(rules: dict[str, object], participants: int, required: int) -> int:
    policy = Policy("p.q", "macp.mode.quorum.v1", "", 1, rules)
    ctx = ModeContext(
        session_id="s",
        mode="macp.mode.quorum.v1",
        initiator="lead",
        participants=tuple(f"a{i}" for i in range(participants)),
        mode_version="1.0.0",
        configuration_version="config.default",
        policy=policy,
        now_ms=0,
    )
    rules_state = QuorumRules(request_id="r", required_approvals=required)
    return rules_state.threshold(ctx)


@settings(max_examples=400, deadline=None)
@given(
    threshold=_threshold,
    participants=st.integers(min_value=1, max_value=1000),
    required=st.integers(min_value=1, max_value=1000),
)
def test_matches_the_runtime_rule(threshold: object, participants: int, required: int) -> None:
    rules: dict[str, object] = {} if threshold is None else {"threshold": threshold}
    expected = _runtime_threshold(rules, participants, required)
    assert effective_quorum_threshold(rules, participants, required) == expected
    # The same through the descriptor and its JSON, as a client holds them.
    text = json.dumps(rules, allow_nan=True)
    assert effective_quorum_threshold(text, participants, required) == expected
    assert effective_quorum_threshold(text.encode(), participants, required) == expected


def test_built_policies_and_no_policy() -> None:
    assert effective_quorum_threshold(None, 5, 3) == 3
    assert effective_quorum_threshold("not json", 5, 3) == 3
    descriptor = build_quorum_policy(
        "q", "d", threshold=QuorumThreshold(type="percentage", value=50)
    )
    assert effective_quorum_threshold(descriptor, 5, 1) == 3  # ceil(50% of 5)
    assert effective_quorum_threshold(descriptor, 5, 1) == _runtime_threshold(
        json.loads(descriptor.rules), 5, 1
    )
    # Above the participant count stays as given (then unreachable), as the runtime keeps it.
    count = build_quorum_policy("q", "d", threshold=QuorumThreshold(value=9))
    assert effective_quorum_threshold(count, 3, 1) == 9
    # The default threshold is 0.22.0's `n_of_m` 1: it replaces required_approvals, as on the
    # runtime; a policy without a threshold leaves required_approvals.
    default = build_quorum_policy("q", "d")
    assert effective_quorum_threshold(default, 3, 2) == 1
    assert _runtime_threshold(json.loads(default.rules), 3, 2) == 1
    assert effective_quorum_threshold({"abstention": {}}, 3, 2) == 2
    # A percentage over no participants is unsatisfiable (the runtime never evaluates it).
    assert effective_quorum_threshold(descriptor, 0, 1) is None
