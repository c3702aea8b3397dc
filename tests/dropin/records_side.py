"""One side of the task/handoff state-record differential test, run as its own process.

stdin: {"scenarios": [{"mode": "task" | "handoff", "envelopes": [base64 Envelope bytes]}],
"classes": ["module:Name", ...]}.
Each scenario's envelopes are applied in order to a fresh projection of whichever `macp_sdk`
runs this script (ours, or 0.22.0's in its own virtual environment). stdout: for each
scenario, after each envelope, every state record as {constructor field: value}, as the
projection keeps it and as its lookup (`get_task` / `get_handoff`) returns it; and each named
class's constructor as [name, kind, repr(default) or null].
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import inspect
import json
import sys
import warnings
from typing import Any


def _value(value: Any) -> Any:
    return {"bytes": value.hex()} if isinstance(value, bytes) else value


def _fields(record: Any) -> dict[str, Any] | None:
    """The record's constructor fields (what 0.22.0's dataclass is built from)."""
    if record is None:
        return None
    out = {f.name: _value(getattr(record, f.name)) for f in dataclasses.fields(record) if f.init}
    if hasattr(type(record), "requester"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            out["requester (deprecated)"] = record.requester
    return out


def _task(projection: Any, people: list[str]) -> dict[str, Any]:
    ids = list(projection.tasks)
    queries: dict[str, Any] = {"phase": projection.phase}
    for name in (
        "current_status",
        "current_assignee",
        "is_accepted",
        "is_completed",
        "is_failed",
        "is_retryable",
        "progress_of",
        "negative_commit_eligible",
    ):
        queries[name] = [getattr(projection, name)(i) for i in ids]
    queries["latest_progress"] = projection.latest_progress()
    queries["active_tasks"] = [t.task_id for t in projection.active_tasks()]
    queries["active_assignment"] = projection.active_assignment
    queries["declined_participants"] = projection.declined_participants()
    queries["has_declined"] = [projection.has_declined(p) for p in people]
    queries["can_accept"] = [projection.can_accept(p) for p in people]
    return {
        "tasks": {k: _fields(v) for k, v in projection.tasks.items()},
        "get_task": {k: _fields(projection.get_task(k)) for k in projection.tasks},
        "rejections": [_fields(r) for r in projection.rejections],
        "queries": queries,
    }


def _handoff(projection: Any, people: list[str]) -> dict[str, Any]:
    ids = list(projection.handoffs)
    queries: dict[str, Any] = {"phase": projection.phase}
    for name in ("is_accepted", "is_declined", "is_implicitly_accepted", "has_accepted_offer"):
        queries[name] = [getattr(projection, name)(i) for i in ids]
    active = projection.active_offer()
    queries["active_offer"] = None if active is None else active.handoff_id
    queries["pending_handoffs"] = [h.handoff_id for h in projection.pending_handoffs()]
    queries["declined_targets"] = projection.declined_targets()
    queries["can_offer_to"] = [projection.can_offer_to(p) for p in people]
    return {
        "handoffs": {k: _fields(v) for k, v in projection.handoffs.items()},
        "get_handoff": {k: _fields(projection.get_handoff(k)) for k in projection.handoffs},
        "queries": queries,
    }


def _constructor(where: str) -> list[list[Any]]:
    module, name = where.split(":")
    signature = inspect.signature(getattr(importlib.import_module(module), name))
    return [
        [p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for p in signature.parameters.values()
    ]


def main() -> None:
    from macp.v1 import envelope_pb2
    from macp_sdk.handoff import HandoffProjection
    from macp_sdk.task import TaskProjection

    request = json.load(sys.stdin)
    out = []
    for scenario in request["scenarios"]:
        task = scenario["mode"] == "task"
        projection = TaskProjection() if task else HandoffProjection()
        steps = []
        for raw in scenario["envelopes"]:
            projection.apply_envelope(envelope_pb2.Envelope.FromString(base64.b64decode(raw)))
            people = scenario.get("people", [])
            steps.append(_task(projection, people) if task else _handoff(projection, people))
        out.append(steps)
    constructors = {where: _constructor(where) for where in request.get("classes", [])}
    json.dump({"scenarios": out, "constructors": constructors}, sys.stdout)


if __name__ == "__main__":
    main()
