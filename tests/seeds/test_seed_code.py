"""Every call the seed documents show works against our SDK and the embedded runtime.

The code is read at test time from ../shared/seeds (`seed_code.py`; nothing of it is copied
here) and each block runs in its own process (`tests/dropin/run_example.py`) against its own
embedded runtime on loopback. What a program adds to the seed's text:

- the endpoint (``127.0.0.1:50051`` becomes the runtime's) and the session id: the runtime
  rejects ``"my-session"`` (INVALID_SESSION_ID: ids are UUID v4 or long base64url), so it
  becomes a fresh UUID v4;
- what a fragment uses but does not define: ``client``, ``coordinator_auth``, an open
  ``session`` with a proposal, the ``ask_agent_for_vote`` the seed leaves to the reader, and
  the imports of ``QuorumSession`` / ``TaskSession``; a ``session.commit(...)`` placeholder
  gets real arguments;
- SEED_GAPS: what the seed's code cannot do as written on any MACP runtime, with the
  smallest change that makes it work (the test runs both: the seed as written must fail
  exactly as described, and the amended one must work);
- an epilogue that reports what happened.

Blocks that print events as they arrive are driven step by step: the test reads each line as
it is printed, then causes the next event (another agent's vote, a commitment, a registry
change). The watch blocks would go on until their 60 s timeout, so the test ends them once
the events it caused were printed; the raw-stream block runs to its own end (its
``responses(timeout=10.0)`` loop ends 10 s after it starts), which runs ``stream.close()``.
All programs run in parallel, each with its own runtime.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from macp.v1 import core_pb2
from macp_sdk import AuthConfig, DecisionSession, MacpClient
from macp_sdk.local_runtime import LocalRuntime

from .seed_code import SEEDS, SPECS, blocks, seed_lines

RUNNER = Path(__file__).resolve().parents[1] / "dropin" / "run_example.py"

_CLIENT = """
from macp_sdk import AuthConfig, DecisionSession, MacpClient
coordinator_auth = AuthConfig.for_dev_agent("coordinator")
client = MacpClient(target="127.0.0.1:50051", secure=False, auth=coordinator_auth)
"""

_VOTES_BEFORE_THE_STREAM = (
    _CLIENT
    + """
session = DecisionSession(client, auth=coordinator_auth)
session.start(intent="choose the rollout", participants=["coordinator", "alice", "bob"],
              ttl_ms=60_000)
session.propose("p-canary", "canary")
for _agent in ("alice", "bob"):
    with MacpClient(target="127.0.0.1:50051", secure=False,
                    auth=AuthConfig.for_dev_agent(_agent)) as _c:
        DecisionSession(_c, session_id=session.session_id).vote("p-canary", "approve")
"""
)

_STATE = """
from macp.v1.envelope_pb2 import SessionState
def state(session_id):
    return SessionState.Name(client.get_session(session_id).metadata.state)
"""

_ASK = """
from types import SimpleNamespace
def ask_agent_for_vote(participant, session_id):  # the seed leaves this to the reader
    return SimpleNamespace(proposal_id="p-redis", choice="approve")
"""

_RUN_DECISION = """
result = run_decision(client, "pick a cache", ["orchestrator", "alice", "bob"],
                      [("p-redis", "redis", "fast"), ("p-postgres", "postgres", "durable")])
report(result=result)
"""


Cause = Callable[[str, str], None]  # (runtime target, session id) -> None


@dataclass(frozen=True)
class Step:
    """Wait for a printed line starting with ``prints``, then call ``then`` (if any)."""

    prints: str
    then: Cause | None = None


@dataclass(frozen=True)
class Program:
    name: str
    prelude: str
    epilogue: str
    expected: dict[str, Any] = field(default_factory=dict)
    steps: Sequence[Step] = ()
    runs_to_its_end: bool = True  # False: stopped after its steps (a 60 s watch)
    # A gap: what the seed writes, the smallest change that works, and why. The amended
    # program must give `expected`; the seed as written must end with the error
    # `as_written` (None: it cannot be run here, e.g. it would only time out after 300 s).
    amend: tuple[str, str, str] | None = None
    as_written: str | None = None


def _client(target: str, agent: str) -> MacpClient:
    return MacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent(agent))


def _alice_votes(target: str, session_id: str) -> None:
    with _client(target, "alice") as client:
        DecisionSession(client, session_id=session_id).vote("p1", "approve")


def _coordinator_commits(target: str, session_id: str) -> None:
    with _client(target, "coordinator") as client:
        DecisionSession(client, session_id=session_id).commit(
            action="decision.selected", authority_scope="infra", reason="unanimous"
        )


def _register_ext_mode(target: str, session_id: str) -> None:
    descriptor = core_pb2.ModeDescriptor(
        mode="ext.seeds.echo.v1",
        mode_version="1.0.0",
        title="Echo",
        message_types=["SessionStart", "Echo", "Commitment"],
        terminal_message_types=["Commitment"],
    )
    with _client(target, "admin") as client:
        assert client.register_ext_mode(descriptor).ok


def programs(session_id: str) -> list[Program]:
    return [
        Program(
            "policy-driven-decision",
            _ASK,
            _CLIENT + _RUN_DECISION,
            {"result": {"status": "resolved", "winner": "p-redis"}},
            amend=(
                "session.vote(vote.proposal_id, vote.choice, sender=participant)",
                "session.vote(vote.proposal_id, vote.choice, sender=participant,"
                " auth=AuthConfig.for_dev_agent(participant))",
                # The runtime never trusts Envelope.sender (runtime-behavior.md 1.3): the
                # orchestrator's credential cannot vote as another participant. Each voter
                # needs its own (examples/policy_decision.py); our SDK refuses before
                # sending and says so.
                "a vote needs the voter's own credential",
            ),
            as_written="MacpIdentityMismatchError: sender 'alice' cannot match the"
            " authenticated identity 'orchestrator'",
        ),
        Program(
            "multi-stage-pipeline",
            _CLIENT + "from macp_sdk import QuorumSession, TaskSession\n",
            "deployment_pipeline(client)\n"
            + _STATE
            + "report(sessions=sorted([s.mode, state(s.session_id)]"
            " for s in client.list_sessions()))\n",
            {
                "sessions": [
                    ["macp.mode.decision.v1", "SESSION_STATE_OPEN"],
                    ["macp.mode.quorum.v1", "SESSION_STATE_OPEN"],
                    ["macp.mode.task.v1", "SESSION_STATE_OPEN"],
                ]
            },
        ),
        Program(
            "event-driven",
            _VOTES_BEFORE_THE_STREAM,
            _STATE
            + "stream.close()\n"
            + "report(state=state(session.session_id), winner=proj.majority_winner())\n",
            {"state": "SESSION_STATE_RESOLVED", "winner": "p-canary"},
            amend=(
                "stream = client.open_stream(auth=coordinator_auth)\n",
                "stream = client.open_stream(auth=coordinator_auth)\n"
                "stream.send_subscribe(session.session_id)\n",
                # A StreamSession carries one session's envelopes once bound to it (by its
                # first envelope or a subscribe); the seed's stream sends nothing, so it only
                # times out after 300 s. Subscribing replays the votes already accepted.
                "the stream must be bound to the session",
            ),
        ),
        Program(
            "raw-macp-stream",
            # The session the Vote is for: open, with proposal p1, the coordinator a voter.
            _CLIENT
            + f"_s = DecisionSession(client, session_id={session_id!r})\n"
            + "_s.start(intent='pick', participants=['coordinator', 'alice'], ttl_ms=60_000)\n"
            + "_s.propose('p1', 'redis')\n",
            "report(closed=True)\n",
            {"closed": True},
            steps=[
                Step("Accepted: Vote from coordinator", _alice_votes),
                Step("Got: Vote", _coordinator_commits),
                Step("Got: Commitment"),
            ],
        ),
        Program(
            "session-helpers-stream",
            _CLIENT,
            "report(response=[response.message_type, response.sender])\n",
            {"response": ["Proposal", "coordinator"]},
            amend=(
                'participants=["a", "b"]',
                'participants=["coordinator", "a", "b"]',
                # Decision mode takes a Proposal only from a declared participant; the
                # initiator is not one unless listed (runtime-behavior.md 4.1).
                "the proposer must be a participant",
            ),
            as_written="MacpForbiddenError: Proposal rejected with FORBIDDEN",
        ),
        Program(
            # The runtime sends the registry at once, then one event per change.
            "watch-mode-registry",
            _CLIENT,
            "",
            steps=[Step("Registry changed: ", _register_ext_mode), Step("Registry changed: ")],
            runs_to_its_end=False,
        ),
        Program(
            # The runtime sends the (empty) roots at once; nothing changes them here.
            "watch-roots",
            _CLIENT,
            "",
            steps=[Step("Roots changed: ")],
            runs_to_its_end=False,
        ),
    ]


def program_text(program: Program, code: str, session_id: str) -> str:
    """The program, with ``@TARGET@`` for the runtime's address."""
    code = code.replace('"my-session"', repr(session_id))
    code = code.replace(
        "session.commit(...)",
        'session.commit(action="deploy", authority_scope="deployments", reason="majority")',
    )
    text = program.prelude + code + program.epilogue
    return text.replace("127.0.0.1:50051", "@TARGET@")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONUNBUFFERED"] = "1"  # the steps read each line as it is printed
    return env


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None: stopped by the test after its steps
    facts: dict[str, Any]
    steps_seen: int
    printed: list[str]
    stderr: str


def _await_line(proc: subprocess.Popen[str], prefix: str, printed: list[str]) -> bool:
    """Read printed lines until one starts with ``prefix``; False if the program ended."""
    assert proc.stdout is not None
    while line := proc.stdout.readline():
        printed.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return True
    return False


def _run(program: Program, text: str, path: Path, session_id: str) -> Outcome:
    with LocalRuntime() as runtime:  # one runtime per program: list_sessions sees only its own
        path.write_text(text.replace("@TARGET@", runtime.target), encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, str(RUNNER), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=path.parent,  # holds no project package
            env=_env(),
        )
        printed: list[str] = []
        seen = 0
        try:
            for step in program.steps:
                if not _await_line(proc, step.prints, printed):
                    break  # it ended: the test shows stderr
                seen += 1
                if step.then is not None:
                    step.then(runtime.target, session_id)
            if not program.runs_to_its_end:
                proc.terminate()
            out, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    lines = printed + out.splitlines()
    facts = json.loads(lines.pop()[6:]) if lines and lines[-1].startswith("FACTS ") else {}
    code = proc.returncode if program.runs_to_its_end else None
    return Outcome(code, facts, seen, lines, stderr)


def _jobs(session_id: str) -> list[tuple[str, Program, str]]:
    """(job name, program, text): each program, and each gap's seed as written if runnable."""
    code = blocks()
    jobs = []
    for program in programs(session_id):
        text = program_text(program, code[program.name], session_id)
        if program.amend is None:
            jobs.append((program.name, program, text))
            continue
        written, works, _ = program.amend
        assert written in text, f"the seed no longer writes {written!r}"
        jobs.append((program.name, program, text.replace(written, works)))
        if program.as_written is not None:
            jobs.append((program.name + "/as-written", program, text))
    return jobs


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    work = tmp_path_factory.mktemp("seeds")
    session_id = str(uuid.uuid4())
    jobs = _jobs(session_id)

    def run(job: tuple[str, Program, str]) -> Outcome:
        name, program, text = job
        return _run(program, text, work / (name.replace("/", "-") + ".py"), session_id)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    return {name: outcome for (name, _, _), outcome in zip(jobs, results, strict=True)}


@pytest.mark.parametrize("program", programs("-"), ids=lambda p: p.name)
def test_seed_block_works(program: Program, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[program.name]
    assert outcome.steps_seen == len(program.steps), (outcome.printed, outcome.stderr[-3000:])
    if program.runs_to_its_end:
        assert outcome.returncode == 0, outcome.stderr[-3000:]
        assert outcome.facts == program.expected
    # Nothing logged but the one warning per plaintext client that secure=False asks for.
    noise = [line for line in outcome.stderr.splitlines() if "plaintext channel to " not in line]
    assert noise == []
    if program.name == "raw-macp-stream":  # single-line prints: nothing else was printed
        assert outcome.printed == [step.prints for step in program.steps]


@pytest.mark.parametrize(
    "program",
    [p for p in programs("-") if p.as_written is not None],
    ids=lambda p: p.name,
)
def test_seed_gap_as_written(program: Program, outcomes: dict[str, Outcome]) -> None:
    # The seed as written fails, with the typed error that says why.
    outcome = outcomes[program.name + "/as-written"]
    assert outcome.returncode == 1
    assert program.as_written is not None
    assert (
        outcome.stderr.strip().splitlines()[-1].startswith("macp_core.errors." + program.as_written)
    ), outcome.stderr[-3000:]


def test_every_code_line_of_the_seeds_is_run() -> None:
    # The blocks start at every import, def and statement the seeds show: a line that
    # starts Python code and is in no block would be an untested call.
    covered = "".join(blocks().values())
    starts = ("from ", "import ", "def ", "stream", "session", "client", "for ", "response")
    for seed in sorted({spec.seed for spec in SPECS}):
        for line in seed_lines(seed):
            code = line.strip()
            if code.startswith(starts) and "(" in code:
                # A block's last statement may have prose glued to it on the same line.
                glued = (s.through for s in SPECS if s.through and code.startswith(s.through))
                assert next(glued, code) in covered, f"{SEEDS / seed}: {code!r} is in no block"
