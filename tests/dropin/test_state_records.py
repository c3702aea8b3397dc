"""Task and handoff state records against macp-sdk-python 0.22.0's, on the same envelopes.

Each scenario is a session the embedded runtime accepts: its envelopes are first sent to a
real runtime on loopback (every one must be acknowledged), then the same bytes are applied by
our SDK and by 0.22.0 (in its own virtual environment, tests/governance/anchor.py), each side
in its own process (records_side.py). After every envelope, every TaskRecord,
TaskRejectRecord and HandoffRecord, as the projection keeps it and as its lookup returns it,
must match field by field; 0.22.0's queries must answer the same, but for the differences
listed in QUERY_DIFFERENCES (and docs/compat.md).

The one envelope not sent first is the runtime's own implicit HandoffAccept (RFC-MACP-0010
§5.1: sender = target, message_id ``implicit-accept:<handoff_id>``, ``implicit=true``), which
a runtime emits and a client may not send.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from governance.anchor import anchor_python, run_side
from macp.v1 import envelope_pb2
from macp_sdk import AuthConfig, MacpClient, TaskAssignmentRules, build_task_policy
from macp_sdk.local_runtime import LocalRuntime
from projections.envelopes import HANDOFF, TASK, Feed

SIDE = Path(__file__).with_name("records_side.py")
REASSIGN = "p.reassign"  # a task policy that lets the assignee hand the task back
LEAD, WORKER, OTHER = "lead", "worker", "other"
OWNER, T1, T2 = "owner", "t1", "t2"
IMPLICIT = "implicit"  # marks the runtime's own implicit accept (never sent by a client)


@dataclass
class Scenario:
    name: str
    mode: str
    initiator: str
    participants: list[str]
    steps: list[tuple[str, str, dict[str, Any]]]
    policy: str = ""
    envelopes: list[envelope_pb2.Envelope] = field(default_factory=list)


def _request(**fields: Any) -> tuple[str, str, dict[str, Any]]:
    base = {"task_id": "t-1", "title": "Build", "instructions": "do it", "deadline_unix_ms": 0}
    return (LEAD, "TaskRequest", base | fields)


T = "t-1"
SCENARIOS = [
    Scenario(
        "task completed",
        TASK,
        LEAD,
        [LEAD, WORKER, OTHER],
        [
            _request(requested_assignee=WORKER, deadline_unix_ms=1_900_000_000_000, input=b"in"),
            (WORKER, "TaskAccept", {"task_id": T, "assignee": WORKER, "reason": "mine"}),
            (WORKER, "TaskUpdate", {"task_id": T, "status": "busy", "progress": 0.3}),
            (WORKER, "TaskUpdate", {"task_id": T, "status": "", "progress": 0.7}),
            (WORKER, "TaskComplete", {"task_id": T, "output": b"out", "summary": "done"}),
        ],
    ),
    Scenario(
        "task failed",
        TASK,
        LEAD,
        [WORKER, OTHER],  # the initiator need not be a participant
        [
            _request(),
            (OTHER, "TaskAccept", {"task_id": T}),
            (OTHER, "TaskUpdate", {"task_id": T, "progress": 0.5, "message": "half"}),
            (OTHER, "TaskFail", {"task_id": T, "error_code": "E1", "retryable": True}),
        ],
    ),
    Scenario(
        "task failed before any update",
        TASK,
        LEAD,
        [LEAD, WORKER],
        [
            _request(requested_assignee=WORKER),
            (WORKER, "TaskAccept", {"task_id": T}),
            (WORKER, "TaskFail", {"task_id": T, "assignee": WORKER, "error_code": "E2"}),
        ],
    ),
    Scenario(
        "task declined by everyone before assignment",
        TASK,
        LEAD,
        [LEAD, WORKER, OTHER],
        [
            _request(),
            (OTHER, "TaskReject", {"task_id": T, "assignee": OTHER, "reason": "busy"}),
            (WORKER, "TaskReject", {"task_id": T, "reason": "no"}),
        ],
    ),
    Scenario(
        "task handed back and taken by another",
        TASK,
        LEAD,
        [LEAD, WORKER, OTHER],
        [
            _request(),
            (WORKER, "TaskAccept", {"task_id": T}),
            (WORKER, "TaskUpdate", {"task_id": T, "progress": 0.4}),
            (WORKER, "TaskReject", {"task_id": T, "reason": "stuck"}),
            (OTHER, "TaskAccept", {"task_id": T, "assignee": OTHER}),
            (OTHER, "TaskUpdate", {"task_id": T, "progress": 0.9}),
            (OTHER, "TaskComplete", {"task_id": T, "summary": "ok"}),
        ],
        policy=REASSIGN,
    ),
    Scenario(
        "task declined, accepted, completed, then given back",
        TASK,
        LEAD,
        [LEAD, WORKER, OTHER],
        [
            _request(),
            (OTHER, "TaskReject", {"task_id": T, "reason": "not me"}),
            (WORKER, "TaskAccept", {"task_id": T}),
            (WORKER, "TaskComplete", {"task_id": T, "assignee": WORKER}),
            (WORKER, "TaskReject", {"task_id": T, "assignee": WORKER, "reason": "undo"}),
        ],
        policy=REASSIGN,
    ),
    Scenario(
        "task handed back by the requested assignee",
        TASK,
        LEAD,
        [LEAD, WORKER, OTHER],
        [
            _request(requested_assignee=WORKER),
            (WORKER, "TaskAccept", {"task_id": T}),
            (WORKER, "TaskUpdate", {"task_id": T, "progress": 0.2}),
            (WORKER, "TaskReject", {"task_id": T, "reason": "cannot"}),
        ],
        policy=REASSIGN,
    ),
    Scenario(
        "handoff accepted, then late context",
        HANDOFF,
        OWNER,
        [OWNER, T1, T2],
        [
            (OWNER, "HandoffOffer", {"handoff_id": "h1", "target_participant": T1, "scope": "s"}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "text/plain"}),
            (T1, "HandoffAccept", {"handoff_id": "h1", "accepted_by": T1, "reason": "ok"}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "application/json"}),
        ],
    ),
    Scenario(
        "handoff declined, offered to another, accepted without accepted_by",
        HANDOFF,
        OWNER,
        [OWNER, T1, T2],
        [
            (OWNER, "HandoffOffer", {"handoff_id": "h1", "target_participant": T1}),
            (T1, "HandoffDecline", {"handoff_id": "h1", "reason": "no"}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "text/late"}),
            (OWNER, "HandoffOffer", {"handoff_id": "h2", "target_participant": T2, "reason": "r"}),
            (OWNER, "HandoffContext", {"handoff_id": "h2", "content_type": "a/b", "context": b"c"}),
            (T2, "HandoffAccept", {"handoff_id": "h2"}),
        ],
    ),
    Scenario(
        "handoff declined by name, second offer pending with context",
        HANDOFF,
        OWNER,
        [OWNER, T1, T2],
        [
            (OWNER, "HandoffOffer", {"handoff_id": "h1", "target_participant": T1}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "x/1"}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "x/2"}),
            (T1, "HandoffDecline", {"handoff_id": "h1", "declined_by": T1}),
            (OWNER, "HandoffOffer", {"handoff_id": "h2", "target_participant": T2}),
            (OWNER, "HandoffContext", {"handoff_id": "h2", "content_type": "x/3"}),
        ],
    ),
    Scenario(
        "handoff accepted implicitly by the runtime",
        HANDOFF,
        OWNER,
        [OWNER, T1, T2],
        [
            (OWNER, "HandoffOffer", {"handoff_id": "h1", "target_participant": T2}),
            (OWNER, "HandoffContext", {"handoff_id": "h1", "content_type": "text/plain"}),
            (IMPLICIT, "HandoffAccept", {"handoff_id": "h1", "accepted_by": T2, "implicit": True}),
        ],
    ),
]


def _envelopes(scenario: Scenario) -> list[envelope_pb2.Envelope]:
    feed = Feed(scenario.mode, session_id=str(uuid.uuid4()))
    out = [feed.start(scenario.initiator, scenario.participants, policy_version=scenario.policy)]
    for sender, message_type, fields in scenario.steps:
        if sender == IMPLICIT:
            target = fields["accepted_by"]
            message_id = f"implicit-accept:{fields['handoff_id']}"
            payload = feed.send(target, message_type, **fields).payload
            out.append(feed.envelope(target, message_type, payload, message_id=message_id))
        else:
            out.append(feed.send(sender, message_type, **fields))
    return out


@pytest.fixture(scope="module")
def accepted() -> Iterator[list[Scenario]]:
    """The scenarios, each envelope acknowledged by the embedded runtime (implicit aside)."""
    with (
        LocalRuntime() as runtime,
        MacpClient(target=runtime.target, secure=False, default_timeout=10) as client,
    ):
        policy = TaskAssignmentRules(allow_reassignment_on_reject=True)
        client.register_policy(
            build_task_policy(REASSIGN, "reassign", assignment=policy),
            auth=AuthConfig.for_dev_agent(LEAD),
        )
        for scenario in SCENARIOS:
            scenario.envelopes = _envelopes(scenario)
            for envelope in scenario.envelopes:
                if envelope.message_id.startswith("implicit-accept:"):
                    continue
                ack = client.send(envelope, auth=AuthConfig.for_dev_agent(envelope.sender))
                assert ack.ok and not ack.duplicate, (scenario.name, envelope.message_type)
        yield SCENARIOS


def _encoded(envelope: envelope_pb2.Envelope) -> str:
    return base64.b64encode(envelope.SerializeToString()).decode()


# 0.22.0's state records at each of its paths: the constructors must be the same.
CLASSES = [
    f"{module}:{name}"
    for module, names in (
        ("macp_sdk", ("TaskRecord", "TaskRejectRecord", "HandoffRecord", "TaskRequestRecord")),
        ("macp_sdk.task", ("TaskRecord", "TaskRejectRecord", "TaskRequestRecord")),
        ("macp_sdk.handoff", ("HandoffRecord",)),
    )
    for name in names
]


def _run(python: Path | str, scenarios: list[Scenario]) -> Any:
    request = {
        "classes": CLASSES,
        "scenarios": [
            {
                "mode": "task" if s.mode == TASK else "handoff",
                "envelopes": list(map(_encoded, s.envelopes)),
            }
            for s in scenarios
        ],
    }
    return run_side(python, request, SIDE)


@pytest.fixture(scope="module")
def runs(accepted: list[Scenario]) -> tuple[Any, Any]:
    """(0.22.0's answer, ours)."""
    return _run(anchor_python(), accepted), _run(sys.executable, accepted)


@pytest.fixture(scope="module")
def both_sides(runs: tuple[Any, Any]) -> list[tuple[str, Any, Any]]:
    theirs, ours = (run["scenarios"] for run in runs)
    return [(s.name, t, o) for s, t, o in zip(SCENARIOS, theirs, ours, strict=True)]


def test_constructors_match_0_22(runs: tuple[Any, Any]) -> None:
    """Names, order, kinds and default values of each record's constructor, at each path."""
    theirs, ours = (run["constructors"] for run in runs)
    assert sorted(theirs) == sorted(CLASSES)
    assert ours == theirs


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=[s.name for s in SCENARIOS])
def test_state_records_match_0_22(both_sides: list[tuple[str, Any, Any]], index: int) -> None:
    name, theirs, ours = both_sides[index]
    assert len(ours) == len(theirs) == len(SCENARIOS[index].envelopes)
    for step, (mine, anchor) in enumerate(zip(ours, theirs, strict=True)):
        records = {k: v for k, v in mine.items() if k != "queries"}
        expected = {k: v for k, v in anchor.items() if k != "queries"}
        assert records == expected, (name, step, SCENARIOS[index].envelopes[step].message_type)


# 0.22.0's projection queries that answer differently here on purpose (docs/compat.md). The
# records above are 0.22.0's in every case; these queries answer from the runtime's state.
QUERY_DIFFERENCES = {
    "phase": "a hand-back returns the phase to Requested (0.22.0 stayed InProgress)",
}


def test_queries_match_0_22_but_for_the_listed_differences(
    both_sides: list[tuple[str, Any, Any]],
) -> None:
    differing: dict[str, list[str]] = {}
    for name, theirs, ours in both_sides:
        for step, (mine, anchor) in enumerate(zip(ours, theirs, strict=True)):
            assert set(mine["queries"]) == set(anchor["queries"])
            for query, value in anchor["queries"].items():
                if mine["queries"][query] != value:
                    differing.setdefault(query, []).append(
                        f"{name} #{step}: 0.22.0 {value!r}, ours {mine['queries'][query]!r}"
                    )
    unexpected = {q: where for q, where in differing.items() if q not in QUERY_DIFFERENCES}
    assert not unexpected, json.dumps(unexpected, indent=1)
    assert sorted(differing) == sorted(QUERY_DIFFERENCES), "a listed difference is gone"


def _records(both_sides: list[tuple[str, Any, Any]], key: str) -> list[dict[str, Any]]:
    """Every record 0.22.0 reported under ``key`` at any step of any scenario."""
    out = []
    for _, theirs, _ in both_sides:
        for state in theirs:
            found = state.get(key, {})
            out += list(found.values()) if isinstance(found, dict) else found
    return out


def test_the_scenarios_reach_every_status(both_sides: list[tuple[str, Any, Any]]) -> None:
    """The comparison is not vacuous: it covers every status 0.22.0 reports, hand-backs and
    declines, payload-less settlements and an implicit accept."""
    tasks = _records(both_sides, "tasks")
    assert {r["status"] for r in tasks} == {
        "requested",
        "accepted",
        "in_progress",
        "completed",
        "failed",
        "rejected",
    }
    assert {r["while_assigned"] for r in _records(both_sides, "rejections")} == {True, False}
    offers = _records(both_sides, "handoffs")
    assert {r["status"] for r in offers} == {"offered", "context_sent", "accepted", "declined"}
    assert any(r["implicit"] for r in offers)
    assert "" in {r["accepted_by"] for r in offers} and "" in {r["declined_by"] for r in offers}


def test_each_path_names_the_class_the_projection_keeps(accepted: list[Scenario]) -> None:
    import macp_sdk
    import macp_sdk.handoff
    import macp_sdk.projections
    import macp_sdk.task
    from macp_sdk.projections.handoff import HandoffProjection
    from macp_sdk.projections.task import TaskProjection

    task, handoff = TaskProjection(), HandoffProjection()
    by_name = {s.name: s.envelopes for s in accepted}
    task.apply_all(by_name["task declined, accepted, completed, then given back"])
    handoff.apply_all(by_name["handoff accepted, then late context"])
    kinds = {
        "TaskRecord": type(task.tasks["t-1"]),
        "TaskRejectRecord": type(task.rejections[0]),
        "HandoffRecord": type(handoff.handoffs["h1"]),
    }
    for module in (macp_sdk, macp_sdk.task, macp_sdk.handoff, macp_sdk.projections):
        for name, kind in kinds.items():
            if name in module.__all__:
                assert getattr(module, name) is kind, (module.__name__, name)
    assert macp_sdk.TaskRequestRecord is macp_sdk.TaskRecord  # 0.22.0's deprecated alias
