"""Shared fixtures: paths of the repository and of ../shared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CONFORMANCE = SHARED / "conformance"


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def scratch_project(tmp_path: Path) -> Path:
    """A throwaway copy of the project's inputs (protos and pyproject), with no output yet."""
    shutil.copytree(REPO / "proto", tmp_path / "proto")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path
