"""Receipts and what-if replay end to end: the SDK's calls (sync and async) against the
embedded runtime on loopback, capability gating included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from macp_local_runtime import discovery
from macp_sdk import (
    AsyncDecisionSession,
    AsyncMacpClient,
    AuthConfig,
    DecisionSession,
    MacpClient,
    VotingRules,
    build_decision_policy,
    build_task_policy,
)
from macp_sdk.commitment_hash import commitment_hash
from macp_sdk.errors import MacpCapabilityError, MacpSdkError
from macp_sdk.governance import (
    async_fetch_receipt_keys,
    async_fetch_what_if_replay,
    async_session_receipt,
    async_verify_session_receipt,
    fetch_decision_receipt,
    fetch_receipt_keys,
    fetch_what_if_replay,
    session_receipt,
    verify_session_receipt,
)
from macp_sdk.local_runtime import LocalRuntime
from macp_sdk.receipt import commitment_from_projection, trusted_keys_from_jwks, verify_receipt

LEAD = AuthConfig.for_dev_agent("lead")
BOB = AuthConfig.for_dev_agent("bob")


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as rt:
        yield rt


@pytest.fixture
def client(runtime: LocalRuntime) -> Iterator[MacpClient]:
    with MacpClient(target=runtime.target, secure=False, auth=LEAD, default_timeout=10) as c:
        yield c


def _decided(client: MacpClient, bob_votes: str = "REJECT", commit: bool = True) -> DecisionSession:
    session = DecisionSession(client, auth=LEAD)
    session.start(intent="pick", participants=["lead", "bob"], ttl_ms=60_000)
    session.propose("p1", "option a", rationale="cheapest")
    session.vote("p1", bob_votes, sender="bob", auth=BOB)
    if commit:
        session.commit(action="decision.selected", authority_scope="team", reason="go")
    return session


def test_a_committed_session_has_an_attested_receipt(client: MacpClient) -> None:
    session = _decided(client)
    result = session_receipt(session)
    assert result.raw == session_receipt(session).raw  # served byte-identical
    receipt = result.receipt
    assert receipt["session_id"] == session.session_id
    assert receipt["mode"] == "macp.mode.decision.v1"
    assert receipt["commitment"]["reason"] == "go"
    assert receipt["commitment_hash"] == commitment_hash(
        commitment_from_projection(receipt["commitment"])
    )
    assert verify_session_receipt(client, session.session_id) == {
        "integrity": "match",
        "attestations": ["valid"],
        "verdict": "attested",
    }
    keys = fetch_receipt_keys(client)
    assert [k["kty"] for k in keys["keys"]] == ["OKP"]
    # Another party's keys do not attest it.
    assert verify_receipt(receipt, {"other": keys["keys"][0]["x"]})["verdict"] == "integrity_only"
    assert client.supports("decision_receipt.signed") is True


def test_no_receipt_before_the_commitment_and_none_for_outsiders(client: MacpClient) -> None:
    session = _decided(client, commit=False)
    with pytest.raises(MacpSdkError) as unavailable:
        fetch_decision_receipt(client, session.session_id)
    assert getattr(unavailable.value, "macp_code", "") == "RECEIPT_UNAVAILABLE"
    session.commit(action="decision.selected", authority_scope="team", reason="go")
    carol = AuthConfig.for_dev_agent("carol")
    with pytest.raises(MacpSdkError) as forbidden:
        fetch_decision_receipt(client, session.session_id, auth=carol)
    assert getattr(forbidden.value, "macp_code", "") == "FORBIDDEN"
    with pytest.raises(MacpSdkError) as missing:
        fetch_decision_receipt(client, "00000000-0000-4000-8000-000000000000")
    assert getattr(missing.value, "macp_code", "") == "SESSION_NOT_FOUND"


def test_what_if_a_majority_policy_had_been_bound(client: MacpClient) -> None:
    session = _decided(client, bob_votes="REJECT")
    majority = build_decision_policy(
        "p.majority", "majority", voting=VotingRules(algorithm="majority")
    )
    replay = fetch_what_if_replay(client, session.session_id, majority)
    assert replay.recorded_policy_id == "policy.default"
    assert replay.candidate_policy_id == "p.majority"
    assert replay.recorded.state == 2  # RESOLVED
    assert replay.recorded.resolved_by_message_type == "Commitment"
    assert replay.candidate.state == 1  # still OPEN: the commitment is denied
    assert replay.HasField("first_divergence") and replay.first_divergence == 3
    assert [d.history_index for d in replay.denials] == [3]
    assert json.loads(replay.denials[0].details)["reasons"]
    last = replay.entries[3]
    assert (last.message_type, last.candidate.error_code) == ("Commitment", "POLICY_DENIED")
    assert [e.history_index for e in replay.entries] == [0, 1, 2, 3]

    # The same majority over an approving vote changes nothing.
    approved = _decided(client, bob_votes="APPROVE")
    same = fetch_what_if_replay(client, approved.session_id, majority)
    assert not same.HasField("first_divergence") and not same.denials
    assert same.candidate.state == 2
    # Nothing was registered.
    assert [p.policy_id for p in client.list_policies().descriptors] == ["policy.default"]


def test_what_if_refuses_a_candidate_for_another_mode(client: MacpClient) -> None:
    session = _decided(client)
    with pytest.raises(MacpSdkError) as refused:
        fetch_what_if_replay(client, session.session_id, build_task_policy("p.task", "task"))
    assert getattr(refused.value, "macp_code", "") == "INVALID_POLICY_DEFINITION"


def test_calls_are_gated_on_the_advertised_capabilities(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = discovery.capabilities()
    bare.decision_receipt.Clear()
    bare.policy_registry.what_if_replay = False
    monkeypatch.setattr(discovery, "capabilities", lambda: bare)
    with MacpClient(target=runtime.target, secure=False, auth=LEAD) as fresh:
        assert fresh.server_capabilities is None
        with pytest.raises(MacpCapabilityError, match="decision_receipt.get_decision_receipt"):
            fetch_receipt_keys(fresh)  # initializes first, then refuses without sending
        assert fresh.server_capabilities is not None
        with pytest.raises(MacpCapabilityError, match="policy_registry.what_if_replay"):
            fetch_what_if_replay(fresh, "s", build_decision_policy("p", "d"))
        with pytest.raises(MacpCapabilityError):
            fetch_decision_receipt(fresh, "s")


def test_async_receipts_and_what_if(runtime: LocalRuntime, client: MacpClient) -> None:
    async def main() -> None:
        async with AsyncMacpClient(target=runtime.target, secure=False, auth=LEAD) as aclient:
            session = AsyncDecisionSession(aclient, auth=LEAD)
            await session.start(intent="pick", participants=["lead", "bob"], ttl_ms=60_000)
            await session.propose("p1", "option a", rationale="cheapest")
            await session.vote("p1", "REJECT", sender="bob", auth=BOB)
            await session.commit(action="decision.selected", authority_scope="t", reason="go")
            result = await async_session_receipt(session)
            keys = trusted_keys_from_jwks(await async_fetch_receipt_keys(aclient))
            assert verify_receipt(result.receipt, keys)["verdict"] == "attested"
            verdict = await async_verify_session_receipt(aclient, session.session_id)
            assert verdict["verdict"] == "attested"
            candidate = build_decision_policy("p.m", "m", voting=VotingRules(algorithm="majority"))
            replay = await async_fetch_what_if_replay(aclient, session.session_id, candidate)
            assert replay.first_divergence == 3 and replay.candidate.state == 1
            # The sync client sees the same receipt bytes.
            assert fetch_decision_receipt(client, session.session_id).raw == result.raw

    asyncio.run(main())


def test_async_gating(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    bare = discovery.capabilities()
    bare.decision_receipt.Clear()
    monkeypatch.setattr(discovery, "capabilities", lambda: bare)

    async def main() -> None:
        async with AsyncMacpClient(target=runtime.target, secure=False, auth=LEAD) as aclient:
            with pytest.raises(MacpCapabilityError):
                await async_fetch_receipt_keys(aclient)

    asyncio.run(main())


def test_without_cryptography_receipts_are_unsigned(monkeypatch: pytest.MonkeyPatch) -> None:
    from macp_local_runtime import receipts

    monkeypatch.setattr(receipts, "_ED25519", None)
    with LocalRuntime() as rt, MacpClient(target=rt.target, secure=False, auth=LEAD) as c:
        c.initialize()
        assert c.supports("decision_receipt.get_decision_receipt") is True
        assert c.supports("decision_receipt.signed") is False
        assert fetch_receipt_keys(c) == {"keys": []}
        session = _decided(c)
        assert session_receipt(session).receipt["attestations"] == []
        assert verify_session_receipt(c, session.session_id) == {
            "integrity": "match",
            "attestations": [],
            "verdict": "integrity_only",
        }


def test_without_rfc8785_receipts_are_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    from macp_local_runtime import receipts

    monkeypatch.setattr(receipts, "_RFC8785", None)
    with LocalRuntime() as rt, MacpClient(target=rt.target, secure=False, auth=LEAD) as c:
        session = _decided(c)
        # Attempted before initialize(): the runtime itself says it cannot issue one.
        with pytest.raises(MacpSdkError) as unavailable:
            c.get_decision_receipt(session.session_id)
        assert getattr(unavailable.value, "macp_code", "") == "RECEIPT_UNAVAILABLE"
        c.initialize()
        assert c.supports("decision_receipt.get_decision_receipt") is False
        with pytest.raises(MacpCapabilityError):
            session_receipt(session)
