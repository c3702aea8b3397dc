"""0.22.0's decision-centric ParticipantActions methods on the generic classes: each sends
through the session mode's typed action, called the way 0.22.0 called it, on the runtime."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from macp.v1 import envelope_pb2
from macp_sdk import (
    MODE_DECISION,
    MODE_PROPOSAL,
    MODE_QUORUM,
    AsyncMacpClient,
    AuthConfig,
    MacpClient,
    MacpSessionError,
    MacpSessionNotFoundError,
)
from macp_sdk.agent import AsyncParticipantActions, ParticipantActions
from macp_sdk.local_runtime import LocalRuntime
from macp_sdk.projections import _decision_base as decision
from macp_sdk.projections import _proposal_base as proposal

from .helpers import JOIN_BOUND

PAIR = ["lead", "alice"]


def _actions(clients: dict[str, MacpClient], name: str, session_id: str, mode: str) -> Any:
    # 0.22.0's constructor: (client, session_id, auth, *, mode, participant_id)
    return ParticipantActions(
        clients[name], session_id, AuthConfig.for_dev_agent(name), mode=mode, participant_id=name
    )


def _replay(client: MacpClient, session_id: str, count: int) -> list[envelope_pb2.Envelope]:
    stream = client.open_stream()
    try:
        stream.subscribe(session_id, 0)
        found = [stream.read(timeout=JOIN_BOUND) for _ in range(count)]
    finally:
        stream.close(grace=0.5)
    assert all(e is not None for e in found)
    return [e for e in found if e is not None]


def test_decision_actions_called_as_in_0_22(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    lead = _actions(clients, "lead", session_id, MODE_DECISION)
    alice = _actions(clients, "alice", session_id, MODE_DECISION)
    assert type(lead) is ParticipantActions  # the generic class, not DecisionActions

    lead.start_session("pick a release", PAIR, 60_000)
    assert lead.propose(proposal_id="p1", option_or_title="ship v2", rationale="fast").ok
    assert alice.evaluate("p1", "approve", confidence=0.9, reason="fine").ok
    assert alice.raise_objection("p1", reason="risky", severity="LOW").ok
    assert alice.vote("p1", "approve", reason="go").ok

    _, *sent = _replay(clients["lead"], session_id, 5)
    assert decision.ProposalRecord.decode(sent[0]).rationale == "fast"
    assert decision.ProposalRecord.decode(sent[0]).option == "ship v2"
    evaluation = decision.EvaluationRecord.decode(sent[1])
    assert (evaluation.recommendation, evaluation.confidence) == ("APPROVE", pytest.approx(0.9))
    assert decision.ObjectionRecord.decode(sent[2]).severity == "low"
    assert decision.VoteRecord.decode(sent[3]).vote == "APPROVE"
    assert {e.sender for e in sent[1:]} == {"alice"}


def test_proposal_mode_takes_the_title_and_refuses_decision_only_arguments(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    lead = _actions(clients, "lead", session_id, MODE_PROPOSAL)
    lead.start_session("name it", PAIR, 60_000)
    assert lead.propose("p1", "a title", summary="short", tags=None).ok  # 0.22.0's defaults
    with pytest.raises(MacpSessionError, match=r"propose\(\) in mode .* takes no rationale="):
        lead.propose("p2", "another", rationale="decision only")
    with pytest.raises(MacpSessionError, match="vote.. has no equivalent action"):
        lead.vote("p1", "approve")

    _, sent = _replay(clients["lead"], session_id, 2)
    record = proposal.ProposalRecord.decode(sent)
    assert (record.title, record.summary, record.tags) == ("a title", "short", ())


def test_a_mode_without_the_action_is_a_clear_error_and_sends_nothing(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    lead = _actions(clients, "lead", session_id, MODE_QUORUM)
    for call in (
        lambda: lead.evaluate("r1", "approve", confidence=1.0),
        lambda: lead.propose("r1", "x"),
        lambda: lead.raise_objection("r1", reason="no"),
        lambda: lead.vote("r1", "approve"),
    ):
        with pytest.raises(MacpSessionError, match=f"mode {MODE_QUORUM!r}"):
            call()
    with pytest.raises(MacpSessionNotFoundError):  # nothing was sent, not even a start
        lead.get_session()


def test_the_asyncio_generic_actions_forward_too(runtime: LocalRuntime, session_id: str) -> None:
    async def scenario() -> list[bool]:
        clients = {
            m: AsyncMacpClient(
                target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent(m)
            )
            for m in PAIR
        }
        try:
            lead, alice = (
                AsyncParticipantActions(
                    clients[m], session_id, mode=MODE_DECISION, participant_id=m
                )
                for m in PAIR
            )
            await lead.start_session("pick", PAIR, 60_000)
            acks = [
                await lead.propose("p1", "ship"),
                await alice.evaluate("p1", "approve", confidence=0.5),
                await alice.vote("p1", "approve"),
            ]
            quorum = AsyncParticipantActions(clients["lead"], session_id, mode=MODE_QUORUM)
            with pytest.raises(MacpSessionError, match="vote.. has no equivalent action"):
                await quorum.vote("p1", "approve")
            return [a.ok for a in acks]
        finally:
            for client in clients.values():
                await client.close()

    assert asyncio.run(scenario()) == [True, True, True]
