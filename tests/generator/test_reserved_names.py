"""Names the generated code relies on, and inputs the runtime would refuse: each is a located
error (file:line:column, what to change), exit 2, with the output left untouched."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint

DECISION = "proto/macp/modes/decision/v1/decision.proto"
VOTE_END = '    allowed: ["APPROVE", "REJECT", "ABSTAIN"]'


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _insert_message(project: Path, message: str) -> tuple[Path, int]:
    path = project / DECISION
    text = path.read_text()
    anchor = "// One participant's vote"
    text = text.replace(anchor, f"{message}\n\n{anchor}", 1)
    path.write_text(text)
    return path, _line_of(text, message)


def _field_named(name: str) -> Callable[[Path], tuple[Path, int]]:
    def make(project: Path) -> tuple[Path, int]:
        path, line = _insert_message(project, f"message TallyPayload {{\n  string {name} = 1;\n}}")
        return path, line + 1

    return make


def _payload_named(name: str) -> Callable[[Path], tuple[Path, int]]:
    def make(project: Path) -> tuple[Path, int]:
        return _insert_message(project, f"message {name} {{\n  string note = 1;\n}}")

    return make


def _mode_option_line(path: Path) -> int:
    return _line_of(path.read_text(), "option (macp.sdk.v1.mode)")


def terminal_close(project: Path) -> tuple[Path, int]:
    path = project / DECISION
    path.write_text(
        path.read_text().replace(
            'terminal_message_types: "Commitment"', 'terminal_message_types: "Vote"'
        )
    )
    return path, _mode_option_line(path)


def reserved_extension_id(project: Path) -> tuple[Path, int]:
    path = project / DECISION
    text = path.read_text().replace(
        "registry_position: 1\n", "registry_position: 1\n  standard: false\n"
    )
    path.write_text(text)
    return path, _mode_option_line(path)


def no_payloads(project: Path) -> tuple[Path, int]:
    path = project / "proto/acme/empty/v1/empty.proto"
    path.parent.mkdir(parents=True)
    path.write_text(
        'syntax = "proto3";\n\npackage acme.empty.v1;\n\nimport "macp/sdk/v1/options.proto";\n\n'
        'option (macp.sdk.v1.mode) = {\n  title: "Empty"\n};\n\n'
        "message Note {\n  string x = 1;\n}\n"
    )
    return path, 7


def bindings_not_a_name(project: Path) -> tuple[Path, int]:
    path = project / "pyproject.toml"
    text = path.read_text().replace("[tool.macp-codegen]", "[tool.macp-codegen]\nbindings = 5")
    path.write_text(text)
    return path, _line_of(text, "bindings = 5")


CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "field named self": (_field_named("self"), "'self', a name the generated code relies on"),
    "field named payload": (_field_named("payload"), "'payload', a name the generated code"),
    # Bound field checks are module-level `_check_<field>` names the builders call.
    "field named _check_vote": (_field_named("_check_vote"), "'_check_vote', a name the"),
    "SessionStartPayload": (_payload_named("SessionStartPayload"), "core protocol already"),
    "CommitmentPayload": (_payload_named("CommitmentPayload"), "core protocol already"),
    "terminal type other than Commitment": (terminal_close, "ends sessions only on 'Commitment'"),
    "extension mode with a macp.mode id": (reserved_extension_id, "reserves macp.mode"),
    "mode with no payloads": (no_payloads, "defines no payload messages"),
    "bindings = 5": (bindings_not_a_name, "bindings must be a package name"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_but_broken_input_is_a_located_error(scratch_project: Path, case: str) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    make_bad, expected = CASES[case]
    bad_file, bad_line = make_bad(scratch_project)

    result = run_cli("generate", "--project-root", str(scratch_project))

    assert result.status == 2, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", lines[0])
    assert match, lines[0]
    assert Path(match["file"]).resolve() == bad_file.resolve()
    assert int(match["line"]) == bad_line
    assert re.search(re.escape(expected), match["msg"]), match["msg"]
    assert "(" in match["msg"], "the message says what to change"
    assert tree_fingerprint(output) == before
