"""Without ../shared/conformance the conformance tests fail; they never skip to green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = ("tests/runtime/test_conformance.py", "tests/projections/test_conformance.py")


def test_conformance_tests_fail_when_the_fixtures_are_missing(tmp_path: Path) -> None:
    env = {**os.environ, "MACP_CONFORMANCE_DIR": str(tmp_path / "absent")}
    command = [sys.executable, "-m", "pytest", "-q", "-rfs", *MODULES]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stdout[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert "failed" in summary and "skipped" not in summary, summary
    assert "conformance fixtures not found" in result.stdout
    for case in (
        "test_conformance.py::test_fixture[fixtures-missing]",
        "test_conformance.py::test_fixtures_are_present",
        "test_conformance.py::test_fixture_replays[spec/fixtures-missing]",
        "test_conformance.py::test_fixture_replays[runtime/fixtures-missing]",
    ):
        assert "FAILED tests/" in result.stdout and case in result.stdout, case
