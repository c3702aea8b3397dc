"""mypy --strict passes on the generator and on everything in generated/."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api


def test_mypy_strict_passes_on_generator_and_generated(repo_root: Path) -> None:
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(repo_root / "pyproject.toml"),
            str(repo_root / "generator" / "macp_codegen"),
            str(repo_root / "generated"),
        ]
    )
    assert status == 0, stdout + stderr
