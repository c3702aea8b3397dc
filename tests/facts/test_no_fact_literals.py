"""Mode facts are written in the protos only.

A standard mode id or a mode's message type written as a string literal in hand-written code
is a second copy that can drift. This test reads the set of ids and message types from the
generated registry, finds every string constant in hand-written code with `ast` (so comments
never count, and docstrings are skipped), and fails on an exact match.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

from macp_sdk._registry import MODE_REGISTRY

REPO = Path(__file__).resolve().parents[2]
SCAFFOLDS = REPO / "generated" / "macp_sdk" / "projections"


def fact_strings() -> frozenset[str]:
    """Mode ids, the message types of mode actions and the anomaly kinds a mode declares
    (core types such as Commitment are protocol vocabulary of the hand-written core, not facts
    of a mode)."""
    facts: set[str] = set()
    for info in MODE_REGISTRY.values():
        facts.add(info.id)
        facts.update(info.payloads)
        module = importlib.import_module(f"macp_sdk.facts.{info.short_name}")
        facts.update(getattr(module, n) for n in module.__all__ if n.startswith("ANOMALY_"))
    return frozenset(facts)


def hand_written_files() -> list[Path]:
    roots = [REPO / "core", REPO / "local_runtime", REPO / "generator", REPO / "examples"]
    files = [p for root in roots for p in sorted(root.rglob("*.py"))]
    # The scaffolds are user-owned; the bases next to them are generated.
    files += [p for p in sorted(SCAFFOLDS.glob("*.py")) if not p.name.startswith("_")]
    return [p for p in files if "__pycache__" not in p.parts and "/tests/" not in p.as_posix()]


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstring_nodes(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def offending_literals(files: list[Path], facts: frozenset[str]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{line}: {value!r}"
        for path in files
        for line, value in string_literals(path)
        if value in facts
    ]


def test_facts_are_read_from_the_registry() -> None:
    facts = fact_strings()
    assert {"macp.mode.decision.v1", "ext.multi_round.v1", "Vote", "TaskRequest"} <= facts
    assert "duplicate_vote" in facts
    assert "Commitment" not in facts


def test_no_mode_id_or_message_type_literal_in_hand_written_code() -> None:
    found = offending_literals(hand_written_files(), fact_strings())
    assert found == [], "import these from macp_sdk.facts.<mode> instead:\n" + "\n".join(found)


def test_the_check_catches_a_literal_and_ignores_words(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A module about the Vote message and macp.mode.decision.v1."""\n'
        "# a comment naming 'Vote' is fine\n"
        'KIND = "Vote"\n'
        'OTHER = "vote"  # lower case: a field name, not the message type\n'
        'TEXT = f"cast a Vote on {KIND}"\n'
        'MODE = "macp.mode.decision.v1"\n',
        encoding="utf-8",
    )
    found = [value for _, value in string_literals(sample) if value in fact_strings()]
    assert found == ["Vote", "macp.mode.decision.v1"]
