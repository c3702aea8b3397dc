"""Pattern: multi-stage pipeline ("Building Orchestrators", pattern 2).

Three modes in sequence, each its own session, all driven by one coordinator:

1. Decision: agents a, b and c propose and vote on which version to deploy.
2. Quorum: reviewers r1, r2 and r3 approve the deployment (2 approvals required).
3. Task: the deployment is delegated to deploy-agent, who accepts, reports and completes it.

Each stage ends with the coordinator's Commitment once the projection shows the stage is done.
Agents here are simulated inline; each acts with its own credential (``as_agent``).

    .venv/bin/python examples/pipeline.py
"""

from __future__ import annotations

from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, DecisionSession, MacpClient, QuorumSession, TaskSession

COORDINATOR = "coordinator"
coordinator_auth = AuthConfig.for_dev_agent(COORDINATOR)


def as_agent(name: str) -> AuthConfig:
    """The credential an agent sends with: the runtime binds the sender to it."""
    return AuthConfig.for_dev_agent(name)


def deployment_pipeline(client: MacpClient) -> dict[str, object]:
    """
    1. Decision: pick which version to deploy
    2. Quorum: get approval from required reviewers
    3. Task: delegate the deployment to a worker
    """
    facts: dict[str, object] = {}

    # Stage 1: Decision. The coordinator is the initiator but not a participant: it cannot
    # propose or vote, only commit (the default policy lets only the initiator commit).
    decision = DecisionSession(client, auth=coordinator_auth)
    decision.start(intent="pick version", participants=["a", "b", "c"], ttl_ms=60_000)
    facts["decision_session"] = decision.session_id
    decision.propose("p-142", "v1.4.2", rationale="patch release", auth=as_agent("a"))
    decision.propose("p-150", "v1.5.0", rationale="new features", auth=as_agent("b"))
    for voter, pid in [("a", "p-142"), ("b", "p-150"), ("c", "p-142")]:
        decision.vote(pid, "approve", auth=as_agent(voter))
    winner_id = decision.decision_projection.majority_winner()
    if winner_id is None:
        decision.cancel(reason="no majority")
        return {**facts, "status": "no version chosen"}
    winner = decision.decision_projection.proposals[winner_id].option
    decision.commit(
        action="decision.selected", authority_scope="release", reason=f"majority for {winner}"
    )
    facts["version"] = winner

    # Stage 2: Quorum approval
    quorum = QuorumSession(client, auth=coordinator_auth)
    quorum.start(
        intent=f"approve deploy of {winner}", participants=["r1", "r2", "r3"], ttl_ms=60_000
    )
    facts["quorum_session"] = quorum.session_id
    quorum.request_approval("req-1", "deploy", summary=f"Deploy {winner}", required_approvals=2)
    # Collect ballots until the projection says the threshold is reached (or unreachable).
    ballots = [("r1", "approve"), ("r3", "reject"), ("r2", "approve")]
    for reviewer, choice in ballots:
        if quorum.quorum_projection.commit_eligible():
            break
        if choice == "approve":
            quorum.approve("req-1", reason="looks good", auth=as_agent(reviewer))
        else:
            quorum.reject("req-1", reason="wait for Monday", auth=as_agent(reviewer))
    qp = quorum.quorum_projection
    facts["approvals"], facts["rejections"] = qp.approval_count(), qp.rejection_count()
    if not qp.has_quorum():
        quorum.commit(action="quorum.rejected", authority_scope="release", reason="no quorum")
        return {**facts, "status": "deploy not approved"}
    quorum.commit(
        action="quorum.approved", authority_scope="release", reason=f"{qp.approval_count()} of 3"
    )

    # Stage 3: Task delegation
    task = TaskSession(client, auth=coordinator_auth)
    task.start(
        intent=f"deploy {winner}", participants=["coordinator", "deploy-agent"], ttl_ms=300_000
    )
    facts["task_session"] = task.session_id
    task.request(
        "t1",
        f"Deploy {winner}",
        instructions="rolling deploy, 25% at a time",
        requested_assignee="deploy-agent",
    )
    # The worker's side: accept, report progress, complete.
    worker = as_agent("deploy-agent")
    task.accept_task("t1", auth=worker)
    task.update_task("t1", status="rolling", progress=0.5, message="2 of 4 batches", auth=worker)
    task.complete_task("t1", output=f"{winner} live".encode(), summary="all green", auth=worker)
    # ... wait for completion: the projection tells the coordinator it may commit.
    tp = task.task_projection
    if not tp.has_terminal_report:
        task.cancel(reason="worker never reported")
        return {**facts, "status": "deploy unfinished"}
    task.commit(action="task.completed", authority_scope="release", reason="deployed")
    facts["task_status"] = tp.status
    facts["task_output"] = (tp.output or b"").decode()
    return {**facts, "status": "deployed"}


def main(target: str) -> dict[str, object]:
    """Run the pipeline against the runtime at ``target``; return what it found."""
    with MacpClient(target=target, secure=False, auth=coordinator_auth) as client:
        facts = deployment_pipeline(client)
        sessions = [
            str(facts[key])
            for key in ("decision_session", "quorum_session", "task_session")
            if key in facts
        ]
        states = [SessionState.Name(client.get_session(sid).metadata.state) for sid in sessions]
    return {**facts, "sessions": sessions, "states": states}


if __name__ == "__main__":
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        print(main(runtime.target))
