"""A decision session between two agents written only with 0.22.0's agent API
(`Participant(mode=...)`, strategies, `InitiatorConfig` with a Proposal kickoff). Run by
test_anchor_parity.py under macp-sdk-python 0.22.0 and under this SDK, each in its own
process against the same embedded runtime; it prints what the agents observed as JSON.

Usage: python anchor_scenario.py <runtime target> <session id>
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import (
    EvaluationResult,
    InitiatorConfig,
    Participant,
    SessionInfo,
    TerminalResult,
    commitment_handler,
    evaluation_handler,
    function_evaluator,
    majority_committer,
    majority_voter,
    voting_handler,
)

MODE = "macp.mode.decision.v1"
MEMBERS = ["lead", "alice"]


def main(target: str, session_id: str) -> None:
    clients: list[Any] = []

    def make(name: str, initiator: InitiatorConfig | None = None) -> Participant:
        auth = AuthConfig.for_dev_agent(name)
        client = MacpClient(target=target, secure=False, allow_insecure=True, auth=auth)
        clients.append(client)
        return Participant(
            participant_id=name,
            session_id=session_id,
            mode=MODE,
            client=client,
            auth=auth,
            participants=MEMBERS,
            initiator_config=initiator,
        )

    kickoff = {"proposal_id": "p1", "option": "ship v2"}
    lead = make(
        "lead",
        InitiatorConfig(
            intent="choose",
            participants=MEMBERS,
            ttl_ms=60_000,
            kickoff_message_type="Proposal",
            kickoff_payload=kickoff,
        ),
    )
    alice = make("alice")
    seen: dict[str, list[Any]] = {"lead": [], "alice": []}
    ends: dict[str, Any] = {}
    evaluated: list[dict[str, Any]] = []

    def judge(proposal: dict[str, Any], info: SessionInfo) -> EvaluationResult:
        evaluated.append({"proposal": proposal, "mode": info.mode, "session": info.session_id})
        return EvaluationResult("APPROVE", 0.75, "fine: " + str(proposal.get("option")))

    for p in (lead, alice):
        who = p.participant_id

        def record(message: Any, ctx: Any, who: str = who) -> None:
            seen[who].append([message.message_type, message.sender, message.proposal_id])

        def end(result: TerminalResult, who: str = who) -> None:
            c = result.commitment
            ends[who] = {
                "state": result.state,
                "action": getattr(c, "action", None),
                "reason": getattr(c, "reason", None),
                "outcome_positive": getattr(c, "outcome_positive", None),
            }

        p.on("*", record)
        p.on_terminal(end)
    alice.on("Proposal", evaluation_handler(function_evaluator(judge)))
    alice.on("Evaluation", voting_handler(majority_voter()))
    lead.on("Vote", commitment_handler(majority_committer(quorum_size=1, action="approved")))

    threads = [threading.Thread(target=p.run) for p in (alice, lead)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for client in clients:
        client.close()
    print(
        json.dumps(
            {
                "alive": [t.is_alive() for t in threads],
                "seen": seen,
                "ends": ends,
                "evaluated": [{**e, "session": e["session"] == session_id} for e in evaluated],
                "stopped": [lead.is_stopped, alice.is_stopped],
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
