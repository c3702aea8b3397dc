"""Fixtures: temporary copies of the repository, generated or under git."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from codegen_helpers import run_cli

from workflow.workspace import commit, copy_inputs, git


@pytest.fixture(scope="session")
def generated_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with generated/ produced by `generate` (made once)."""
    root = copy_inputs(tmp_path_factory.mktemp("generated-once"))
    run = run_cli("generate", "--project-root", str(root))
    assert run.status == 0, run.err
    return root


@pytest.fixture
def project(generated_once: Path, tmp_path: Path) -> Path:
    """A fresh, in-sync copy for one test."""
    target = tmp_path / "repo"
    shutil.copytree(generated_once, target, symlinks=True)
    return target


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """A copy of the repository's inputs committed to a throwaway git repository."""
    root = copy_inputs(tmp_path / "repo")
    git(root, "init", "--quiet", "--initial-branch=main")
    commit(root, "baseline")
    return root
