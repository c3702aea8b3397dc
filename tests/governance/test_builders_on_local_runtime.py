"""Generated policy descriptors on the embedded runtime: they register, bind to sessions and
govern them; `effective_quorum_threshold` predicts the runtime's quorum decision."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from macp.v1.policy_pb2 import PolicyDescriptor
from macp_sdk import (
    AuthConfig,
    CommitmentRules,
    MacpClient,
    QuorumSession,
    QuorumThreshold,
    VotingRules,
    build_decision_policy,
    build_handoff_policy,
    build_proposal_policy,
    build_quorum_policy,
    build_task_policy,
    effective_quorum_threshold,
)
from macp_sdk.errors import MacpPolicyDeniedError, MacpValidationError
from macp_sdk.local_runtime import LocalRuntime

LEAD = AuthConfig.for_dev_agent("lead")
VOTERS = ["a", "b", "c", "d", "e"]


@pytest.fixture
def client() -> Iterator[MacpClient]:
    with (
        LocalRuntime() as rt,
        MacpClient(target=rt.target, secure=False, auth=LEAD, default_timeout=10) as c,
    ):
        yield c


def test_every_builder_registers_and_reads_back(client: MacpClient) -> None:
    descriptors = [
        build_decision_policy(
            "p.decision",
            "d",
            voting=VotingRules(algorithm="supermajority", threshold=0.67, quorum_value=2),
            commitment=CommitmentRules(authority="designated_role", designated_roles=["lead"]),
            schema_version=2,
        ),
        build_quorum_policy(
            "p.quorum", "q", threshold=QuorumThreshold(type="percentage", value=60)
        ),
        build_proposal_policy("p.proposal", "p"),
        build_task_policy("p.task", "t"),
        build_handoff_policy("p.handoff", "h"),
    ]
    for descriptor in descriptors:
        response = client.register_policy(descriptor)
        assert response.ok, response.error
        stored = client.get_policy(descriptor.policy_id).policy_descriptor
        assert (stored.mode, json.loads(stored.rules)) == (
            descriptor.mode,
            json.loads(descriptor.rules),
        )


@pytest.mark.parametrize("approvals", [1, 2, 3])
def test_effective_threshold_predicts_the_runtime(client: MacpClient, approvals: int) -> None:
    policy = build_quorum_policy(
        "p.q60", "60%", threshold=QuorumThreshold(type="percentage", value=60)
    )
    assert client.register_policy(policy).ok
    session = QuorumSession(client, auth=LEAD, policy_version="p.q60")
    session.start(intent="ship?", participants=VOTERS, ttl_ms=60_000)
    # The request asks for one approval; the policy raises the bar to ceil(60% of 5) = 3.
    session.request_approval("r1", "ship", required_approvals=1)
    for voter in VOTERS[:approvals]:
        session.approve("r1", sender=voter, auth=AuthConfig.for_dev_agent(voter))
    for voter in VOTERS[approvals:]:
        session.reject("r1", sender=voter, auth=AuthConfig.for_dev_agent(voter))
    bar = effective_quorum_threshold(policy, len(VOTERS), 1)
    assert bar == 3
    projection = session.quorum_projection
    reached = projection.has_quorum(effective_threshold=bar)
    assert reached == (approvals >= 3)
    if reached:
        ack = session.commit(action="quorum.approved", authority_scope="s", reason="met")
        assert ack.session_state == 2  # RESOLVED
    else:
        with pytest.raises(MacpPolicyDeniedError):
            session.commit(action="quorum.approved", authority_scope="s", reason="not met")


# What the runtime's registration refuses (runtime-behavior.md §6.3), the builders refuse first.
RUNTIME_REFUSES = [
    (
        "decision",
        {"voting": {"algorithm": "weighted"}},
        "voting",
        VotingRules(algorithm="weighted"),
    ),
    (
        "decision",
        {"voting": {"algorithm": "weighted", "weights": {}}},
        "voting",
        VotingRules(algorithm="weighted", weights={}),
    ),
    (
        "decision",
        {"voting": {"algorithm": "supermajority", "threshold": 0.5}},
        "voting",
        VotingRules(algorithm="supermajority"),
    ),
    *(
        (
            short,
            {"commitment": {"authority": "designated_role", "designated_roles": []}},
            "commitment",
            CommitmentRules(authority="designated_role"),
        )
        for short in ("decision", "quorum", "proposal", "task", "handoff")
    ),
]


@pytest.mark.parametrize(("short", "rules", "section", "value"), RUNTIME_REFUSES)
def test_what_the_runtime_refuses_to_register_the_builders_refuse(
    client: MacpClient, short: str, rules: dict[str, object], section: str, value: object
) -> None:
    mode = f"macp.mode.{short}.v1"
    raw = PolicyDescriptor(policy_id="p.raw", mode=mode, rules=json.dumps(rules), schema_version=1)
    assert not client.register_policy(raw).ok
    build = globals()[f"build_{short}_policy"]
    with pytest.raises(MacpValidationError):
        build("p.built", "d", **{section: value})


def test_every_builder_s_defaults_register(client: MacpClient) -> None:
    for build in (
        build_decision_policy,
        build_quorum_policy,
        build_proposal_policy,
        build_task_policy,
        build_handoff_policy,
    ):
        descriptor = build(f"p.default.{build.__name__}", "defaults")
        response = client.register_policy(descriptor)
        assert response.ok, response.error
