"""`ProtoRegistry` against 0.22.0's, each SDK in its own process: the same dicts encode to the
same bytes and decode to the same dicts, and legacy JSON Contribute payloads read alike."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from governance.anchor import VENV, anchor_python

SIDE = Path(__file__).with_name("registry_side.py")
DECISION, TASK = "macp.mode.decision.v1", "macp.mode.task.v1"
CASES = [
    [DECISION, "Proposal", {"proposal_id": "p1", "option": "vendor A", "rationale": "cheap"}],
    [DECISION, "Vote", {"proposal_id": "p1", "vote": "APPROVE", "reason": "ok ✓"}],
    [DECISION, "Evaluation", {"proposal_id": "p1", "recommendation": "REVIEW", "confidence": 0.25}],
    [TASK, "TaskRequest", {"task_id": "t1", "title": "t", "deadline_unix_ms": "42"}],
    ["macp.mode.quorum.v1", "ApprovalRequest", {"request_id": "r", "required_approvals": 2}],
    ["macp.mode.handoff.v1", "HandoffOffer", {"handoff_id": "h", "target_participant": "b"}],
    ["ext.multi_round.v1", "Contribute", {"value": "42"}],
    ["macp.mode.proposal.v1", "Commitment", {"commitment_id": "c", "outcome_positive": True}],
    [DECISION, "SessionStart", {"intent": "i", "participants": ["a", "b"], "ttl_ms": "1000"}],
    [DECISION, "NoSuchType", {"x": 1}],
]
RAW = [
    ["ext.multi_round.v1", "Contribute", base64.b64encode(b'{"value": "legacy"}').decode()],
    ["ext.unknown.v1", "Thing", base64.b64encode(b'{"any": [1, 2]}').decode()],
    ["ext.unknown.v1", "Thing", base64.b64encode(b"not json").decode()],
]


def _run(python: Path | str) -> Any:
    done = subprocess.run(
        [str(python), str(SIDE)],
        input=json.dumps({"cases": CASES, "raw": RAW}),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=VENV.parent,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_proto_registry_matches_0_22() -> None:
    theirs, ours = _run(anchor_python()), _run(sys.executable)
    assert ours == theirs
    assert ours["encoded"][-1] == "error:ValueError"  # an unknown pair is refused alike
    assert ours["raw"][0] == {"encoding": "json", "json": {"value": "legacy"}}


def test_undecodable_bytes_of_an_unknown_pair_give_none() -> None:
    """0.22.0 raised UnicodeDecodeError here (docs/compat.md); "nothing fits" is None."""
    from macp_sdk.proto_registry import ProtoRegistry

    assert ProtoRegistry().decode_known_payload("ext.unknown.v1", "Thing", b"\xff\x00") is None
