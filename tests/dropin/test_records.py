"""0.22.0's records and the proposal/quorum state they hold, against ours, each SDK in its own
process (record_shapes_side.py): positional and keyword construction puts the same values in the
same fields, and the same envelopes give the same `proposals`, `requests` and threshold facts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from governance.anchor import anchor_python, run_side

from .test_public_api import KNOWN_GAPS, _anchor_surface
from .test_public_api import _run as _run_surface

SIDE = Path(__file__).with_name("record_shapes_side.py")
B = {"bytes": "\x00raw\xff"}


def _run(python: Path | str, request: dict[str, Any]) -> Any:
    return run_side(python, request, SIDE)


def _both(request: dict[str, Any]) -> tuple[Any, Any]:
    return _run(anchor_python(), request), _run(sys.executable, request)


# [module, class, positional args, keyword args, the fields 0.22.0's record has]
_FIELDS = {
    "DecisionProposalRecord": ["proposal_id", "option", "rationale", "sender"],
    "DecisionEvaluationRecord": ["proposal_id", "recommendation", "confidence", "reason", "sender"],
    "DecisionObjectionRecord": ["proposal_id", "reason", "severity", "sender"],
    "DecisionVoteRecord": ["proposal_id", "vote", "reason", "sender"],
    "ProposalAcceptRecord": ["proposal_id", "reason", "sender"],
    "ProposalRejectRecord": ["proposal_id", "reason", "sender", "terminal"],
    "ProposalRecord": [
        "proposal_id",
        "title",
        "summary",
        "sender",
        "supersedes",
        "status",
        "tags",
    ],
    "TaskUpdateRecord": ["task_id", "status", "progress", "message", "sender"],
    "TaskCompleteRecord": ["task_id", "assignee", "summary", "output", "sender"],
    "TaskFailRecord": ["task_id", "assignee", "error_code", "reason", "retryable", "sender"],
    "ApprovalRequestRecord": ["request_id", "action", "summary", "required_approvals", "sender"],
    "BallotRecord": ["request_id", "vote", "reason", "sender"],
}
_VALUES: dict[str, list[Any]] = {
    "DecisionProposalRecord": ["p1", "A", "cheap", "agent://a"],
    "DecisionEvaluationRecord": ["p1", "APPROVE", 0.75, "fine", "agent://b"],
    "DecisionObjectionRecord": ["p1", "risky", "high", "agent://c"],
    "DecisionVoteRecord": ["p1", "REJECT", "no", "agent://d"],
    "ProposalAcceptRecord": ["p1", "ok", "agent://a"],
    "ProposalRejectRecord": ["p1", "too much", "agent://b", True],
    "ProposalRecord": ["p2", "less", "summary", "agent://b", "p1", "rejected", ["t1", "t2"]],
    "TaskUpdateRecord": ["t1", "working", 0.5, "half", "agent://w"],
    "TaskCompleteRecord": ["t1", "agent://w", "done", B, "agent://w"],
    "TaskFailRecord": ["t1", "agent://w", "E42", "broke", True, "agent://w"],
    "ApprovalRequestRecord": ["r1", "deploy", "ship it", 2, "agent://coord"],
    "BallotRecord": ["r1", "approve", "lgtm", "agent://al"],
}
_MODULES = {
    "Decision": ("macp_sdk", "macp_sdk.projections"),
    "Proposal": ("macp_sdk", "macp_sdk.proposal"),
    "Task": ("macp_sdk", "macp_sdk.task"),
    "Approval": ("macp_sdk", "macp_sdk.quorum"),
    "Ballot": ("macp_sdk", "macp_sdk.quorum"),
}


def _cases() -> list[list[Any]]:
    cases: list[list[Any]] = []
    for name, fields in _FIELDS.items():
        values = _VALUES[name]
        modules = next(m for prefix, m in _MODULES.items() if name.startswith(prefix))
        for module in modules:
            cases.append([module, name, values, {}, fields])
            cases.append([module, name, [], dict(zip(fields, values, strict=True)), fields])
            cases.append(
                [module, name, values[:1], dict(zip(fields[1:], values[1:], strict=True)), fields]
            )
    # 0.22.0's task records default `sender` to "".
    for name in ("TaskUpdateRecord", "TaskCompleteRecord", "TaskFailRecord"):
        cases.append(["macp_sdk.task", name, _VALUES[name][:-1], {}, _FIELDS[name]])
    return cases


def test_records_built_as_0_22_built_them_hold_the_same_values() -> None:
    theirs, ours = _both({"op": "construct", "cases": _cases()})
    assert not [c for c in theirs if isinstance(c, str)]  # every case is valid on 0.22.0
    assert ours == theirs


def test_every_0_22_record_takes_its_positional_fields_in_0_22s_order() -> None:
    """From the public-API dumps: for each record class 0.22.0 exports (other than those still
    listed in KNOWN_GAPS), its positional parameters lead ours in the same order, and ours
    requires nothing 0.22.0 let callers leave out."""
    theirs = _anchor_surface()
    names = {module: list(side["names"]) for module, side in theirs.items()}
    ours = _run_surface(sys.executable, {"names": names})
    known = {key for keys in KNOWN_GAPS.values() for key in keys}
    checked = 0
    for module, side in theirs.items():
        for name, description in side["names"].items():
            if not name.endswith("Record") or description["kind"] != "class":
                continue
            if f"{module}:{name}" in known or description["params"] is None:
                continue
            mine = ours[module]["names"][name]["params"]
            assert [p[0] for p in mine[: len(description["params"])]] == [
                p[0] for p in description["params"]
            ], f"{module}:{name}"
            optional = {p[0] for p in description["params"] if p[2]}
            assert not [p for p in mine if p[0] in optional and not p[2]], f"{module}:{name}"
            assert all(p[2] for p in mine[len(description["params"]) :]), f"{module}:{name}"
            checked += 1
    assert checked >= 20


SELLER, BUYER, BROKER = "agent://seller", "agent://buyer", "agent://broker"
START = {"intent": "deal", "participants": [SELLER, BUYER, BROKER], "ttl_ms": 60_000}
PROPOSAL_STEPS: list[list[Any]] = [
    [BUYER, "SessionStart", START],
    [SELLER, "Proposal", {"proposal_id": "p1", "title": "offer", "summary": "s", "tags": ["a"]}],
    [
        BUYER,
        "CounterProposal",
        {"proposal_id": "p2", "supersedes_proposal_id": "p1", "title": "less", "summary": "x"},
    ],
    [SELLER, "Accept", {"proposal_id": "p2", "reason": "fine"}],
    [BROKER, "Reject", {"proposal_id": "p1", "reason": "meh"}],  # not terminal: stays open
    [SELLER, "Proposal", {"proposal_id": "p3", "title": "third"}],
    [SELLER, "Withdraw", {"proposal_id": "p1", "reason": "gone"}],
    [BROKER, "Reject", {"proposal_id": "p3", "terminal": True, "reason": "no"}],
]


def test_proposal_projection_state_matches_0_22() -> None:
    """`proposals` values are ProposalRecords with 0.22.0's fields, and `status` moves alike."""
    theirs, ours = _both({"op": "project", "mode": "proposal", "steps": PROPOSAL_STEPS})
    assert ours == theirs
    last = ours[-1]["proposals"]
    assert [p[5] for p in last.values()] == ["withdrawn", "open", "rejected"]
    assert all(p[-1] for p in last.values())  # instances of macp_sdk.proposal.ProposalRecord
    assert ours[-1]["active"] == ["p2"] and ours[-1]["live"] == ["p2", "p3"]


VOTERS = ["agent://al", "agent://bo", "agent://ca", "agent://di"]
QUORUM_STEPS: list[list[Any]] = [
    ["agent://coord", "SessionStart", {"intent": "ship?", "participants": VOTERS, "ttl_ms": 1}],
    [
        "agent://coord",
        "ApprovalRequest",
        {"request_id": "r1", "action": "ship", "summary": "v2", "required_approvals": 3},
    ],
    ["agent://al", "Approve", {"request_id": "r1", "reason": "ok"}],
    ["agent://bo", "Reject", {"request_id": "r1"}],
    ["agent://al", "Reject", {"request_id": "r1"}],  # a second ballot: the first stands
    ["agent://ca", "Approve", {"request_id": "r1"}],
    ["agent://di", "Abstain", {"request_id": "r1"}],
    [
        "agent://coord",
        "Commitment",
        {"commitment_id": "c1", "action": "quorum.approved", "reason": "r", "authority_scope": "s"},
    ],
]


@pytest.mark.parametrize("upto", [1, len(QUORUM_STEPS)], ids=["before-request", "whole"])
def test_quorum_projection_queries_match_0_22(upto: int) -> None:
    """Every threshold query with 0.22.0's arguments (unset, None = unsatisfiable, counts)
    for the request and an unknown id, after each step; and the request record."""
    request = {
        "op": "project",
        "mode": "quorum",
        "steps": QUORUM_STEPS[:upto],
        "request_ids": ["r1", "r9"],
        "thresholds": ["unset", None, 0, 1, 2, 3, 5],
        "totals": [4, 5, 9],
    }
    theirs, ours = _both(request)
    assert ours == theirs
    if upto > 1:
        requests = ours[-1]["requests"]
        assert requests["r1"][:5] == ["r1", "ship", "v2", 3, "agent://coord"]
        assert requests["r1"][5] == ["agent://coord", ["DeprecationWarning"]]  # .requester
