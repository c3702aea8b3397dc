"""Projection hooks are keyed by message type: the scaffold merge and the generated base keep
user code correct when a mode's actions are renamed, added or removed.

- renamed (a method option): the user's `on_bid(self, record: BidRecord)` is still called; no
  stub for the new default name is added;
- added: its hook and record import are merged, the imports stay sorted (ruff I001 clean);
- removed: `generate` stops with a located error naming the lines to delete (exit 2, nothing
  written, so nothing fails at import) and `check` reports the same fix with exit 1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from codegen_helpers import run_cli, tree_fingerprint
from ruff.__main__ import find_ruff_bin

AUCTION = """syntax = "proto3";

package acme.auction.v1;

import "macp/sdk/v1/options.proto";

// A bid on the lot.
message BidPayload {
  string bid_id = 1;
  int64 amount = 2;
}

// A bidder takes a bid back.
message RetractPayload {
  string bid_id = 1;
  string reason = 2;
}
"""

APPLY = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from acme.auction.v1 import auction_pb2
from macp_core.envelope import build_envelope
from macp_sdk.projections.auction import AuctionProjection

projection = AuctionProjection("s1")
envelope = build_envelope(
    mode="ext.auction.v1", message_type="Bid", session_id="s1", sender="ann",
    payload=auction_pb2.BidPayload(bid_id="b1", amount=40),
)
projection.apply_envelope(envelope)
print(json.dumps({"total": projection.total}))
"""


def _generate(project: Path) -> None:
    result = run_cli("generate", "--project-root", str(project))
    assert result.status == 0, result.err


def _total_after_one_bid(output: Path) -> int:
    run = subprocess.run(
        [sys.executable, "-c", APPLY, str(output)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return int(json.loads(run.stdout)["total"])


def test_hooks_survive_renames_additions_and_removals(tmp_path: Path, repo_root: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(repo_root / "proto", project / "proto")
    shutil.copy(repo_root / "pyproject.toml", project / "pyproject.toml")
    proto = project / "proto/acme/auction/v1/auction.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(AUCTION)
    _generate(project)
    output = project / "generated"
    scaffold = output / "macp_sdk/projections/auction.py"
    text = scaffold.read_text()
    # The user's code: a running total kept by the Bid hook.
    text = text.replace(
        "        super().on_bid(record)",
        "        self.total = getattr(self, 'total', 0) + record.amount",
    )
    scaffold.write_text(text)
    assert _total_after_one_bid(output) == 40

    # Renamed: Bid's method becomes place_bid (so its default hook would be on_place_bid).
    proto.write_text(
        AUCTION.replace(
            "message BidPayload {\n",
            'message BidPayload {\n  option (macp.sdk.v1.action) = {method: "place_bid"};\n',
        )
    )
    _generate(project)
    assert scaffold.read_text() == text, "no stub shadows the user's hook"
    assert _total_after_one_bid(output) == 40
    assert run_cli("check", "--project-root", str(project)).status == 0

    # Added: a new action's hook and import are merged, imports stay lint-clean.
    proto.write_text(
        proto.read_text()
        + "\n// The lot is withdrawn.\nmessage WithdrawPayload {\n  string reason = 1;\n}\n"
    )
    _generate(project)
    merged = scaffold.read_text()
    assert "def on_withdraw(self, record: WithdrawRecord)" in merged
    lint = subprocess.run(
        [find_ruff_bin(), "check", "--isolated", "--select", "I,F", str(scaffold)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    assert _total_after_one_bid(output) == 40

    # Removed: Retract goes; its hook and record import would fail at import time.
    proto.write_text(
        proto.read_text().replace(
            "// A bidder takes a bid back.\nmessage RetractPayload {\n  string bid_id = 1;\n"
            "  string reason = 2;\n}\n",
            "",
        )
    )
    before = tree_fingerprint(output)
    failed = run_cli("generate", "--project-root", str(project))
    assert failed.status == 2
    import_line = merged[: merged.index("from ._auction_base import")].count("\n") + 1
    hook_line = merged[: merged.index("def on_retract")].count("\n") + 1
    assert failed.err.startswith(f"{scaffold}:{import_line}:1: error:"), failed.err
    assert "RetractRecord" in failed.err and f"on_retract (line {hook_line})" in failed.err
    assert tree_fingerprint(output) == before
    checked = run_cli("check", "--project-root", str(project))
    assert checked.status == 1
    assert "delete RetractRecord from this import" in checked.out
    assert _total_after_one_bid(output) == 40  # the last good output still imports

    # With the fix applied, generate goes through.
    lines = merged.splitlines(keepends=True)
    end = next(i for i in range(hook_line, len(lines)) if lines[i].startswith("    def "))
    fixed = "".join(lines[: hook_line - 1] + lines[end:]).replace("    RetractRecord,\n", "")
    scaffold.write_text(fixed)
    _generate(project)
    assert _total_after_one_bid(output) == 40
