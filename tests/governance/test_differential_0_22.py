"""Differential test against macp-sdk-python 0.22.0, each SDK in its own process and
environment: receipts each builds verify with the other's `verify_receipt`, commitment hashes
agree, the embedded runtime's receipts verify with 0.22.0, and the generated policy builders
emit 0.22.0's rules."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .anchor import anchor_python, run_side

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032 test 1
OURS = sys.executable

COMMITMENTS: list[dict[str, Any]] = [
    {
        "commitment_id": "c-1",
        "action": "decision.selected",
        "authority_scope": "team",
        "reason": "plain",
        "mode_version": "1.0.0",
        "policy_version": "policy.default",
        "configuration_version": "config.default",
        "outcome_positive": True,
    },
    {
        "commitment_id": "c-2 ✓ 😀 é",
        "action": "decision.rejected",
        "authority_scope": 'quote " backslash \\ tab \t nl \n ctrl \u0001 del \u007f',
        "reason": "\u2028 line sep, \ufeff bom",
        "mode_version": "",
        "policy_version": "",
        "configuration_version": "",
        "outcome_positive": False,
    },
    {
        "commitment_id": "c-3",
        "action": "task.completed",
        "authority_scope": "s",
        "reason": "supersedes",
        "mode_version": "1.0.0",
        "policy_version": "p",
        "configuration_version": "c",
        "outcome_positive": True,
        "supersedes": {"session_id": "old", "commitment_hash": "sha256:" + "a" * 64},
    },
    {
        "commitment_id": "",
        "action": "",
        "authority_scope": "",
        "reason": "",
        "mode_version": "",
        "policy_version": "",
        "configuration_version": "",
        "outcome_positive": False,
        "supersedes": {"session_id": "", "commitment_hash": ""},
    },
]

ATTESTED = {"integrity": "match", "attestations": ["valid"], "verdict": "attested"}


@pytest.fixture(scope="module")
def anchor() -> Path:
    return anchor_python()


def _jwks(python: Path | str, kid: str) -> Any:
    return run_side(python, {"op": "public_jwk", "seed": SEED, "kid": kid})


def test_commitment_hashes_agree(anchor: Path) -> None:
    request = {"op": "hashes", "commitments": COMMITMENTS}
    ours = run_side(OURS, request)
    assert ours == run_side(anchor, request)
    assert len(set(ours)) == len(COMMITMENTS)


def test_receipts_we_build_verify_with_0_22_and_theirs_with_ours(anchor: Path) -> None:
    build = {"op": "build", "commitments": COMMITMENTS, "seed": SEED, "kid": "k", "issuer": "i"}
    ours = run_side(OURS, build)
    theirs = run_side(anchor, build)
    # Ed25519 and JCS are deterministic: the same inputs give the same receipt on both sides.
    assert ours == theirs
    jwks = _jwks(anchor, "k")
    assert run_side(OURS, {"op": "public_jwk", "seed": SEED, "kid": "k"}) == jwks

    assert run_side(anchor, {"op": "verify", "receipts": ours, "jwks": jwks}) == [ATTESTED] * 4
    assert run_side(OURS, {"op": "verify", "receipts": theirs, "jwks": jwks}) == [ATTESTED] * 4


def test_both_sides_judge_tampered_receipts_alike(anchor: Path) -> None:
    build = {"op": "build", "commitments": COMMITMENTS[:1], "seed": SEED, "kid": "k", "issuer": "i"}
    (receipt,) = run_side(OURS, build)
    variants = []
    for change in (
        {"issuer": "forged"},
        {"commitment_hash": "sha256:" + "0" * 64},
        {"commitment": {**receipt["commitment"], "reason": "forged"}},
        {"commitment_wire_b64": "AAAA"},
        {"receipt_format": "other"},
        {"attestations": [{"type": "vendor", "format": "x", "binds": "receipt", "value": "v"}]},
        {"transcript": {"digest_alg": "sha-256", "digest": "abc", "message_count": 0.5}},
    ):
        variants.append({**receipt, **change})
    request = {"op": "verify", "receipts": variants, "jwks": _jwks(anchor, "k")}
    ours = run_side(OURS, request)
    assert ours == run_side(anchor, request)
    assert {v["verdict"] for v in ours} == {"integrity_only", "unverified", "refused"}


def test_the_embedded_runtime_receipts_verify_with_0_22(anchor: Path) -> None:
    issued = run_side(OURS, {"op": "runtime_receipt", "reason": "ship ✓"})
    request = {"op": "verify", "receipts": [issued["receipt"]], "jwks": issued["jwks"]}
    assert run_side(anchor, request) == [ATTESTED]
    assert run_side(OURS, request) == [ATTESTED]


POLICY_CASES: list[dict[str, Any]] = [
    {"builder": "build_decision_policy", "kwargs": {"schema_version": 2}},
    {
        "builder": "build_decision_policy",
        "kwargs": {
            "schema_version": 1,
            "voting": [
                "VotingRules",
                {
                    "algorithm": "weighted",
                    "threshold": 0.6,
                    "quorum_type": "percentage",
                    "quorum_value": 0.5,
                    "weights": {"a": 2.0, "b": 1.0},
                },
            ],
            "objection_handling": [
                "ObjectionHandlingRules",
                {"critical_severity_vetoes": True, "veto_threshold": 2},
            ],
            "evaluation": ["EvaluationRules", {"minimum_confidence": 0.7}],
            "commitment": [
                "CommitmentRules",
                {"authority": "designated_role", "designated_roles": ["lead"]},
            ],
        },
    },
    {
        "builder": "build_quorum_policy",
        "kwargs": {
            "threshold": ["QuorumThreshold", {"type": "percentage", "value": 60}],
            "abstention": ["AbstentionRules", {"interpretation": "implicit_reject"}],
        },
    },
    {"builder": "build_proposal_policy", "kwargs": {}},
    {
        "builder": "build_proposal_policy",
        "kwargs": {
            "acceptance": ["ProposalAcceptanceRules", {"criterion": "counterparty"}],
            "counter_proposal": ["CounterProposalRules", {"max_rounds": 3}],
            "rejection": ["RejectionRules", {"terminal_on_any_reject": True}],
        },
    },
    {
        "builder": "build_task_policy",
        "kwargs": {
            "assignment": ["TaskAssignmentRules", {"allow_reassignment_on_reject": True}],
            "completion": ["TaskCompletionRules", {"require_output": True}],
            "annotations": {"_why": "audit"},
        },
    },
    {
        "builder": "build_handoff_policy",
        "kwargs": {
            "acceptance": ["HandoffAcceptanceRules", {"implicit_accept_timeout_ms": 500}],
            "extensions": {"x-com.acme.audit": {"level": 1}},
        },
    },
]


BUILDERS = ["decision", "quorum", "proposal", "task", "handoff"]
DEFAULT_CASES: list[dict[str, Any]] = [
    {"builder": f"build_{short}_policy", "kwargs": {}} for short in BUILDERS
]


def _sampled_cases(count: int, seed: int) -> list[dict[str, Any]]:
    """Argument sets drawn from each rule's domain and a little beyond it (fixed seed): most
    build, some are refused; both sides must agree on every one."""
    rng = random.Random(seed)
    pick = rng.choice

    def odd(valid: list[Any], invalid: list[Any]) -> Any:
        # Mostly in the domain, so that the full decision sets build often enough.
        return pick(invalid) if rng.random() < 0.1 else pick(valid)

    cases: list[dict[str, Any]] = []

    def commitment() -> list[Any]:
        authority = pick(["initiator_only", "any_participant", "designated_role"])
        roles = odd([["a"]], [[]]) if authority == "designated_role" else pick([[], ["a"]])
        return ["CommitmentRules", {"authority": authority, "designated_roles": roles}]

    for _ in range(count):
        short = pick(BUILDERS)
        kwargs: dict[str, Any] = {}
        if short == "decision":
            voting: dict[str, Any] = {
                "algorithm": pick(
                    ["none", "majority", "supermajority", "unanimous", "weighted", "plurality"]
                ),
                "threshold": odd([0.5, 0.51, 0.67, 1], [0.4, 0]),
            }
            if rng.random() < 0.5:
                voting["quorum_type"] = pick(["count", "percentage"])
            if rng.random() < 0.5:
                voting["quorum_value"] = pick([1, 2.5, 60])
            if rng.random() < 0.5:
                voting["weights"] = odd([{"a": 2.0, "b": 1}, {"a": 1.5}], [{}])
            kwargs["voting"] = ["VotingRules", voting]
            kwargs["objection_handling"] = [
                "ObjectionHandlingRules",
                {
                    "critical_severity_vetoes": pick([True, False]),
                    "veto_threshold": odd([1, 2], [0]),
                    "critical_objection_action": pick(["deny", "finalize_decline", "hold"]),
                },
            ]
            kwargs["evaluation"] = [
                "EvaluationRules",
                {"minimum_confidence": odd([0.0, 0.7, 1], [1.5]), "required_before_voting": True},
            ]
            commit = commitment()
            commit[1]["require_vote_quorum"] = pick([True, False])
            commit[1]["allow_decline_over_approval"] = pick([True, False])
            kwargs["commitment"] = commit
            kwargs["schema_version"] = pick([1, 2, 3])
        elif short == "quorum":
            kwargs["threshold"] = [
                "QuorumThreshold",
                {"type": pick(["n_of_m", "percentage"]), "value": odd([1, 3, 60, 100], [101, 0])},
            ]
            kwargs["abstention"] = [
                "AbstentionRules",
                {
                    "counts_toward_quorum": pick([True, False]),
                    "interpretation": pick(["neutral", "implicit_reject", "ignored"]),
                },
            ]
            kwargs["commitment"] = commitment()
        elif short == "proposal":
            kwargs["acceptance"] = [
                "ProposalAcceptanceRules",
                {"criterion": pick(["all_parties", "counterparty", "initiator"])},
            ]
            kwargs["counter_proposal"] = ["CounterProposalRules", {"max_rounds": pick([0, 4])}]
            kwargs["commitment"] = commitment()
        elif short == "task":
            kwargs["completion"] = ["TaskCompletionRules", {"require_output": pick([True, False])}]
            kwargs["commitment"] = commitment()
        else:
            kwargs["acceptance"] = [
                "HandoffAcceptanceRules",
                {"implicit_accept_timeout_ms": pick([0, 250])},
            ]
            kwargs["commitment"] = commitment()
        cases.append({"builder": f"build_{short}_policy", "kwargs": kwargs})
    return cases


def _rules(name: str, **fields: Any) -> list[Any]:
    return [name, fields]


# Refused by 0.22.0 and (schema, builder-overrides.json or runtime) by ours.
INVALID_CASES: list[dict[str, Any]] = (
    [
        {"builder": "build_decision_policy", "kwargs": kwargs}
        for kwargs in (
            {"voting": _rules("VotingRules", algorithm="rank")},
            {"voting": _rules("VotingRules", threshold=0)},
            {"voting": _rules("VotingRules", threshold=1.5)},
            {"voting": _rules("VotingRules", algorithm="majority", threshold=0.4)},
            {"voting": _rules("VotingRules", algorithm="supermajority")},
            {"voting": _rules("VotingRules", algorithm="weighted")},
            {"voting": _rules("VotingRules", algorithm="weighted", weights={})},
            {"voting": _rules("VotingRules", weights={"a": 0})},
            {"voting": _rules("VotingRules", weights={"a": -1.0})},
            {"voting": _rules("VotingRules", quorum_type="share")},
            {"voting": _rules("VotingRules", quorum_value=-1)},
            {"objection_handling": _rules("ObjectionHandlingRules", veto_threshold=0)},
            {"objection_handling": _rules("ObjectionHandlingRules", veto_threshold=True)},
            {"objection_handling": _rules("ObjectionHandlingRules", critical_objection_action="x")},
            {"evaluation": _rules("EvaluationRules", minimum_confidence=1.5)},
            {"commitment": _rules("CommitmentRules", authority="anyone")},
            {"commitment": _rules("CommitmentRules", authority="designated_role")},
            {"schema_version": 4},
            {"schema_version": 0},
            {"extensions": {"audit": {}}},
            {"annotations": {"voting": 1}},
        )
    ]
    + [
        {"builder": "build_quorum_policy", "kwargs": kwargs}
        for kwargs in (
            {"threshold": _rules("QuorumThreshold", type="weighted", value=2)},
            {"threshold": _rules("QuorumThreshold", value=0)},
            {"threshold": _rules("QuorumThreshold", value=-1)},
            {"threshold": _rules("QuorumThreshold", type="percentage", value=101)},
            {"threshold": _rules("QuorumThreshold", value=True)},
            {"threshold": _rules("QuorumThreshold", value=0.75)},
            {"abstention": _rules("AbstentionRules", interpretation="x")},
        )
    ]
    + [
        {"builder": "build_proposal_policy", "kwargs": kwargs}
        for kwargs in (
            {"acceptance": _rules("ProposalAcceptanceRules", criterion="x")},
            {"counter_proposal": _rules("CounterProposalRules", max_rounds=-1)},
        )
    ]
    + [
        {"builder": "build_handoff_policy", "kwargs": kwargs}
        for kwargs in (
            {"acceptance": _rules("HandoffAcceptanceRules", implicit_accept_timeout_ms=-1)},
            {"acceptance": _rules("HandoffAcceptanceRules", implicit_accept_timeout_ms=1.5)},
        )
    ]
    + [
        {
            "builder": f"build_{short}_policy",
            "kwargs": {"commitment": _rules("CommitmentRules", authority="designated_role")},
        }
        for short in BUILDERS
    ]
)


def _both(anchor: Path, cases: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    request = {"op": "policies", "cases": cases}
    return run_side(OURS, request), run_side(anchor, request)


def test_generated_policy_builders_emit_0_22_rules(anchor: Path) -> None:
    ours, theirs = _both(anchor, POLICY_CASES)
    assert ours == theirs
    assert not any("refused" in answer for answer in ours)


def test_default_arguments_give_0_22_s_rules_byte_for_byte_and_schema_version(
    anchor: Path,
) -> None:
    ours, theirs = _both(anchor, DEFAULT_CASES)
    assert ours == theirs  # the rules text, exactly, and schema_version
    assert [answer["schema_version"] for answer in ours] == [3, 1, 1, 1, 1]


def test_sampled_argument_sets_agree_byte_for_byte(anchor: Path) -> None:
    cases = _sampled_cases(300, seed=14)
    ours, theirs = _both(anchor, cases)
    for case, mine, its in zip(cases, ours, theirs, strict=True):
        assert mine == its, case
    built = sum("rules" in answer for answer in ours)
    assert 0 < built < len(cases)  # the sample holds both kinds


RULE_CLASSES = [
    "VotingRules",
    "ObjectionHandlingRules",
    "EvaluationRules",
    "CommitmentRules",
    "QuorumThreshold",
    "AbstentionRules",
    "ProposalAcceptanceRules",
    "CounterProposalRules",
    "RejectionRules",
    "TaskAssignmentRules",
    "TaskCompletionRules",
    "HandoffAcceptanceRules",
]


def test_every_rule_class_has_0_22_s_fields_and_defaults(anchor: Path) -> None:
    request = {"op": "rule_defaults", "classes": RULE_CLASSES}
    ours = run_side(OURS, request)
    assert ours == run_side(anchor, request)
    assert ours["QuorumThreshold"] == {"type": "n_of_m", "value": 1}


def test_the_same_invalid_inputs_are_refused_on_both_sides(anchor: Path) -> None:
    ours, theirs = _both(anchor, INVALID_CASES)
    refusal = {"refused": "MacpSessionError"}
    for case, mine, its in zip(INVALID_CASES, ours, theirs, strict=True):
        assert (mine, its) == (refusal, refusal), case


_TEXT = st.text(max_size=40)  # any Unicode scalar values (hypothesis leaves out surrogates)
_COMMITMENT = st.fixed_dictionaries(
    {
        "commitment_id": _TEXT,
        "action": _TEXT,
        "authority_scope": _TEXT,
        "reason": _TEXT,
        "mode_version": _TEXT,
        "policy_version": _TEXT,
        "configuration_version": _TEXT,
        "outcome_positive": st.booleans(),
    },
    optional={
        "supersedes": st.fixed_dictionaries(
            {
                "session_id": _TEXT,
                "commitment_hash": st.one_of(
                    st.just(""), st.text("0123456789abcdef", min_size=64, max_size=64)
                ).map(lambda h: f"sha256:{h}" if h else ""),
            }
        )
    },
)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(commitments=st.lists(_COMMITMENT, min_size=60, max_size=60))
def test_generated_commitments_hash_alike(anchor: Path, commitments: list[dict[str, Any]]) -> None:
    """RFC-MACP-0013 over many generated commitments: 0.22.0 and we give identical hashes
    (one process per side per batch, so 240 commitments cost 8 process starts)."""
    request = {"op": "hashes", "commitments": commitments}
    assert run_side(OURS, request) == run_side(anchor, request)
