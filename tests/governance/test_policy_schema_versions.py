"""Policy schema_version 3 on the embedded runtime (docs/local-runtime.md "Policy schema
versions"): the decision evaluator rules per version, and end to end through the SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from macp_local_runtime.modes.voting import Ballots, evaluate_decision
from macp_local_runtime.policy import Policy
from macp_sdk import (
    AuthConfig,
    CommitmentRules,
    DecisionSession,
    MacpClient,
    VotingRules,
    build_decision_policy,
)
from macp_sdk.errors import MacpPolicyDeniedError
from macp_sdk.local_runtime import LocalRuntime

MAJORITY = {"voting": {"algorithm": "majority", "threshold": 0.5}}


def _policy(version: int, rules: dict[str, object] | None = None) -> Policy:
    return Policy("p", "macp.mode.decision.v1", "", version, rules or MAJORITY)


def _decide(
    version: int, votes: dict[str, str], positive: bool = True, **rules: object
) -> list[str]:
    policy = _policy(version, {**MAJORITY, **rules})
    return evaluate_decision(policy, {"p1": Ballots(votes)}, 3, 0, positive)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_empty_tally_denies_a_positive_commitment(version: int) -> None:
    reasons = _decide(version, {})
    assert reasons
    # Version 3 says why: the empty tally fails closed. 1 and 2 keep the reference's reason.
    assert ("fails closed" in reasons[0]) == (version == 3)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_abstentions_alone_are_an_empty_decisive_tally(version: int) -> None:
    assert _decide(version, {"a": "ABSTAIN", "b": "ABSTAIN"})


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_passed_vote_allows_a_positive_commitment(version: int) -> None:
    assert _decide(version, {"a": "APPROVE", "b": "APPROVE", "c": "REJECT"}) == []


def test_require_vote_quorum_over_a_zero_floor_gates_nothing_under_version_3() -> None:
    commitment = {"commitment": {"require_vote_quorum": True}}
    assert _decide(3, {"a": "APPROVE"}, **commitment) == []
    # ...and with no ballots the empty tally still fails closed, whatever the flag says.
    assert _decide(3, {}, **commitment)
    floor = {"voting": {**MAJORITY["voting"], "quorum": {"type": "count", "value": 2}}}
    assert _decide(3, {"a": "APPROVE"}, **commitment, **floor) == ["vote quorum not met"]


@pytest.mark.parametrize("version", [2, 3])
def test_the_vote_gated_decline_is_the_same_under_versions_2_and_3(version: int) -> None:
    assert _decide(version, {}, positive=False) == [
        "no votes cast; decline requires an explicit REJECT vote"
    ]
    assert _decide(version, {"a": "REJECT", "b": "REJECT"}, positive=False) == []
    assert _decide(version, {"a": "APPROVE", "b": "APPROVE"}, positive=False)
    # Version 1 takes a decline at face value.
    assert _decide(1, {}, positive=False) == []


def test_algorithm_none_allows_any_outcome_under_version_3() -> None:
    policy = _policy(3, {"voting": {"algorithm": "none"}})
    assert evaluate_decision(policy, {}, 3, 0, True) == []


# --- end to end: the SDK's builders on the embedded runtime ----------------------------

LEAD = AuthConfig.for_dev_agent("lead")
VOTERS = ["a", "b"]


@pytest.fixture
def client() -> Iterator[MacpClient]:
    with (
        LocalRuntime() as rt,
        MacpClient(target=rt.target, secure=False, auth=LEAD, default_timeout=10) as c,
    ):
        yield c


def _session(client: MacpClient, policy_id: str) -> DecisionSession:
    session = DecisionSession(client, auth=LEAD, policy_version=policy_id)
    session.start(intent="pick", participants=["lead", *VOTERS], ttl_ms=60_000)
    session.propose("p1", "option", rationale="r")
    return session


def _vote(session: DecisionSession, voter: str, choice: str) -> None:
    session.vote("p1", choice, sender=voter, auth=AuthConfig.for_dev_agent(voter))  # type: ignore[arg-type]


def test_a_default_v3_decision_policy_with_no_votes_denies_a_positive_commitment(
    client: MacpClient,
) -> None:
    policy = build_decision_policy("p.v3", "majority", voting=VotingRules(algorithm="majority"))
    assert policy.schema_version == 3  # 0.22.0's default
    assert client.register_policy(policy).ok
    session = _session(client, "p.v3")
    with pytest.raises(MacpPolicyDeniedError, match="fails closed"):
        session.commit(action="decision.selected", authority_scope="s", reason="no votes")
    _vote(session, "a", "APPROVE")
    ack = session.commit(action="decision.selected", authority_scope="s", reason="voted")
    assert ack.session_state == 2  # RESOLVED


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_supported_version_commits_after_a_passed_vote(
    client: MacpClient, version: int
) -> None:
    policy = build_decision_policy(
        f"p.v{version}",
        "majority",
        voting=VotingRules(algorithm="majority"),
        commitment=CommitmentRules(require_vote_quorum=True),
        schema_version=version,
    )
    assert client.register_policy(policy).ok
    session = _session(client, policy.policy_id)
    _vote(session, "a", "APPROVE")
    _vote(session, "b", "APPROVE")
    ack = session.commit(action="decision.selected", authority_scope="s", reason="voted")
    assert ack.session_state == 2


def test_a_later_version_still_registers_and_denies_every_commitment(client: MacpClient) -> None:
    from macp.v1 import policy_pb2

    descriptor = policy_pb2.PolicyDescriptor(
        policy_id="p.v4", mode="macp.mode.decision.v1", rules="{}", schema_version=4
    )
    assert client.register_policy(descriptor).ok
    session = _session(client, "p.v4")
    with pytest.raises(MacpPolicyDeniedError, match="schema_version 4 is not supported"):
        session.commit(action="decision.selected", authority_scope="s", reason="v4")
