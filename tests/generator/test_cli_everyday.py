"""Everyday use of the CLI: `describe` (tree and JSON), `--verbose` / `--quiet`, the one
summary line per run, and configuration errors located at the key's line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from codegen_helpers import run_cli
from macp_codegen.cli import main
from macp_codegen.describe import FORMATS, SCHEMA_VERSION

SUMMARY = re.compile(
    r"^macp-codegen: (\d+) modes?, (\d+) written, (\d+) unchanged, (\d+) removed in (\S+) "
    r"\(\d+\.\d\d s\)$"
)


def test_generate_ends_with_one_summary_line(scratch_project: Path) -> None:
    first = run_cli("generate", "--project-root", str(scratch_project))
    assert first.status == 0, first.err
    lines = first.out.splitlines()
    # Notes may come first; without --verbose no per-file lines, and one summary at the end.
    assert not any(line.startswith("wrote") for line in lines)
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    modes, written, unchanged, removed, where = match.groups()
    assert int(modes) == 6 and int(written) > 100 and int(unchanged) == 0
    assert int(removed) == 0 and where == "generated"

    again = run_cli("generate", "--project-root", str(scratch_project))
    match = SUMMARY.match(again.out.splitlines()[-1])
    assert match and match.group(2) == "0" and match.group(3) == written


def test_verbose_lists_files_and_quiet_prints_nothing(scratch_project: Path) -> None:
    verbose = run_cli("generate", "--verbose", "--project-root", str(scratch_project))
    assert verbose.status == 0, verbose.err
    wrote = [line for line in verbose.out.splitlines() if line.startswith("wrote    ")]
    assert "wrote    macp_sdk/modes/decision.py" in wrote
    assert "wrote    docs/modes/decision.md" in wrote
    assert SUMMARY.match(verbose.out.splitlines()[-1])
    (scratch_project / "generated" / "macp_sdk" / "modes" / "task.py").unlink()
    quiet = run_cli("generate", "-q", "--project-root", str(scratch_project))
    assert quiet.status == 0 and quiet.out == "" and quiet.err == ""
    assert (scratch_project / "generated" / "macp_sdk" / "modes" / "task.py").is_file()
    check = run_cli("check", "--quiet", "--project-root", str(scratch_project))
    assert check.status == 0 and check.out == ""


def test_quiet_and_verbose_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "-q", "-v"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_describe_tree_shows_modes_actions_fields_and_options(repo_root: Path) -> None:
    run = run_cli("describe", "--project-root", str(repo_root))
    assert run.status == 0, run.err
    out = run.out
    assert "macp.mode.decision.v1  (standard, " in out
    assert "Vote  →  vote(proposal_id, vote, *, reason)" in out
    assert "vote: VoteValue  [vote]  required, no_default, allowed APPROVE|REJECT|ABSTAIN" in out
    assert "normalize upper" in out and "terminal Commitment" in out
    assert "participant model declared" in out
    verbose = run_cli("describe", "-v", "--project-root", str(repo_root))
    assert "decision.proto:" in verbose.out.split("Vote  →")[1].split("\n")[1]


def test_describe_json_is_the_model(repo_root: Path) -> None:
    run = run_cli("describe", "--format", "json", "--project-root", str(repo_root))
    assert run.status == 0, run.err
    data = json.loads(run.out)
    assert data["schema_version"] == SCHEMA_VERSION
    modes = {m["id"]: m for m in data["modes"]}
    decision = modes["macp.mode.decision.v1"]
    assert decision["kind"] == "standard" and decision["session_class"] == "DecisionSession"
    vote = next(a for a in decision["actions"] if a["message_type"] == "Vote")
    assert vote["method"] == "vote" and vote["positional"] == ["proposal_id", "vote"]
    field = next(f for f in vote["fields"] if f["name"] == "vote")
    assert field["allowed"] == ["APPROVE", "REJECT", "ABSTAIN"] and field["normalize"] == "upper"
    assert modes["ext.multi_round.v1"]["kind"] == "extension"
    assert any(m["method"] == "list_modes" for m in data["service"]["client_methods"])
    assert set(FORMATS) == {"tree", "json"}


CONFIG = """[project]
name = "demo"

[tool.macp-codegen]
proto_root = "proto"
{line}

[tool.other]
bindings = 5
"""


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("  outptu = 'gen'", 3, "unknown key(s) in [tool.macp-codegen]: outptu"),
        ("output = 7", 1, "output must be a string path, not an integer"),
        ('include = "extra"', 1, "include must be a list of paths"),
        ("bindings = 5", 1, "bindings must be a package name, not an integer"),
        ("templates = ['a']", 1, "templates must be a string path, not an array"),
    ],
)
def test_configuration_errors_name_file_key_and_line(
    tmp_path: Path, line: str, column: int, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG.format(line=line))
    run = run_cli("generate", "--project-root", str(tmp_path))
    assert run.status == 2
    assert run.err.startswith(f"{tmp_path / 'pyproject.toml'}:6:{column}: error: "), run.err
    assert expected in run.err
    assert not (tmp_path / "generated").exists()


def test_configuration_error_in_a_quoted_table_header(tmp_path: Path) -> None:
    text = '[tool."macp-codegen"]\n\n"output" = false\n'
    (tmp_path / "pyproject.toml").write_text(text)
    run = run_cli("check", "--project-root", str(tmp_path))
    assert run.status == 2
    assert run.err.startswith(f"{tmp_path / 'pyproject.toml'}:3:1: error: "), run.err
    assert "not a boolean" in run.err
