"""Pattern: event-driven orchestrator ("Building Orchestrators", pattern 3).

The coordinator does not call the agents. It opens a stream on its Decision session and
reacts to accepted envelopes as they arrive: each Vote is applied to the projection, and once
``majority_winner()`` names a proposal that a majority of all voters approve, the coordinator
commits. It stops when its Commitment comes back on the stream. The agents vote on their own,
each from its own thread with its own client and credential, in no particular order. A vote
that arrives after the commitment is refused by the runtime (SESSION_NOT_OPEN): that is normal
here, not an error.

    .venv/bin/python examples/event_driven.py
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from macp.v1.envelope_pb2 import SessionState
from macp_sdk import (
    AuthConfig,
    DecisionSession,
    MacpClient,
    MacpSessionNotOpenError,
    MacpStream,
)
from macp_sdk.facts import decision as decision_facts

COORDINATOR = "coordinator"
# Each simulated agent approves one proposal: p-canary wins 2 to 1 whatever the order.
AGENT_CHOICES: dict[str, str] = {"alice": "p-canary", "bob": "p-bluegreen", "carol": "p-canary"}


def agent(
    target: str, name: str, proposal_id: str, session_id: str, outcomes: dict[str, str]
) -> None:
    """One agent: its own client and credential, a session object bound to an existing id."""
    with MacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent(name)) as client:
        session = DecisionSession(client, session_id=session_id)
        try:
            session.vote(proposal_id, "approve", reason=f"{name}'s pick")
            outcomes[name] = "accepted"
        except MacpSessionNotOpenError:
            outcomes[name] = "too late: session already resolved"


def orchestrate(
    session: DecisionSession, stream: MacpStream, voters: int, timeout: float
) -> dict[str, object]:
    """The event loop: react to accepted envelopes until our Commitment comes back."""
    votes_applied = 0
    chosen: str | None = None
    for envelope in stream.responses(timeout=timeout):
        if envelope.message_type == decision_facts.VOTE and chosen is None:
            # Check if we have enough votes to commit
            session.projection.apply_envelope(envelope)
            votes_applied += 1
            proj = session.decision_projection
            winner = proj.majority_winner()
            # Our policy on top of the fact: the winner needs a majority of all the voters,
            # not just of the votes cast so far (one early vote is a "majority" of one).
            if winner and 2 * proj.vote_counts(winner)["APPROVE"] > voters:
                session.commit(
                    action="decision.selected",
                    authority_scope="deployments",
                    reason=f"majority for {winner} after {votes_applied} votes",
                )
                chosen = winner  # keep reading until the Commitment comes back
        elif envelope.message_type == "Commitment":
            return {"status": "resolved", "winner": chosen, "votes_applied": votes_applied}
    # No majority within `timeout` seconds (or the stream ended): give up.
    session.cancel(reason="no majority in time")
    return {"status": "cancelled", "winner": None, "votes_applied": votes_applied}


def main(
    target: str, *, choices: Mapping[str, str] = AGENT_CHOICES, timeout: float = 30.0
) -> dict[str, object]:
    """Run the orchestrator and its agents against ``target``; return what happened.

    ``choices`` maps each agent to the proposal it approves; ``timeout`` bounds the wait.
    """
    coordinator_auth = AuthConfig.for_dev_agent(COORDINATOR)
    with MacpClient(target=target, secure=False, auth=coordinator_auth) as client:
        session = DecisionSession(client, auth=coordinator_auth)
        session.start(
            intent="choose the rollout strategy",
            participants=[COORDINATOR, *choices],
            ttl_ms=60_000,
        )
        session.propose("p-canary", "canary", rationale="5% first, watch the error rate")
        session.propose("p-bluegreen", "blue-green", rationale="instant switch and rollback")

        # Subscribe to the session's accepted envelopes after the ones we already hold, so
        # nothing the agents send is missed even if they are faster than us.
        with session.open_stream() as stream:
            outcomes: dict[str, str] = {}
            agents = [
                threading.Thread(
                    target=agent, args=(target, name, pid, session.session_id, outcomes)
                )
                for name, pid in choices.items()
            ]
            for thread in agents:
                thread.start()
            result = orchestrate(session, stream, len(choices), timeout)
            for thread in agents:
                thread.join(timeout)
        state = SessionState.Name(session.metadata().metadata.state)
    return {
        **result,
        "session_id": session.session_id,
        "sessions": [session.session_id],
        "agent_outcomes": dict(sorted(outcomes.items())),
        "state": state,
    }


if __name__ == "__main__":
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        print(main(runtime.target))
