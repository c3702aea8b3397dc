"""Pattern: policy-driven decision orchestrator ("Building Orchestrators", pattern 1).

The orchestrator starts a Decision session, submits proposals, asks each agent for a vote,
then applies *its own* policy to the facts the SDK's projection gives it: a strict majority
wins unless a critical objection blocks the winner. The policy lives here, not in the SDK.

Run it on its own (it starts an embedded runtime):

    .venv/bin/python examples/policy_decision.py
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, DecisionSession, MacpClient
from macp_sdk.modes.decision import VoteValue

COORDINATOR = "orchestrator"


@dataclass(frozen=True)
class AgentVote:
    proposal_id: str
    choice: VoteValue


# Deterministic stand-ins for real agents (an LLM, a human, a service): who prefers what.
PREFERENCES: dict[str, str] = {"alice": "p-redis", "bob": "p-postgres", "carol": "p-redis"}


def ask_agent_for_vote(participant: str, session_id: str) -> AgentVote:
    """Simulated agent: approves the proposal it prefers (a real one would be asked remotely)."""
    return AgentVote(PREFERENCES.get(participant, "p-redis"), "approve")


AskForVote = Callable[[str, str], AgentVote]


def run_decision(
    client: MacpClient,
    intent: str,
    participants: Sequence[str],
    proposals: Sequence[tuple[str, str, str]],
    *,
    ask: AskForVote = ask_agent_for_vote,
    objections: Sequence[tuple[str, str, str]] = (),
) -> dict[str, object]:
    """Orchestrator that runs a majority-vote decision session.

    ``proposals`` are ``(proposal_id, option, rationale)``; ``objections`` are critical
    objections ``(participant, proposal_id, reason)`` raised before voting starts.
    """
    auth = AuthConfig.for_dev_agent(COORDINATOR)
    session = DecisionSession(client, auth=auth)
    # The orchestrator proposes, so it is a declared participant too.
    session.start(intent=intent, participants=participants, ttl_ms=120_000)

    # Submit proposals
    for pid, option, rationale in proposals:
        session.propose(pid, option, rationale=rationale)

    # The runtime binds each message's sender to the bearer token, so acting for another
    # participant needs that participant's credential, not just sender=: the SDK refuses a
    # sender that does not match the auth in use (MacpIdentityMismatchError).
    for participant, pid, reason in objections:
        session.raise_objection(
            pid,
            reason=reason,
            severity="critical",
            sender=participant,
            auth=AuthConfig.for_dev_agent(participant),
        )

    # Collect votes (in a real system, agents vote asynchronously)
    for participant in participants:
        if participant == COORDINATOR:
            continue
        # Your policy logic: ask each agent to vote
        vote = ask(participant, session.session_id)
        # As the seed, plus the voter's own credential (sender= alone is refused, see above).
        session.vote(
            vote.proposal_id,
            vote.choice,
            sender=participant,
            auth=AuthConfig.for_dev_agent(participant),
        )

    # Apply your policy: majority wins
    proj = session.decision_projection
    winner = proj.majority_winner()
    facts = {"approvals": proj.vote_totals(), "session_id": session.session_id}

    if winner and not proj.has_blocking_objection(winner):
        session.commit(
            action="approved",
            authority_scope="my-domain",
            reason=f"Majority selected {winner}",
        )
        return {"status": "resolved", "winner": winner, **facts}
    else:
        session.cancel(reason="No majority or blocking objection")
        return {"status": "cancelled", **facts}


PROPOSALS = [
    ("p-redis", "redis", "in-memory, sub-millisecond reads"),
    ("p-postgres", "postgres", "one less system to run"),
]


def main(target: str) -> dict[str, object]:
    """Run the orchestrator against the runtime at ``target``; return what it found."""
    with MacpClient(
        target=target, secure=False, auth=AuthConfig.for_dev_agent(COORDINATOR)
    ) as client:
        result = run_decision(
            client,
            "choose the session cache backend",
            [COORDINATOR, "alice", "bob", "carol"],
            PROPOSALS,
        )
        session_id = str(result["session_id"])
        state = SessionState.Name(client.get_session(session_id).metadata.state)
    return {**result, "state": state, "sessions": [session_id]}


if __name__ == "__main__":
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        print(main(runtime.target))
