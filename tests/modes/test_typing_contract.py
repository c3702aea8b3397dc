"""The generated API is typed: mypy accepts the seeds' calls and rejects misuse.

Each line of MISUSE ends with `# E: <code>`; mypy must report exactly that error code on that
line, and nothing on the lines of CORRECT_USE.
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api as mypy_api

CORRECT_USE = """
from macp_sdk import AuthConfig, DecisionSession, MacpClient, QuorumSession, TaskSession
from macp_sdk.modes.decision import build_vote
from macp_sdk.modes.handoff import build_accept_handoff


def orchestrate(client: MacpClient) -> str | None:
    auth = AuthConfig.for_dev_agent("orchestrator")
    session = DecisionSession(client, auth=auth)
    session.start(intent="pick", participants=["a", "b"], ttl_ms=120_000)
    session.propose("p1", "option-a", rationale="fast")
    session.evaluate("p1", "APPROVE", confidence=0.9, reason="ok")
    session.raise_objection("p1", reason="risky", severity="critical")
    session.vote("p1", "approve", sender="a")
    quorum = QuorumSession(client, auth=auth)
    quorum.request_approval("req-1", "deploy", summary="Deploy", required_approvals=2)
    task = TaskSession(client, auth=auth)
    task.request("t1", "Deploy", instructions="...", requested_assignee="deploy-agent")
    task.request_task("t2", "Roll back", input_data=b"v1")
    build_vote(session_id="s", sender="a", proposal_id="p1", vote="REJECT")
    build_accept_handoff(session_id="s", sender="b", handoff_id="h1")
    winner: str | None = None
    return winner
"""

MISUSE = """
from macp_sdk import DecisionSession, MacpClient, QuorumSession, TaskSession
from macp_sdk.modes.decision import build_vote
from macp_sdk.modes.handoff import build_accept_handoff


def misuse(client: MacpClient) -> None:
    session = DecisionSession(client)
    session.vote("p1", "APPROVE", reasn="typo")  # E: call-arg
    session.vote("p1", "MAYBE")  # E: arg-type
    session.evaluate("p1", "APPROVE")  # E: call-arg
    session.evaluate("p1", "APPROVE", confidence="high")  # E: arg-type
    session.raise_objection("p1", reason="x", severity="fatal")  # E: arg-type
    session.propose("p1")  # E: call-arg
    build_vote(session_id="s", sender="a", proposal_id="p1")  # E: call-arg
    build_accept_handoff(session_id="s", sender="b", handoff_id="h1", implicit=True)  # E: call-arg
    QuorumSession(client).request_approval("r1", "deploy")  # E: call-arg
    TaskSession(client).request("t1", "Deploy", input=b"x")  # E: call-arg
    session.no_such_action("p1")  # E: attr-defined
"""


def _mypy(tmp_path: Path, repo_root: Path, source: str) -> str:
    path = tmp_path / "snippet.py"
    path.write_text(source)
    stdout, stderr, _ = mypy_api.run(
        ["--config-file", str(repo_root / "pyproject.toml"), "--show-error-codes", str(path)]
    )
    return stdout + stderr


def test_the_seed_calls_type_check(tmp_path: Path, repo_root: Path) -> None:
    report = _mypy(tmp_path, repo_root, CORRECT_USE)
    assert "Success: no issues found" in report, report


def test_misuse_is_rejected_line_by_line(tmp_path: Path, repo_root: Path) -> None:
    report = _mypy(tmp_path, repo_root, MISUSE)
    errors: dict[int, set[str]] = {}
    for match in re.finditer(r"snippet\.py:(\d+): error: .*\[([a-z-]+)\]", report):
        errors.setdefault(int(match[1]), set()).add(match[2])
    expected = {
        number: code
        for number, line in enumerate(MISUSE.splitlines(), start=1)
        for code in re.findall(r"# E: ([a-z-]+)", line)
    }
    assert len(expected) == 11
    for number, code in expected.items():
        assert code in errors.get(number, set()), f"line {number}: expected [{code}]\n{report}"
    unexpected = set(errors) - set(expected)
    assert not unexpected, f"errors on lines that should be fine: {unexpected}\n{report}"
