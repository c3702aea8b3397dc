"""Bad input: one line naming file:line:column and what to change, exit 2, output untouched."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint

DECISION = "proto/macp/modes/decision/v1/decision.proto"


def _edit(project: Path, relative: str, old: str, new: str) -> tuple[Path, int]:
    """Replaces `old` by `new` once; returns the file and the 1-based line where `new` starts."""
    path = project / relative
    text = path.read_text()
    assert old in text, f"fixture text not found in {relative}: {old!r}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return path, text[: text.index(new)].count("\n") + 1


def syntax_error(project: Path) -> tuple[Path, int]:
    path, line = _edit(project, DECISION, "  string reason = 3;\n}", "  string reason = 3\n}")
    return path, line + 1  # protoc reports the token after the missing ';'


def unknown_enum_option_value(project: Path) -> tuple[Path, int]:
    path, _ = _edit(project, DECISION, "normalize: CASE_LOWER", "normalize: CASE_SIDEWAYS")
    text = path.read_text()
    # protoc places option-value errors at the start of the option, i.e. the field line.
    return path, text[: text.index("string severity = 3")].count("\n") + 1


def unknown_option_value(project: Path) -> tuple[Path, int]:
    path, _ = _edit(project, DECISION, '"semantic-deterministic"', '"chaotic"')
    text = path.read_text()
    return path, text[: text.index("option (macp.sdk.v1.mode)")].count("\n") + 1


def keyword_field(project: Path) -> tuple[Path, int]:
    path, line = _edit(
        project, DECISION, "  string reason = 3;\n}", "  string reason = 3;\n  string from = 4;\n}"
    )
    return path, line + 1


def unresolved_import(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        DECISION,
        'import "macp/sdk/v1/options.proto";',
        'import "macp/sdk/v1/nowhere.proto";',
    )


def duplicate_mode_names(project: Path) -> tuple[Path, int]:
    source = project / DECISION
    copy = project / "proto/macp/modes/decision/v2/decision.proto"
    copy.parent.mkdir(parents=True)
    text = source.read_text().replace("decision.v1", "decision.v2")
    copy.write_text(text)
    return copy, text[: text.index("syntax")].count("\n") + 1


def shadowed_base_method(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        DECISION,
        "// One participant's vote",
        "message CommitPayload {\n  string note = 1;\n}\n\n// One participant's vote",
    )


def shadowed_participant_member(project: Path) -> tuple[Path, int]:
    """Message type `Terminal` would register as `on_terminal`, which Participant has."""
    return _edit(
        project,
        DECISION,
        "// One participant's vote",
        "message TerminalPayload {\n  string note = 1;\n}\n\n// One participant's vote",
    )


def shadowed_participant_action(project: Path) -> tuple[Path, int]:
    """Method `send` would shadow ParticipantActions.send in the generated actions."""
    return _edit(
        project,
        DECISION,
        "// One participant's vote",
        "message SendPayload {\n  string note = 1;\n}\n\n// One participant's vote",
    )


def unknown_reference(project: Path) -> tuple[Path, int]:
    path, _ = _edit(
        project,
        DECISION,
        'references: "Proposal"}];\n  string vote',
        'references: "Ballot"}];\n  string vote',
    )
    text = path.read_text()
    return path, text[: text.index('references: "Ballot"')].count("\n") + 1


def infinite_bound(project: Path) -> tuple[Path, int]:
    return _edit(project, DECISION, "min: 0, max: 1}", "min: 0, max: inf}")


CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "syntax": (syntax_error, r"Expected \";\""),
    "unknown enum option value": (unknown_enum_option_value, "CASE_SIDEWAYS"),
    "unknown option value": (unknown_option_value, "unknown determinism_class 'chaotic'"),
    "keyword field": (keyword_field, "Python keyword"),
    "unresolved import": (unresolved_import, "nowhere.proto"),
    "two modes, same names": (duplicate_mode_names, "produced by both"),
    "method shadows the base session": (shadowed_base_method, "'commit'"),
    "unknown reference": (unknown_reference, "references 'Ballot'"),
    "infinite bound": (infinite_bound, "not a finite number"),
    "handler shadows the participant": (shadowed_participant_member, "on_terminal"),
    "action shadows the participant actions": (
        shadowed_participant_action,
        "ParticipantActions.send",
    ),
}


def _compat_name(key: str, value: str) -> Callable[[Path], tuple[Path, int]]:
    def make(project: Path) -> tuple[Path, int]:
        path, _ = _edit(
            project,
            DECISION,
            'compat_names: {key: "DecisionVoteRecord" value: "VoteRecord"}',
            f'compat_names: {{key: "{key}" value: "{value}"}}',
        )
        text = path.read_text()
        return path, text[: text.index("option (macp.sdk.v1.mode)")].count("\n") + 1

    return make


def short_name_replaces_a_module(project: Path) -> tuple[Path, int]:
    multi_round = "proto/macp/modes/multi_round/v1/multi_round.proto"
    old = 'id: "ext.multi_round.v1"'
    path, _ = _edit(project, multi_round, old, f'{old} short_name: "retry"')
    text = path.read_text()
    return path, text[: text.index("option (macp.sdk.v1.mode)")].count("\n") + 1


def _vote_action(extra: str) -> Callable[[Path], tuple[Path, int]]:
    """An extra line in VotePayload's (macp.sdk.v1.action) option; reported at the option."""

    def make(project: Path) -> tuple[Path, int]:
        old = 'positional: ["proposal_id", "vote"]'
        path, line = _edit(project, DECISION, old, f"{old}\n    {extra}")
        return path, line - 2  # `option (macp.sdk.v1.action) = {`, two lines up

    return make


def field_shadows_the_dataclasses_module(project: Path) -> tuple[Path, int]:
    path, line = _edit(
        project,
        DECISION,
        "  string reason = 3;\n}",
        "  string reason = 3;\n  string dataclasses = 4;\n}",
    )
    return path, line + 1


RECORD_CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "record_fields names no field": (
        _vote_action('record_fields: ["proposal_id", "ballot"]'),
        "record_fields entry 'ballot' is not a field of VotePayload",
    ),
    "record_fields lists a field twice": (
        _vote_action('record_fields: ["vote", "sender", "vote"]'),
        "lists 'vote' twice",
    ),
    "record alias of no attribute": (
        _vote_action('record_aliases: {key: "voter" value: "who"}'),
        "maps 'voter' to 'who', which is not an attribute",
    ),
    "record alias shadows an attribute": (
        _vote_action('record_aliases: {key: "reason" value: "sender"}'),
        "record_aliases key 'reason'",
    ),
    "record attribute shadows the dataclasses module": (
        field_shadows_the_dataclasses_module,
        "shadows the dataclasses module",
    ),
}
CASES.update(RECORD_CASES)


COMPAT_CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "compat name is a keyword": (_compat_name("class", "VoteRecord"), "not a usable Python name"),
    "compat target is not a name": (_compat_name("DecisionVoteRecord", "a.b"), "not a Python name"),
    "compat name is a class of the mode": (
        _compat_name("DecisionSession", "VoteRecord"),
        "already a class of this mode",
    ),
    "short_name replaces a public module": (short_name_replaces_a_module, "macp_sdk.retry"),
}
CASES.update(COMPAT_CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_at_its_position_and_nothing_is_written(
    scratch_project: Path, case: str
) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    make_bad, expected_text = CASES[case]
    bad_file, bad_line = make_bad(scratch_project)

    result = run_cli("generate", "--project-root", str(scratch_project))

    assert result.status == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", lines[0])
    assert match, lines[0]
    assert Path(match["file"]).resolve() == bad_file.resolve()
    assert int(match["line"]) == bad_line
    assert int(match["col"]) >= 1
    assert re.search(expected_text, match["msg"]), match["msg"]
    assert "(" in match["msg"], "the message says what to change"
    assert tree_fingerprint(output) == before


def test_a_collision_names_both_sources(scratch_project: Path) -> None:
    duplicate_mode_names(scratch_project)
    result = run_cli("generate", "--project-root", str(scratch_project))
    assert "decision/v1/decision.proto" in result.err and "decision/v2/decision.proto" in result.err


def test_unknown_config_key_is_an_error(scratch_project: Path) -> None:
    pyproject = scratch_project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.macp-codegen]", "[tool.macp-codegen]\nprotos = 1")
    )
    result = run_cli("generate", "--project-root", str(scratch_project))
    assert result.status == 2 and "unknown key(s)" in result.err
