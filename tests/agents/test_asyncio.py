"""The asyncio twins: AsyncDecisionParticipant / AsyncQuorumParticipant with coroutine
handlers take sessions to their end on the embedded runtime, as asyncio tasks."""

from __future__ import annotations

import asyncio

from macp_sdk import AsyncMacpClient, AuthConfig
from macp_sdk.agent import (
    AsyncParticipant,
    EvaluationResult,
    SessionInfo,
    TerminalResult,
    commitment_handler,
    evaluation_handler,
    function_evaluator,
    majority_committer,
    majority_voter,
    voting_handler,
)
from macp_sdk.local_runtime import LocalRuntime
from macp_sdk.participants.decision import AsyncDecisionContext, AsyncDecisionParticipant
from macp_sdk.participants.quorum import AsyncQuorumContext, AsyncQuorumParticipant
from macp_sdk.projections._decision_base import ProposalRecord, VoteRecord
from macp_sdk.projections._quorum_base import ApprovalRequestRecord, ApproveRecord

from .helpers import JOIN_BOUND, no_threads_left_behind
from .scenarios import LEAD, MEMBERS, initiator_config


async def _run_all(participants: list[AsyncParticipant]) -> dict[str, TerminalResult]:
    results: dict[str, TerminalResult] = {}
    for p in participants:
        p.on_terminal(lambda r, name=p.participant_id: results.__setitem__(name, r))
    await asyncio.wait_for(asyncio.gather(*(p.run() for p in participants)), JOIN_BOUND)
    return results


async def _clients(target: str) -> dict[str, AsyncMacpClient]:
    return {
        m: AsyncMacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent(m))
        for m in MEMBERS
    }


def test_asyncio_decision(runtime: LocalRuntime, session_id: str) -> None:
    async def scenario() -> dict[str, TerminalResult]:
        clients = await _clients(runtime.target)
        participants = []
        for m in MEMBERS:
            p = AsyncDecisionParticipant(
                participant_id=m,
                session_id=session_id,
                client=clients[m],
                initiator_config=initiator_config("decision") if m == LEAD else None,
            )
            participants.append(p)

        async def vote(record: ProposalRecord, ctx: AsyncDecisionContext) -> None:
            await ctx.actions.vote(record.proposal_id, "approve", reason=ctx.participant)

        async def tally(record: VoteRecord, ctx: AsyncDecisionContext) -> None:
            if len(ctx.projection.votes_for(record.proposal_id)) == 2:
                await ctx.actions.commit("decision.approved", "release", reason="both")

        participants[0].on_vote(tally)
        for p in participants[1:]:
            p.on_proposal(vote)
        try:
            return await _run_all(participants[1:] + participants[:1])
        finally:
            for client in clients.values():
                await client.close()

    with no_threads_left_behind():
        results = asyncio.run(scenario())
    assert {r.state for r in results.values()} == {"Committed"} and len(results) == 3


def test_asyncio_quorum_with_plain_function_handlers(
    runtime: LocalRuntime, session_id: str
) -> None:
    """A plain handler may return the action's awaitable; the participant awaits it."""

    async def scenario() -> dict[str, TerminalResult]:
        clients = await _clients(runtime.target)
        participants = [
            AsyncQuorumParticipant(
                participant_id=m,
                session_id=session_id,
                client=clients[m],
                initiator_config=initiator_config("quorum") if m == LEAD else None,
            )
            for m in MEMBERS
        ]

        def approve(record: ApprovalRequestRecord, ctx: AsyncQuorumContext) -> object:
            return ctx.actions.approve(record.request_id)

        def count(record: ApproveRecord, ctx: AsyncQuorumContext) -> object:
            if ctx.projection.commitment_ready(record.request_id):
                return ctx.actions.commit("quorum.approved", "deploy", reason="two approvals")
            return None

        participants[0].on_approve(count)  # type: ignore[arg-type]
        for p in participants[1:]:
            p.on_approval_request(approve)  # type: ignore[arg-type]
        try:
            return await _run_all(participants)
        finally:
            for client in clients.values():
                await client.close()

    results = asyncio.run(scenario())
    assert {r.state for r in results.values()} == {"Committed"} and len(results) == 3


def test_the_strategy_handlers_under_the_asyncio_participant(
    runtime: LocalRuntime, session_id: str
) -> None:
    """The built-in handlers return the asyncio action's coroutine; the participant awaits it
    (otherwise no Evaluation, Vote or Commitment would ever be sent)."""
    pair = ["lead", "alice"]
    seen: list[str] = []

    def judge(proposal: dict[str, object], session: SessionInfo) -> EvaluationResult:
        seen.append(str(proposal["proposal_id"]))
        return EvaluationResult("APPROVE", 0.75, f"fine for {session.mode}")

    async def scenario() -> dict[str, TerminalResult]:
        clients = await _clients(runtime.target)
        config = initiator_config("decision")
        config.participants = pair
        lead, alice = (
            AsyncDecisionParticipant(
                participant_id=m,
                session_id=session_id,
                client=clients[m],
                participants=pair,
                initiator_config=config if m == LEAD else None,
            )
            for m in pair
        )
        alice.on("Proposal", evaluation_handler(function_evaluator(judge)))
        alice.on("Evaluation", voting_handler(majority_voter()))
        lead.on("Vote", commitment_handler(majority_committer(quorum_size=1, action="approved")))
        try:
            results = await _run_all([alice, lead])
        finally:
            for client in clients.values():
                await client.close()
        assert [e.confidence for e in lead.projection.evaluations] == [0.75]
        return results

    with no_threads_left_behind():
        results = asyncio.run(scenario())
    assert seen == ["p1"]
    assert {r.state for r in results.values()} == {"Committed"} and len(results) == 2
    commitment = results["lead"].commitment
    assert commitment is not None and commitment.action == "approved"
    assert commitment.outcome_positive and commitment.reason == "majority winner: p1"
