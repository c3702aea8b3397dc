"""Builds 0.22.0's records and drives its proposal and quorum projections; run by each SDK's
own python (this project's, or 0.22.0's venv), so the test compares plain JSON answers.

stdin: {"op": "construct" | "project", ...}; stdout: the answer (see each function).
Bytes travel as {"bytes": "<latin-1 text>"}; a failure as "error:<exception class>".
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import sys
import warnings
from typing import Any

_UNSET = "unset"


def _to_json(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return value["bytes"].encode("latin-1")
    return value


def _attempt(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return _to_json(call(*args, **kwargs))
    except Exception as error:  # the kind of failure is compared, not its text
        return f"error:{type(error).__name__}"


def _deprecated(record: Any, name: str) -> list[Any]:
    """[value, the warning categories it raised] of a deprecated alias."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(record, name)
    return [value, sorted({w.category.__name__ for w in caught})]


def construct(request: dict[str, Any]) -> list[Any]:
    """Each case [module, class, args, kwargs, fields]: the built record's fields, by name."""
    out = []
    for module, name, args, kwargs, fields in request["cases"]:
        cls = getattr(importlib.import_module(module), name)
        try:
            record = cls(*map(_from_json, args), **{k: _from_json(v) for k, v in kwargs.items()})
        except TypeError as error:
            out.append(f"error:{type(error).__name__}")
            continue
        out.append({f: _to_json(getattr(record, f)) for f in fields})
    return out


def _envelopes(mode: str, steps: list[Any]) -> Any:
    from macp.v1 import core_pb2, envelope_pb2

    pb2 = importlib.import_module(f"macp.modes.{mode}.v1.{mode}_pb2")
    ids = itertools.count(1)
    for sender, message_type, fields in steps:
        if message_type == "SessionStart":
            payload: Any = core_pb2.SessionStartPayload(**fields)
        elif message_type == "Commitment":
            payload = core_pb2.CommitmentPayload(**fields)
        else:
            payload = getattr(pb2, f"{message_type}Payload")(**fields)
        yield envelope_pb2.Envelope(
            macp_version="1.0",
            mode=f"macp.mode.{mode}.v1",
            message_type=message_type,
            message_id=f"m-{next(ids)}",
            session_id="s-1",
            sender=sender,
            timestamp_unix_ms=1_700_000_000_000,
            payload=payload.SerializeToString(),
        )


def _proposal_view(projection: Any, module: Any) -> dict[str, Any]:
    fields = ("proposal_id", "title", "summary", "sender", "supersedes", "status", "tags")
    return {
        "proposals": {
            pid: [_to_json(getattr(p, f)) for f in fields]
            + [_deprecated(p, "proposer")[0], isinstance(p, module.ProposalRecord)]
            for pid, p in projection.proposals.items()
        },
        "active": [p.proposal_id for p in projection.active_proposals()],
        "live": list(projection.live_proposals()),
        "latest": getattr(projection.latest_proposal(), "proposal_id", None),
    }


def _quorum_view(projection: Any, request: dict[str, Any]) -> dict[str, Any]:
    fields = ("request_id", "action", "summary", "required_approvals", "sender")
    view: dict[str, Any] = {
        "requests": {
            rid: [getattr(r, f) for f in fields] + [_deprecated(r, "requester")]
            for rid, r in projection.requests.items()
        },
    }
    for rid in request["request_ids"]:
        for threshold in request["thresholds"]:
            kw = {} if threshold == _UNSET else {"effective_threshold": threshold}
            key = f"{rid}/{threshold}"
            view[f"has_quorum {key}"] = _attempt(projection.has_quorum, rid, **kw)
            view[f"threshold {key}"] = _attempt(projection.threshold, rid, **kw)
            view[f"remaining {key}"] = _attempt(
                projection.remaining_votes_needed, request_id=rid, **kw
            )
            view[f"ready {key}"] = _attempt(projection.commitment_ready, rid, **kw)
            for total in request["totals"]:
                unreachable = projection.is_threshold_unreachable
                view[f"unreachable {key}/{total}"] = _attempt(unreachable, rid, total, **kw)
                view[f"unreachable-kw {key}/{total}"] = _attempt(
                    unreachable, request_id=rid, total_eligible=total, **kw
                )
        view[f"counts {rid}"] = [
            projection.approval_count(rid),
            projection.rejection_count(rid),
            projection.abstention_count(rid),
            projection.voted_senders(rid),
        ]
    return view


def project(request: dict[str, Any]) -> list[Any]:
    """The projection's view after each step of request["steps"]."""
    mode = request["mode"]
    module = importlib.import_module(f"macp_sdk.{mode}")
    projection = getattr(module, f"{mode.capitalize()}Projection")()
    views = []
    for envelope in _envelopes(mode, request["steps"]):
        projection.apply_envelope(envelope)
        views.append(
            _proposal_view(projection, module)
            if mode == "proposal"
            else _quorum_view(projection, request)
        )
    return views


OPS = {"construct": construct, "project": project}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(OPS[request["op"]](request), sys.stdout)
