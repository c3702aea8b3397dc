"""Pattern: every party is an agent written as handlers (macp_sdk.participants).

The coordinator is the initiator: its SessionStart and first proposal are its
`InitiatorConfig`; it adds the second proposal when the first comes back, and commits once a
proposal holds a majority of all the voters. Each voter approves the proposal it prefers
once both are on the table (the runtime refuses proposals after the first vote). Every agent
runs in its own thread with its own client and credential; each ends when the Commitment
reaches it. A vote that arrives after the
commitment is refused by the runtime (SESSION_NOT_OPEN): the voter notes it and carries on.

    .venv/bin/python examples/agents.py
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, MacpClient, MacpSessionNotOpenError
from macp_sdk.agent import InitiatorConfig, TerminalResult
from macp_sdk.envelope import new_session_id
from macp_sdk.facts.decision import PROPOSAL
from macp_sdk.participants.decision import DecisionContext, DecisionParticipant
from macp_sdk.projections._decision_base import ProposalRecord, VoteRecord

COORDINATOR = "coordinator"
AGENT_CHOICES: dict[str, str] = {"alice": "p-canary", "bob": "p-bluegreen", "carol": "p-canary"}


def coordinator(client: MacpClient, session_id: str, voters: list[str]) -> DecisionParticipant:
    start = InitiatorConfig(
        intent="choose the rollout strategy",
        participants=[COORDINATOR, *voters],
        ttl_ms=60_000,
        kickoff_message_type=PROPOSAL,
        kickoff_payload={"proposal_id": "p-canary", "option": "canary"},
    )
    me = DecisionParticipant(
        participant_id=COORDINATOR, session_id=session_id, client=client, initiator_config=start
    )

    def second_proposal(record: ProposalRecord, ctx: DecisionContext) -> None:
        if record.proposal_id == "p-canary":
            ctx.actions.propose("p-bluegreen", "blue-green", rationale="instant rollback")

    committed: list[str] = []  # votes can still arrive after ours commits: commit once

    def count(record: VoteRecord, ctx: DecisionContext) -> None:
        winner = ctx.projection.majority_winner()
        # A majority of all the voters, not of the votes cast so far.
        if (
            committed
            or not winner
            or 2 * ctx.projection.vote_counts(winner)["APPROVE"] <= len(voters)
        ):
            return
        committed.append(winner)
        ctx.actions.commit("decision.selected", "deployments", reason=f"majority: {winner}")

    return me.on_proposal(second_proposal).on_vote(count)


def voter(
    client: MacpClient, session_id: str, name: str, choice: str, outcomes: dict[str, str]
) -> DecisionParticipant:
    me = DecisionParticipant(participant_id=name, session_id=session_id, client=client)

    def approve(record: ProposalRecord, ctx: DecisionContext) -> None:
        # The runtime takes no proposal once voting began: vote when both are on the table.
        if len(ctx.projection.proposals) < 2:
            return
        try:
            ctx.actions.vote(choice, "approve", reason=f"{name}'s pick")
            outcomes[name] = "accepted"
        except MacpSessionNotOpenError:
            outcomes[name] = "too late: session already resolved"

    return me.on_proposal(approve)


def main(
    target: str, *, choices: Mapping[str, str] = AGENT_CHOICES, timeout: float = 30.0
) -> dict[str, object]:
    """Run the coordinator and the voters as agents against ``target``; return what happened."""
    session_id = new_session_id()
    names = [COORDINATOR, *choices]
    clients = {
        n: MacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent(n)) for n in names
    }
    outcomes: dict[str, str] = {}
    ended: dict[str, TerminalResult] = {}
    agents = [voter(clients[n], session_id, n, choice, outcomes) for n, choice in choices.items()]
    agents.append(coordinator(clients[COORDINATOR], session_id, list(choices)))
    try:
        threads = []
        for agent in agents:
            agent.on_terminal(lambda r, who=agent.participant_id: ended.__setitem__(who, r))
            threads.append(threading.Thread(target=agent.run, name=f"agent-{agent.participant_id}"))
        for thread in threads:  # voters first: they wait for the session to exist
            thread.start()
        for thread in threads:
            thread.join(timeout)
        for agent in agents:
            agent.stop()  # no-op for agents that ended; bounds a run that did not
        state = SessionState.Name(clients[COORDINATOR].get_session(session_id).metadata.state)
    finally:
        for client in clients.values():
            client.close()
    commitment = ended[COORDINATOR].commitment if COORDINATOR in ended else None
    return {
        "session_id": session_id,
        "ended": {n: r.state for n, r in sorted(ended.items())},
        "reason": commitment.reason if commitment else None,
        "agent_outcomes": dict(sorted(outcomes.items())),
        "state": state,
    }


if __name__ == "__main__":
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        print(main(runtime.target))
