"""Rule schemas are generator inputs: a new one yields a new builder, `check` covers them, and
a schema the generator cannot use is a located error with exit 2 and nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint

POLICY_DIR = "proto/macp/policy/v1"

MULTI_ROUND_RULES = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Multi-round Governance Rules",
    "description": "Scratch rules for ext.multi_round.v1.",
    "type": "object",
    "properties": {
        "rounds": {
            "type": "object",
            "properties": {
                "max_rounds": {"type": "integer", "minimum": 1, "default": 3},
                "convergence": {"type": "string", "enum": ["all", "majority"], "default": "all"},
            },
        },
        "commitment": {
            "type": "object",
            "properties": {
                "authority": {
                    "type": "string",
                    "enum": ["initiator_only", "any_participant", "designated_role"],
                    "default": "initiator_only",
                },
                "designated_roles": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}

DRIVE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import macp_sdk
from macp_sdk.policy import RoundsRules, CommitmentRules, build_multi_round_policy
from macp_sdk.errors import MacpValidationError
descriptor = build_multi_round_policy("p.rounds", "five rounds", rounds=RoundsRules(max_rounds=5))
try:
    build_multi_round_policy("p", "d", rounds=RoundsRules(convergence="some"))
    refused = False
except MacpValidationError as error:
    refused = error.field
print(json.dumps({
    "mode": descriptor.mode,
    "rules": json.loads(descriptor.rules),
    "refused": refused,
    "top_level": macp_sdk.build_multi_round_policy is build_multi_round_policy,
    "shared": CommitmentRules is macp_sdk.CommitmentRules,
}))
"""


def test_a_new_rules_schema_yields_a_new_builder_on_regeneration(scratch_project: Path) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    schema = scratch_project / POLICY_DIR / "multi_round-rules.schema.json"
    schema.write_text(json.dumps(MULTI_ROUND_RULES, indent=2))

    drift = run_cli("check", "--project-root", str(scratch_project))
    assert drift.status == 1, drift.out + drift.err

    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    assert run_cli("check", "--project-root", str(scratch_project)).status == 0
    output = scratch_project / "generated"
    run = subprocess.run(
        [sys.executable, "-c", DRIVE, str(output)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert facts == {
        "mode": "ext.multi_round.v1",
        "rules": {
            "rounds": {"max_rounds": 5, "convergence": "all"},
            "commitment": {"authority": "initiator_only", "designated_roles": []},
        },
        "refused": "rounds.convergence",
        "top_level": True,
        "shared": True,
    }


def test_check_covers_an_edit_of_the_builder_overrides(scratch_project: Path) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    path = scratch_project / POLICY_DIR / "builder-overrides.json"
    path.write_text(path.read_text().replace('"default": 3', '"default": 2', 1))
    result = run_cli("check", "--project-root", str(scratch_project))
    assert result.status == 1
    assert "macp_sdk/policy.py" in result.out + result.err
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    text = (scratch_project / "generated" / "macp_sdk" / "policy.py").read_text()
    assert "schema_version: int = 2," in text


def test_check_covers_an_edit_of_a_rules_schema(scratch_project: Path) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    path = scratch_project / POLICY_DIR / "task-rules.schema.json"
    path.write_text(path.read_text().replace('"default": false', '"default": true', 1))
    result = run_cli("check", "--project-root", str(scratch_project))
    assert result.status == 1
    assert "macp_sdk/policy.py" in result.out + result.err


# --- bad input -----------------------------------------------------------------------


def _write(project: Path, name: str, text: str, needle: str) -> tuple[Path, int]:
    path = project / POLICY_DIR / name
    path.write_text(text)
    return path, text[: text.index(needle)].count("\n") + 1


def invalid_json(project: Path) -> tuple[Path, int]:
    text = json.dumps(MULTI_ROUND_RULES, indent=2).replace('"minimum": 1,', '"minimum": 1,,')
    return _write(project, "multi_round-rules.schema.json", text, ",,")


def unsupported_keyword(project: Path) -> tuple[Path, int]:
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    schema["properties"]["rounds"]["properties"]["convergence"]["pattern"] = "^a"
    text = json.dumps(schema, indent=2)
    return _write(project, "multi_round-rules.schema.json", text, '"pattern"')


def unsupported_type(project: Path) -> tuple[Path, int]:
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    schema["properties"]["rounds"]["properties"]["max_rounds"]["type"] = "null"
    text = json.dumps(schema, indent=2)
    return _write(project, "multi_round-rules.schema.json", text, '"type": "null"')


def unknown_mode(project: Path) -> tuple[Path, int]:
    return _write(project, "auction-rules.schema.json", json.dumps(MULTI_ROUND_RULES), "{")


def unsupported_condition(project: Path) -> tuple[Path, int]:
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    schema["allOf"] = [{"if": {"properties": {"rounds": {"minProperties": 1}}}, "then": {}}]
    text = json.dumps(schema, indent=2)
    return _write(project, "multi_round-rules.schema.json", text, '"allOf"')


def reserved_section(project: Path) -> tuple[Path, int]:
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    schema["properties"]["description"] = schema["properties"].pop("rounds")
    return _write(project, "multi_round-rules.schema.json", json.dumps(schema), "{")


def colliding_class(project: Path) -> tuple[Path, int]:
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    schema["properties"]["proposal_acceptance"] = schema["properties"].pop("rounds")
    return _write(project, "multi_round-rules.schema.json", json.dumps(schema), "{")


OVERRIDES = "builder-overrides.json"


def _overrides(project: Path, data: object, needle: str) -> tuple[Path, int]:
    return _write(project, OVERRIDES, json.dumps(data, indent=2), needle)


def overrides_invalid_json(project: Path) -> tuple[Path, int]:
    return _write(project, OVERRIDES, '{\n  "task": {},,\n}', ",,")


def overrides_unknown_mode(project: Path) -> tuple[Path, int]:
    return _overrides(project, {"task": {}, "auction": {}}, '"auction"')


def overrides_undeclared_rule(project: Path) -> tuple[Path, int]:
    data = {"quorum": {"properties": {"threshold": {"properties": {"valeu": {"default": 1}}}}}}
    return _overrides(project, data, '"valeu"')


def overrides_bad_schema_version(project: Path) -> tuple[Path, int]:
    data = {"task": {"schema_version": {"default": 4, "enum": [1, 2]}}}
    return _overrides(project, data, '"schema_version"')


def overrides_unsupported_entry(project: Path) -> tuple[Path, int]:
    return _overrides(project, {"task": {"required": ["completion"]}}, '"required"')


def overrides_unsupported_keyword(project: Path) -> tuple[Path, int]:
    data = {
        "*": {"schema_version": {"default": 1}},
        "task": {
            "properties": {"completion": {"properties": {"require_output": {"pattern": "x"}}}}
        },
    }
    return _overrides(project, data, '"pattern"')


CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "overrides: invalid JSON": (overrides_invalid_json, "not valid JSON"),
    "overrides: no such mode": (overrides_unknown_mode, "no rule schema auction-rules"),
    "overrides: undeclared rule": (overrides_undeclared_rule, "declares no rule 'valeu'"),
    "overrides: bad schema_version": (overrides_bad_schema_version, "schema_version needs"),
    "overrides: unsupported entry": (overrides_unsupported_entry, "'required' is not supported"),
    "overrides: unsupported keyword": (overrides_unsupported_keyword, "'pattern' is not"),
    "invalid JSON": (invalid_json, "not valid JSON"),
    "unsupported keyword": (unsupported_keyword, "'pattern' is not supported"),
    "unsupported type": (unsupported_type, "unsupported type 'null'"),
    "no such mode": (unknown_mode, "short name 'auction'"),
    "unsupported condition": (unsupported_condition, "unsupported allOf clause"),
    "section named like a builder parameter": (reserved_section, "'description' cannot be"),
    "two classes, one name": (colliding_class, "ProposalAcceptanceRules"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_rules_schema_is_located_exit_2_and_nothing_is_written(
    scratch_project: Path, case: str
) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    make_bad, expected = CASES[case]
    bad_file, bad_line = make_bad(scratch_project)

    result = run_cli("generate", "--project-root", str(scratch_project))

    assert result.status == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", lines[0])
    assert match, lines[0]
    assert (scratch_project / match["file"]).resolve() == bad_file.resolve()
    assert int(match["line"]) == bad_line
    assert re.search(expected, match["msg"]), match["msg"]
    assert "(" in match["msg"], "the message says what to change"
    assert tree_fingerprint(output) == before


def test_star_overrides_apply_only_where_their_sections_are_declared(tmp_path: Path) -> None:
    from macp_codegen.policy_schema import Overrides, read_rules_schema

    root = Path(__file__).resolve().parents[2] / POLICY_DIR
    overrides = Overrides(root / "builder-overrides.json", "builder-overrides.json")
    # A new schema without a `commitment` section: `*`'s designated_role clause is left out.
    schema = json.loads(json.dumps(MULTI_ROUND_RULES))
    del schema["properties"]["commitment"]
    path = tmp_path / "multi_round-rules.schema.json"
    path.write_text(json.dumps(schema))
    read = read_rules_schema(path, "multi_round-rules.schema.json", overrides)
    assert read.conditionals == ()
    assert (read.schema_version.default, read.schema_version.allowed) == (1, (1, 2, 3))
    # With one, the clause applies.
    with_commitment = tmp_path / "other" / "multi_round-rules.schema.json"
    with_commitment.parent.mkdir()
    with_commitment.write_text(json.dumps(MULTI_ROUND_RULES))
    read = read_rules_schema(with_commitment, "x", overrides)
    assert [(c.section, c.field, c.value) for c in read.conditionals] == [
        ("commitment", "authority", "designated_role")
    ]
