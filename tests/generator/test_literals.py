"""Literals reach Python through one escaping function, and round-trip through a generated SDK."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import run_cli
from hypothesis import given
from hypothesis import strategies as st
from macp_codegen.literals import python_literal

# Proto text-format source of each default and the Python value it must become.
DEFAULTS = {
    "quoted": (r"it's \"fine\" '''", "it's \"fine\" '''"),
    "slashes": (r"C:\\temp\\new \\n", "C:\\temp\\new \\n"),
    "lines": (r"one\ntwo\r\n\tthree", "one\ntwo\r\n\tthree"),
    "unicode": (r"naïve café ✓ 日本 \342\200\250 end", "naïve café ✓ 日本 \u2028 end"),
    "brace": ('{x} \\"\\"\\" %s', '{x} """ %s'),
}

FIELDS = "\n".join(
    f'  string {name} = {i} [(macp.sdk.v1.field) = {{default_string: "{source}"}}];'
    for i, (name, (source, _)) in enumerate(DEFAULTS.items(), start=2)
)
QUOTE_PROTO = """syntax = "proto3";

package acme.quote.v1;

import "macp/sdk/v1/options.proto";

option (macp.sdk.v1.mode) = {id: "ext.quote.v1"};

// Defaults that need escaping.
message NotePayload {
  string note_id = 1;
FIELDS
}
""".replace("FIELDS", FIELDS)

_CHILD = """
import json
from macp_sdk.modes.quote import build_note_payload
payload = build_note_payload()
print(json.dumps({name: getattr(payload, name) for name in NAMES}))
"""


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_every_value_round_trips_through_python_literal(value: str | int | float) -> None:
    assert ast.literal_eval(python_literal(value)) == value


def test_a_non_finite_number_has_no_literal() -> None:
    with pytest.raises(ValueError):
        python_literal(float("inf"))


def test_defaults_with_quotes_backslashes_newlines_and_non_ascii_round_trip(
    scratch_project: Path,
) -> None:
    proto = scratch_project / "proto/acme/quote/v1/quote.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(QUOTE_PROTO, encoding="utf-8")
    run = run_cli("generate", "--project-root", str(scratch_project))
    assert run.status == 0, run.err

    repo = Path(__file__).resolve().parents[2]
    paths = [scratch_project / "generated", repo / "core", repo / "local_runtime"]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("NAMES", repr(list(DEFAULTS)))],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, paths))),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values == {name: value for name, (_, value) in DEFAULTS.items()}


def test_field_checks_are_structured_model_data(repo_root: Path, tmp_path: Path) -> None:
    from macp_codegen.config import load_config
    from macp_codegen.model import FieldChecks
    from macp_codegen.project import Project

    config = load_config(repo_root).with_overrides(
        proto_root=repo_root / "tests/golden/widget/proto",
        include=(repo_root / "proto",),
        output=tmp_path / "out",
    )
    (mode,) = Project(config).build().model.modes
    checks = {f.name: f.checks for a in mode.actions for f in a.fields}
    assert checks["colour"] == FieldChecks(allowed=("RED", "BLUE"), normalize="upper")
    assert checks["quantity"] == FieldChecks(minimum=1.0, maximum=10.0)
    assert checks["order_id"] == FieldChecks(required=True)
    assert not checks["tags"].any
