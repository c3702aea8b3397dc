"""The generated policy builders (`macp_sdk.policy`): rules JSON, defaults and validation.

They are generated from proto/macp/policy/v1/*-rules.schema.json, copies of the spec's schemas;
tests/governance/test_differential_0_22.py compares their output with 0.22.0's builders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from macp_sdk import policy
from macp_sdk.errors import MacpSessionError, MacpValidationError

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "spec-schemas" / "policy"
SCHEMAS = sorted((REPO / "proto" / "macp" / "policy" / "v1").glob("*-rules.schema.json"))


def test_the_inputs_are_the_spec_schemas_unchanged() -> None:
    assert [p.name for p in SCHEMAS] == sorted(p.name for p in SPEC.glob("*-rules.schema.json"))
    for path in SCHEMAS:
        assert json.loads(path.read_text()) == json.loads((SPEC / path.name).read_text())


def test_one_builder_per_schema_with_the_mode_id_of_its_mode() -> None:
    modes = {
        "decision": "macp.mode.decision.v1",
        "quorum": "macp.mode.quorum.v1",
        "proposal": "macp.mode.proposal.v1",
        "task": "macp.mode.task.v1",
        "handoff": "macp.mode.handoff.v1",
    }
    for short, mode in modes.items():
        descriptor = getattr(policy, f"build_{short}_policy")(f"p.{short}", "d")
        assert descriptor.mode == mode
        assert descriptor.policy_id == f"p.{short}"
        # 0.22.0's defaults: decision 3 (empty tallies fail closed), the other modes 1.
        assert descriptor.schema_version == (3 if short == "decision" else 1)
        assert isinstance(json.loads(descriptor.rules), dict)


def test_defaults_come_from_the_schema() -> None:
    rules = json.loads(policy.build_decision_policy("p", "d").rules)
    assert rules["voting"] == {"algorithm": "none", "threshold": 0.5}
    assert rules["objection_handling"] == {
        "critical_severity_vetoes": False,
        "veto_threshold": 1,
        "critical_objection_action": "deny",
    }
    assert rules["commitment"]["authority"] == "initiator_only"
    # No default in the schema; 0.22.0's (builder-overrides.json) is 1.
    quorum = json.loads(policy.build_quorum_policy("q", "d").rules)
    assert quorum["threshold"] == {"type": "n_of_m", "value": 1}
    assert policy.QuorumThreshold().value == 1


def test_an_unset_quorum_value_is_written_as_the_schema_s_integer_zero() -> None:
    # 0.22.0 writes `"value": 0`, not `0.0`: the rules text is byte-identical.
    voting = policy.VotingRules(algorithm="majority", quorum_type="percentage")
    rules = policy.build_decision_policy("p", "d", voting=voting).rules
    assert '"quorum": {"type": "percentage", "value": 0}' in rules


def test_a_nested_object_is_emitted_when_one_member_is_set_with_the_other_defaulted() -> None:
    voting = policy.VotingRules(algorithm="majority", quorum_value=3)
    rules = json.loads(policy.build_decision_policy("p", "d", voting=voting).rules)
    assert rules["voting"]["quorum"] == {"type": "count", "value": 3}


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: policy.VotingRules(algorithm="rank"), "voting.algorithm"),
        (lambda: policy.VotingRules(threshold=1.5), "voting.threshold"),
        (lambda: policy.VotingRules(threshold=float("nan")), "voting.threshold"),
        (lambda: policy.VotingRules(quorum_type="share"), "voting.quorum.type"),
        (lambda: policy.VotingRules(weights={"a": -1.0}), "voting.weights['a']"),
        # Beyond the schema, as 0.22.0 (builder-overrides.json):
        (lambda: policy.VotingRules(threshold=0), "voting.threshold"),
        (lambda: policy.VotingRules(algorithm="majority", threshold=0.4), "voting.threshold"),
        (lambda: policy.VotingRules(weights={}), "voting.weights"),
        (lambda: policy.VotingRules(weights={"a": 0.0}), "voting.weights['a']"),
        (lambda: policy.VotingRules(weights={"a": float("inf")}), "voting.weights['a']"),
        (lambda: policy.VotingRules(algorithm="weighted", weights={}), "voting.weights"),
        (lambda: policy.VotingRules(algorithm="weighted"), "voting.weights"),
        (lambda: policy.VotingRules(algorithm="supermajority"), "voting.threshold"),
        (
            lambda: policy.CommitmentRules(authority="designated_role"),
            "commitment.designated_roles",
        ),
        (lambda: policy.CommitmentRules(authority="anyone"), "commitment.authority"),
        (
            lambda: policy.ObjectionHandlingRules(veto_threshold=0),
            "objection_handling.veto_threshold",
        ),
        (
            lambda: policy.ObjectionHandlingRules(veto_threshold=True),
            "objection_handling.veto_threshold",
        ),
    ],
)
def test_decision_rules_outside_the_schema_are_refused(build, path: str) -> None:  # type: ignore[no-untyped-def]
    rules = build()
    section = {
        policy.VotingRules: "voting",
        policy.CommitmentRules: "commitment",
        policy.ObjectionHandlingRules: "objection_handling",
    }[type(rules)]
    with pytest.raises(MacpValidationError) as caught:
        policy.build_decision_policy("p", "d", **{section: rules})
    assert caught.value.field == path
    assert isinstance(caught.value, MacpSessionError)  # what 0.22.0 raises


def test_a_conditional_refusal_says_when_it_applies() -> None:
    voting = policy.VotingRules(algorithm="supermajority", threshold=0.5)
    with pytest.raises(MacpValidationError) as caught:
        policy.build_decision_policy("p", "d", voting=voting)
    assert str(caught.value) == (
        "invalid voting.threshold=0.5: expected > 0.5. "
        "Required when voting.algorithm is 'supermajority'."
    )


@pytest.mark.parametrize("short", ["quorum", "proposal", "task", "handoff", "decision"])
def test_designated_role_without_roles_is_refused_by_every_builder(short: str) -> None:
    build = getattr(policy, f"build_{short}_policy")
    with pytest.raises(MacpValidationError) as caught:
        build("p", "d", commitment=policy.CommitmentRules(authority="designated_role"))
    assert caught.value.field == "commitment.designated_roles"
    assert "designated_role" in str(caught.value)
    roles = policy.CommitmentRules(authority="designated_role", designated_roles=["lead"])
    assert json.loads(build("p", "d", commitment=roles).rules)["commitment"][
        "designated_roles"
    ] == ["lead"]


@pytest.mark.parametrize(
    ("threshold", "refused"),
    [
        (policy.QuorumThreshold(type="weighted", value=2), "threshold.type"),
        (policy.QuorumThreshold(value=0), "threshold.value"),
        (policy.QuorumThreshold(type="percentage", value=101), "threshold.value"),
        (policy.QuorumThreshold(value=True), "threshold.value"),
        (policy.QuorumThreshold(value=0.75), "threshold.value"),  # type: ignore[arg-type]
    ],
)
def test_quorum_thresholds_0_22_refuses_are_refused(
    threshold: policy.QuorumThreshold, refused: str
) -> None:
    with pytest.raises(MacpValidationError) as caught:
        policy.build_quorum_policy("q", "d", threshold=threshold)
    assert caught.value.field == refused
    assert isinstance(caught.value, MacpSessionError)


def test_a_hundred_percent_and_large_counts_are_accepted() -> None:
    for threshold in (
        policy.QuorumThreshold(type="percentage", value=100),
        policy.QuorumThreshold(value=500),
    ):
        rules = json.loads(policy.build_quorum_policy("q", "d", threshold=threshold).rules)
        assert rules["threshold"]["value"] == threshold.value


@pytest.mark.parametrize("short", ["quorum", "proposal", "task", "handoff", "decision"])
def test_schema_versions_the_runtime_does_not_evaluate_are_refused(short: str) -> None:
    build = getattr(policy, f"build_{short}_policy")
    for version in (0, 4, True):
        with pytest.raises(MacpValidationError, match="schema_version"):
            build("p", "d", schema_version=version)
    assert [build("p", "d", schema_version=v).schema_version for v in (1, 2, 3)] == [1, 2, 3]


def test_other_modes_check_their_own_rules() -> None:
    with pytest.raises(MacpValidationError, match="interpretation"):
        policy.build_quorum_policy("q", "d", abstention=policy.AbstentionRules(interpretation="x"))
    with pytest.raises(MacpValidationError, match="threshold.value"):
        policy.build_quorum_policy("q", "d", threshold=policy.QuorumThreshold(value=-1))
    with pytest.raises(MacpValidationError, match="max_rounds"):
        policy.build_proposal_policy(
            "p", "d", counter_proposal=policy.CounterProposalRules(max_rounds=-1)
        )
    with pytest.raises(MacpValidationError, match="implicit_accept_timeout_ms"):
        policy.build_handoff_policy(
            "h",
            "d",
            acceptance=policy.HandoffAcceptanceRules(implicit_accept_timeout_ms=1.5),  # type: ignore[arg-type]
        )


def test_a_decision_only_commitment_rule_is_refused_by_the_other_modes() -> None:
    commitment = policy.CommitmentRules(require_vote_quorum=True)
    decision = json.loads(policy.build_decision_policy("p", "d", commitment=commitment).rules)
    assert decision["commitment"]["require_vote_quorum"] is True
    with pytest.raises(MacpValidationError, match="macp.mode.task.v1 has no such rule"):
        policy.build_task_policy("t", "d", commitment=commitment)
    task = json.loads(policy.build_task_policy("t", "d").rules)
    assert set(task["commitment"]) == {"authority", "designated_roles"}


def test_descriptor_fields_extensions_and_annotations() -> None:
    with pytest.raises(MacpValidationError, match="policy_id"):
        policy.build_task_policy("", "d")
    with pytest.raises(MacpValidationError, match="schema_version"):
        policy.build_task_policy("t", "d", schema_version=0)
    descriptor = policy.build_task_policy(
        "t", "d", extensions={"x-com.acme.audit": {"level": 2}}, annotations={"_note": "hi"}
    )
    rules = json.loads(descriptor.rules)
    assert rules["x-com.acme.audit"] == {"level": 2} and rules["_note"] == "hi"
    with pytest.raises(MacpValidationError, match="extensions"):
        policy.build_task_policy("t", "d", extensions={"audit": {}})
    with pytest.raises(MacpValidationError, match="annotations"):
        policy.build_task_policy("t", "d", annotations={"commitment": 1})


def test_0_22_names_are_importable_from_the_top_level() -> None:
    import macp_sdk

    for name in (
        "ABSTENTION_INTERPRETATIONS",
        "COMMITMENT_AUTHORITIES",
        "CRITICAL_OBJECTION_ACTIONS",
        "PROPOSAL_ACCEPTANCE_CRITERIA",
        "AbstentionRules",
        "CommitmentRules",
        "CounterProposalRules",
        "EvaluationRules",
        "HandoffAcceptanceRules",
        "ObjectionHandlingRules",
        "ProposalAcceptanceRules",
        "QuorumThreshold",
        "RejectionRules",
        "TaskAssignmentRules",
        "TaskCompletionRules",
        "VotingRules",
        "build_decision_policy",
        "build_handoff_policy",
        "build_proposal_policy",
        "build_quorum_policy",
        "build_task_policy",
        "effective_quorum_threshold",
    ):
        assert getattr(macp_sdk, name) is getattr(policy, name), name
