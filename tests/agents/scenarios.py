"""One scenario per mode, written only against the agent API: who starts, what each role
does on which message. Used by the thread, process and asyncio tests alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from macp_sdk.agent import InitiatorConfig
from macp_sdk.participants.decision import DecisionContext, DecisionParticipant
from macp_sdk.participants.multi_round import MultiRoundContext, MultiRoundParticipant
from macp_sdk.participants.quorum import QuorumContext, QuorumParticipant
from macp_sdk.participants.task import TaskContext, TaskParticipant
from macp_sdk.projections._decision_base import EvaluationRecord, ProposalRecord, VoteRecord
from macp_sdk.projections._multi_round_base import ContributeRecord
from macp_sdk.projections._quorum_base import ApprovalRequestRecord, ApproveRecord
from macp_sdk.projections._task_base import TaskCompleteRecord, TaskRequestRecord

LEAD = "lead"
MEMBERS = ["lead", "alice", "bob"]


@dataclass(frozen=True)
class Scenario:
    mode: str
    participant_class: type[Any]
    kickoff_type: str
    kickoff: dict[str, Any]
    commit_action: str


SCENARIOS = {
    "decision": Scenario(
        "macp.mode.decision.v1",
        DecisionParticipant,
        "Proposal",
        {"proposal_id": "p1", "option": "ship v2"},
        "decision.approved",
    ),
    "quorum": Scenario(
        "macp.mode.quorum.v1",
        QuorumParticipant,
        "ApprovalRequest",
        {"request_id": "r1", "action": "deploy", "required_approvals": 2},
        "quorum.approved",
    ),
    "task": Scenario(
        "macp.mode.task.v1",
        TaskParticipant,
        "TaskRequest",
        {"task_id": "t1", "title": "summarise", "requested_assignee": "alice"},
        "task.completed",
    ),
    "multi_round": Scenario(
        "ext.multi_round.v1",
        MultiRoundParticipant,
        "Contribute",
        {"value": "x"},
        "multi_round.converged",
    ),
}


def initiator_config(name: str) -> InitiatorConfig:
    scenario = SCENARIOS[name]
    return InitiatorConfig(
        intent=f"{name} end to end",
        participants=list(MEMBERS),
        ttl_ms=60_000,
        kickoff_message_type=scenario.kickoff_type,
        kickoff_payload=dict(scenario.kickoff),
    )


def wire(name: str, participant: Any) -> None:
    """Registers the role's handlers on ``participant`` (typed ``on_<message>`` only)."""
    lead = participant.participant_id == LEAD
    action = SCENARIOS[name].commit_action
    if name == "decision":
        _decision(participant, lead, action)
    elif name == "quorum":
        _quorum(participant, lead, action)
    elif name == "task":
        _task(participant, lead, action)
    else:
        _multi_round(participant, lead, action)


def _decision(p: DecisionParticipant, lead: bool, action: str) -> None:
    if lead:

        def tally(record: VoteRecord, ctx: DecisionContext) -> None:
            votes = ctx.projection.votes_for(record.proposal_id)
            if len(votes) == 2 and ctx.projection.majority_winner() == record.proposal_id:
                ctx.actions.commit(action, "release", reason=f"{record.proposal_id} won")

        p.on_vote(tally)
        return

    def evaluate(record: ProposalRecord, ctx: DecisionContext) -> None:
        ctx.actions.evaluate(record.proposal_id, "approve", confidence=0.9, reason="looks fine")

    def vote(record: EvaluationRecord, ctx: DecisionContext) -> None:
        # The runtime takes no evaluation once voting began: vote when both voters evaluated.
        if len(ctx.projection.evaluations_for(record.proposal_id)) == 2:
            ctx.actions.vote(record.proposal_id, "approve")

    p.on_proposal(evaluate).on_evaluation(vote)


def _quorum(p: QuorumParticipant, lead: bool, action: str) -> None:
    if lead:

        def count(record: ApproveRecord, ctx: QuorumContext) -> None:
            if ctx.projection.commitment_ready(record.request_id):
                ctx.actions.commit(action, "deploy", reason="two approvals")

        p.on_approve(count)
        return

    def approve(record: ApprovalRequestRecord, ctx: QuorumContext) -> None:
        ctx.actions.approve(record.request_id, reason=f"{ctx.participant} agrees")

    p.on_approval_request(approve)


def _task(p: TaskParticipant, lead: bool, action: str) -> None:
    if lead:

        def close(record: TaskCompleteRecord, ctx: TaskContext) -> None:
            if ctx.projection.is_commit_eligible:
                ctx.actions.commit(action, "tasks", reason=f"{record.task_id} done")

        p.on_task_complete(close)
        return

    def work(record: TaskRequestRecord, ctx: TaskContext) -> None:
        if record.requested_assignee != ctx.participant:
            return  # someone else's task: only watch
        ctx.actions.accept_task(record.task_id)
        ctx.actions.update_task(record.task_id, status="in_progress", progress=0.5)
        ctx.actions.complete_task(record.task_id, output=b"summary", summary="done")

    p.on_task_request(work)


# Each participant starts from its own value and adopts the smallest one it has seen, so
# the session needs several rounds before it converges.
START_VALUES = {"lead": "x", "alice": "y", "bob": "w"}


def _multi_round(p: MultiRoundParticipant, lead: bool, action: str) -> None:
    me = p.participant_id
    sent: list[str] = [START_VALUES[me]] if lead else []  # the lead's kickoff carries its value

    def adopt(record: ContributeRecord, ctx: MultiRoundContext) -> None:
        projection = ctx.projection
        if projection.is_converged:
            return
        values = [v for v in (projection.value_of(m) for m in MEMBERS) if v is not None]
        values.append(sent[-1] if sent else START_VALUES[me])  # ours, even before its echo
        smallest = min(values)
        if not sent or sent[-1] != smallest:
            sent.append(smallest)
            ctx.actions.contribute(smallest)

    p.on_contribute(adopt)
    if lead:
        p.on_phase_change(
            "Converged",
            lambda _phase, ctx: ctx.actions.commit(action, "values", reason="all agree"),
        )
