"""Golden tests: small input protos under tests/golden/<case>/proto and their expected output.

Set UPDATE_GOLDEN=1 to rewrite the expected files after an intended template change, then
review the diff like any other code change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from codegen_helpers import run_cli

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
# The files a mode contributes; the package __init__ also lists the core, so it is left out.
COMPARED = (
    "macp_sdk/_registry.py",
    "macp_sdk/facts",
    "macp_sdk/modes",
    "macp_sdk/projections",
    "macp_sdk/participants",
)


def _compared_files(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for entry in COMPARED:
        path = root / entry
        candidates = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for candidate in candidates:
            files[candidate.relative_to(root).as_posix()] = candidate.read_text(encoding="utf-8")
    return files


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_generated_output_matches_the_golden_files(
    case: str, tmp_path: Path, repo_root: Path
) -> None:
    source = GOLDEN / case
    output = tmp_path / "out"
    result = run_cli(
        "generate",
        "--project-root",
        str(tmp_path),
        "--proto-root",
        str(source / "proto"),
        "--include",
        str(repo_root / "proto"),
        "--output",
        str(output),
    )
    assert result.status == 0, result.err
    actual = _compared_files(output)
    expected_root = source / "expected"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected_root, ignore_errors=True)
        for path, text in actual.items():
            (expected_root / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_root / path).write_text(text, encoding="utf-8")
    expected = _compared_files(expected_root)
    assert sorted(actual) == sorted(expected)
    for path, text in expected.items():
        assert actual[path] == text, f"{case}: {path} differs (UPDATE_GOLDEN=1 to accept)"
