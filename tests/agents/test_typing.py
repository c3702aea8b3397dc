"""The generated participants are typed: mypy accepts agents written against them and
rejects handlers of the wrong record, wrong action arguments and actions of another mode."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api as mypy_api

CORRECT_USE = """
from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import TerminalResult
from macp_sdk.participants.decision import (
    AsyncDecisionContext, AsyncDecisionParticipant, DecisionContext, DecisionParticipant,
)
from macp_sdk.participants.task import TaskContext, TaskParticipant
from macp_sdk.projections._decision_base import ProposalRecord, VoteRecord
from macp_sdk.projections._task_base import TaskRequestRecord


def judge(record: ProposalRecord, ctx: DecisionContext) -> None:
    ctx.actions.evaluate(record.proposal_id, "APPROVE", confidence=0.8)
    ctx.actions.vote(record.proposal_id, "approve", reason="ok")


def tally(record: VoteRecord, ctx: DecisionContext) -> None:
    winner: str | None = ctx.projection.majority_winner()
    if winner is not None:
        ctx.actions.commit("decision.approved", "release", reason=record.vote)


async def judge_async(record: ProposalRecord, ctx: AsyncDecisionContext) -> None:
    await ctx.actions.vote(record.proposal_id, "APPROVE")


def work(record: TaskRequestRecord, ctx: TaskContext) -> None:
    ctx.actions.accept_task(record.task_id)
    ctx.actions.complete_task(record.task_id, output=b"done")


def build(client: MacpClient) -> None:
    agent = DecisionParticipant(participant_id="a", session_id="s" * 22, client=client)
    agent.on_proposal(judge).on_vote(tally).on_terminal(lambda r: print(r.state))
    TaskParticipant(participant_id="b", session_id="s" * 22, client=client).on_task_request(work)


def build_async(agent: AsyncDecisionParticipant) -> None:
    agent.on_proposal(judge_async)
"""

MISUSE = """
from macp_sdk.participants.decision import DecisionContext, DecisionParticipant
from macp_sdk.projections._decision_base import ProposalRecord, VoteRecord


def on_vote(record: VoteRecord, ctx: DecisionContext) -> None:
    ctx.actions.vote(record.proposal_id, "MAYBE")  # E: arg-type
    ctx.actions.evaluate(record.proposal_id, "APPROVE")  # E: call-arg
    ctx.actions.approve(record.proposal_id)  # E: attr-defined
    ctx.projection.no_such_fact()  # E: attr-defined


def wire(agent: DecisionParticipant) -> None:
    agent.on_proposal(on_vote)  # E: arg-type
    agent.on_ballot(on_vote)  # E: attr-defined
"""


def _mypy(tmp_path: Path, repo_root: Path, source: str) -> str:
    path = tmp_path / "snippet.py"
    path.write_text(source)
    stdout, stderr, _ = mypy_api.run(
        ["--config-file", str(repo_root / "pyproject.toml"), "--show-error-codes", str(path)]
    )
    return stdout + stderr


def test_agents_written_against_the_participants_type_check(
    tmp_path: Path, repo_root: Path
) -> None:
    report = _mypy(tmp_path, repo_root, CORRECT_USE)
    assert "Success: no issues found" in report, report


def test_misuse_is_rejected_line_by_line(tmp_path: Path, repo_root: Path) -> None:
    report = _mypy(tmp_path, repo_root, MISUSE)
    errors: dict[int, set[str]] = {}
    for match in re.finditer(r"snippet\.py:(\d+): error: .*\[([a-z-]+)\]", report):
        errors.setdefault(int(match[1]), set()).add(match[2])
    expected = {
        number: {line.rsplit("# E: ", 1)[1].strip()}
        for number, line in enumerate(MISUSE.splitlines(), start=1)
        if "# E: " in line
    }
    assert errors == expected, report
