"""The runnable examples complete against the embedded runtime, with the expected outcomes.

Real gRPC on loopback: each test starts its own LocalRuntime and runs an example's ``main``.
(No ``__init__.py`` here on purpose: as a package this directory would be imported as
``examples`` and shadow the repository's ``examples`` package.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, DecisionSession, MacpClient, MacpIdentityMismatchError
from macp_sdk.local_runtime import LocalRuntime

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from examples import (  # noqa: E402
    agents,
    event_driven,
    pipeline,
    policy_decision,
    run_demo,
    streaming,
)
from examples.policy_decision import AgentVote  # noqa: E402

RESOLVED = "SESSION_STATE_RESOLVED"
CANCELLED = "SESSION_STATE_CANCELLED"


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as rt:
        yield rt


def client_for(runtime: LocalRuntime, agent: str) -> MacpClient:
    return MacpClient(target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent(agent))


def accepted_types(runtime: LocalRuntime, initiator: str, session_id: str) -> list[str]:
    """The message types the runtime accepted in a session, replayed from the start."""
    with client_for(runtime, initiator) as client:
        resolved = client.get_session(session_id).metadata.state == SessionState.Value(RESOLVED)
        return [e.message_type for e in run_demo.replay(client, session_id, resolved)]


# -- pattern 1: policy-driven decision ---------------------------------------------------------


def test_policy_decision_majority_resolves(runtime: LocalRuntime) -> None:
    facts = policy_decision.main(runtime.target)

    assert facts["status"] == "resolved"
    assert facts["winner"] == "p-redis"
    assert facts["approvals"] == {"p-redis": 2, "p-postgres": 1}
    assert facts["state"] == RESOLVED
    assert accepted_types(runtime, "orchestrator", str(facts["session_id"])) == [
        "SessionStart",
        "Proposal",
        "Proposal",
        "Vote",
        "Vote",
        "Vote",
        "Commitment",
    ]


def test_policy_decision_split_vote_is_cancelled(runtime: LocalRuntime) -> None:
    split = {"alice": "p-redis", "bob": "p-postgres"}

    def ask(participant: str, session_id: str) -> AgentVote:
        return AgentVote(split[participant], "approve")

    with client_for(runtime, "orchestrator") as client:
        result = policy_decision.run_decision(
            client, "tie", ["orchestrator", "alice", "bob"], policy_decision.PROPOSALS, ask=ask
        )
        state = client.get_session(str(result["session_id"])).metadata.state

    assert result["status"] == "cancelled"
    assert "winner" not in result
    assert SessionState.Name(state) == CANCELLED


def test_policy_decision_blocking_objection_vetoes_the_majority(runtime: LocalRuntime) -> None:
    with client_for(runtime, "orchestrator") as client:
        result = policy_decision.run_decision(
            client,
            "cache",
            ["orchestrator", "alice", "bob", "carol"],
            policy_decision.PROPOSALS,
            objections=[("bob", "p-redis", "no persistence")],
        )
        state = client.get_session(str(result["session_id"])).metadata.state

    assert result["approvals"] == {"p-redis": 2, "p-postgres": 1}  # a majority, yet...
    assert result["status"] == "cancelled"
    assert SessionState.Name(state) == CANCELLED


def test_voting_for_another_participant_needs_their_auth(runtime: LocalRuntime) -> None:
    # Why the example passes auth= next to the seed's sender=: sender alone is refused.
    with client_for(runtime, "orchestrator") as client:
        session = DecisionSession(client)
        session.start(intent="x", participants=["orchestrator", "alice"], ttl_ms=60_000)
        session.propose("p1", "one")
        with pytest.raises(MacpIdentityMismatchError, match="for_dev_agent\\('alice'\\)"):
            session.vote("p1", "approve", sender="alice")
        session.vote("p1", "approve", sender="alice", auth=AuthConfig.for_dev_agent("alice"))
        assert session.decision_projection.vote_totals() == {"p1": 1}


# -- pattern 2: decision -> quorum -> task --------------------------------------------------


def test_pipeline_runs_all_three_stages(runtime: LocalRuntime) -> None:
    facts = pipeline.main(runtime.target)

    assert facts["status"] == "deployed"
    assert facts["version"] == "v1.4.2"
    assert (facts["approvals"], facts["rejections"]) == (2, 1)
    assert facts["task_status"] == "completed"
    assert facts["task_output"] == "v1.4.2 live"
    assert facts["states"] == [RESOLVED, RESOLVED, RESOLVED]

    sessions = facts["sessions"]
    assert isinstance(sessions, list)
    with client_for(runtime, "coordinator") as client:
        modes = [client.get_session(s).metadata.mode for s in sessions]
    assert modes == ["macp.mode.decision.v1", "macp.mode.quorum.v1", "macp.mode.task.v1"]
    assert accepted_types(runtime, "coordinator", sessions[1]) == [
        "SessionStart",
        "ApprovalRequest",
        "Approve",
        "Reject",
        "Approve",
        "Commitment",
    ]
    assert accepted_types(runtime, "coordinator", sessions[2]) == [
        "SessionStart",
        "TaskRequest",
        "TaskAccept",
        "TaskUpdate",
        "TaskComplete",
        "Commitment",
    ]


# -- pattern 3: event-driven ---------------------------------------------------------------


def test_event_driven_commits_on_majority_from_the_stream(runtime: LocalRuntime) -> None:
    facts = event_driven.main(runtime.target, timeout=20.0)

    assert facts["status"] == "resolved"
    assert facts["winner"] == "p-canary"
    assert facts["state"] == RESOLVED
    # Agents vote in any order: a majority of 3 needs 2 or 3 votes seen on the stream.
    assert facts["votes_applied"] in (2, 3)
    outcomes = facts["agent_outcomes"]
    assert isinstance(outcomes, dict)
    assert set(outcomes) == {"alice", "bob", "carol"}
    assert set(outcomes.values()) <= {"accepted", "too late: session already resolved"}
    # What the runtime accepted agrees with what the agents were told.
    types = accepted_types(runtime, "coordinator", str(facts["session_id"]))
    accepted_votes = sum(1 for v in outcomes.values() if v == "accepted")
    votes_applied = facts["votes_applied"]
    assert isinstance(votes_applied, int)
    assert types.count("Vote") == accepted_votes >= votes_applied
    assert types[-1] == "Commitment"


def test_event_driven_without_majority_cancels_at_the_timeout(runtime: LocalRuntime) -> None:
    split = {"alice": "p-canary", "bob": "p-bluegreen"}
    facts = event_driven.main(runtime.target, choices=split, timeout=1.0)

    assert facts["status"] == "cancelled"
    assert facts["winner"] is None
    assert facts["votes_applied"] == 2
    assert facts["state"] == CANCELLED


# -- the streaming guide -------------------------------------------------------------------


def test_streaming_guide(runtime: LocalRuntime) -> None:
    facts = streaming.main(runtime.target)

    raw = facts["raw_stream"]
    assert isinstance(raw, dict)
    assert raw["echoed"] == ("Vote", "coordinator")
    assert raw["then"] == [("Vote", "alice"), ("Commitment", "coordinator")]
    helpers = facts["session_stream"]
    assert isinstance(helpers, dict)
    assert helpers["observed"] == ("Proposal", "coordinator")
    # The initial registry event, then the one our RegisterExtMode caused during the watch.
    assert facts["registry_events"] == ["modes", "modes"]
    ext_modes = facts["ext_modes"]
    assert isinstance(ext_modes, list)
    assert streaming.EXT_MODE in ext_modes
    assert facts["roots_events"] == 1
    assert facts["roots"] == []
    assert facts["states"] == [RESOLVED, RESOLVED]
    with client_for(runtime, "coordinator") as client:  # the example cleaned up after itself
        assert streaming.EXT_MODE not in [d.mode for d in client.list_ext_modes().modes]


# -- make run ------------------------------------------------------------------------------

SESSION_LINE = re.compile(r"^\s+\[\d\] (macp\.mode\.\w+\.v1) session [0-9a-f-]{36}$")
EXPECTED_MODES = [
    "macp.mode.decision.v1",  # policy-driven decision
    "macp.mode.decision.v1",  # pipeline: decision
    "macp.mode.quorum.v1",  # pipeline: quorum
    "macp.mode.task.v1",  # pipeline: task
    "macp.mode.decision.v1",  # event-driven
    "macp.mode.decision.v1",  # streaming: raw MacpStream
    "macp.mode.decision.v1",  # streaming: session helpers
]


def check_demo_output(lines: list[str]) -> None:
    modes = [m.group(1) for m in map(SESSION_LINE.match, lines) if m]
    assert modes == EXPECTED_MODES
    finals = [line.strip() for line in lines if "final state:" in line]
    assert len(finals) == len(EXPECTED_MODES)
    assert all(line.startswith("final state: RESOLVED; outcome: positive") for line in finals)
    headings = [line for line in lines if line.startswith("=== ")]
    assert [h.split(" (")[0] for h in headings] == [
        f"=== {i}. {title}" for i, (title, _) in enumerate(run_demo.PATTERNS, start=1)
    ]


def test_demo_prints_every_session(runtime: LocalRuntime) -> None:
    lines: list[str] = []
    results = run_demo.demo(runtime.target, out=lines.append)

    check_demo_output(lines)
    assert len(results) == len(run_demo.PATTERNS)
    assert "      #4  Vote            alice         proposal_id='p-redis' vote='APPROVE'" in lines


def test_run_demo_script_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "run_demo.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Embedded MACP runtime listening on 127.0.0.1:")
    check_demo_output(lines)
    assert lines[-1] == "All patterns completed."
    assert "plaintext channel" not in proc.stderr  # the demo hides the expected warning


def test_agents_take_the_decision_as_handlers(runtime: LocalRuntime) -> None:
    facts = agents.main(runtime.target, timeout=20.0)

    assert facts["state"] == RESOLVED
    assert facts["reason"] == "majority: p-canary"
    assert facts["ended"] == dict.fromkeys(["alice", "bob", "carol", "coordinator"], "Committed")
    outcomes = facts["agent_outcomes"]
    assert isinstance(outcomes, dict) and set(outcomes) == {"alice", "bob", "carol"}
    assert set(outcomes.values()) <= {"accepted", "too late: session already resolved"}
    assert outcomes["alice"] == outcomes["carol"] == "accepted"  # the two votes that decide
