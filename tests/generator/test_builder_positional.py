"""Payload builders take their action's positional fields positionally (as the session method
does), keeping the defaults they had as keyword-only parameters where Python allows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from codegen_helpers import run_cli

NOTE_PROTO = """syntax = "proto3";

package acme.notes.v1;

import "macp/sdk/v1/options.proto";

option (macp.sdk.v1.mode) = {id: "ext.notes.v1"};

// Both positional fields have defaults: both keep them.
message NotePayload {
  option (macp.sdk.v1.action) = {positional: ["note_id", "text"]};
  string note_id = 1;
  string text = 2;
  string tag = 3;
}

// A positional field without a default follows one with: the first loses its default.
message RatePayload {
  option (macp.sdk.v1.action) = {positional: ["note_id", "stars"]};
  string note_id = 1;
  int32 stars = 2 [(macp.sdk.v1.field) = {no_default: true}];
  string comment = 3;
}
"""

_CHILD = """
import inspect, json
from macp_sdk.modes.notes import build_note_payload, build_rate_payload
def shape(f):
    return [
        [p.name, p.kind.name, p.default is not inspect.Parameter.empty]
        for p in inspect.signature(f).parameters.values()
    ]
note = build_note_payload("n1", "hello", tag="t")
rate = build_rate_payload("n1", 4, comment="ok")
print(json.dumps({
    "note": shape(build_note_payload),
    "rate": shape(build_rate_payload),
    "empty_note": build_note_payload().SerializeToString().hex(),
    "values": [note.note_id, note.text, note.tag, rate.note_id, rate.stars, rate.comment],
    "keyword_call": build_note_payload(text="hello", note_id="n1", tag="t") == note,
}))
"""


def test_builders_take_positional_fields_and_keep_defaults(scratch_project: Path) -> None:
    proto = scratch_project / "proto/acme/notes/v1/notes.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(NOTE_PROTO, encoding="utf-8")
    run = run_cli("generate", "--project-root", str(scratch_project))
    assert run.status == 0, run.err

    repo = Path(__file__).resolve().parents[2]
    paths = [scratch_project / "generated", repo / "core", repo / "local_runtime"]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, paths))),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["note"] == [
        ["note_id", "POSITIONAL_OR_KEYWORD", True],
        ["text", "POSITIONAL_OR_KEYWORD", True],
        ["tag", "KEYWORD_ONLY", True],
    ]
    assert found["rate"] == [
        ["note_id", "POSITIONAL_OR_KEYWORD", False],
        ["stars", "POSITIONAL_OR_KEYWORD", False],
        ["comment", "KEYWORD_ONLY", True],
    ]
    assert found["empty_note"] == ""  # every default kept: a call with no argument still works
    assert found["values"] == ["n1", "hello", "t", "n1", 4, "ok"]
    assert found["keyword_call"] is True
