"""The fast path of `check` is sound: an edit to the toolkit itself makes it exit 1.

The toolkit under test is a scratch copy of `generator/` (source and templates), imported by a
child process through PYTHONPATH, so the edits below change exactly what a developer's edit
would: the files the running generator is made of.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.workspace import copy_inputs

REPO = Path(__file__).resolve().parents[2]
FAST = "(inputs and output unchanged)"


def _cli(
    toolkit: Path, root: Path, *args: str, first: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Runs `macp-codegen` with the toolkit copy (and `first`) ahead on the import path."""
    ahead = [str(p) for p in (toolkit, *first)]
    rest = [p for p in sys.path if p and Path(p).resolve() != REPO / "generator"]
    paths = ahead + rest
    return subprocess.run(
        [sys.executable, "-m", "macp_codegen", *args, "--project-root", str(root)],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(paths)),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def toolkit_and_project(tmp_path: Path) -> tuple[Path, Path]:
    toolkit = tmp_path / "toolkit"
    shutil.copytree(
        REPO / "generator/macp_codegen",
        toolkit / "macp_codegen",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    project = copy_inputs(tmp_path / "repo")
    done = _cli(toolkit, project, "generate")
    assert done.returncode == 0, done.stderr
    done = _cli(toolkit, project, "check")
    assert done.returncode == 0 and FAST in done.stdout, done.stdout + done.stderr
    return toolkit, project


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_an_edited_template_fails_the_fast_check(toolkit_and_project: tuple[Path, Path]) -> None:
    toolkit, project = toolkit_and_project
    template = toolkit / "macp_codegen/templates/sdk/modes/mode.py.jinja"
    _edit(template, "action builders and session helpers.", "action builders and sessions.")
    done = _cli(toolkit, project, "check", "--no-diff")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "generated/macp_sdk/modes/decision.py" in done.stdout


def test_an_edited_generator_module_fails_the_fast_check(
    toolkit_and_project: tuple[Path, Path],
) -> None:
    toolkit, project = toolkit_and_project
    modeling = toolkit / "macp_codegen/modeling.py"
    _edit(modeling, 'version=options.version or "1.0.0"', 'version=options.version or "1.0.1"')
    done = _cli(toolkit, project, "check", "--no-diff")
    assert done.returncode == 1, done.stdout + done.stderr
    assert FAST not in done.stdout


def test_an_edit_that_changes_no_output_leaves_only_the_manifest_stale(
    toolkit_and_project: tuple[Path, Path],
) -> None:
    """The digest sees every toolkit byte; the full comparison then finds only the manifest
    (which records that digest) out of date, and `generate` settles it."""
    toolkit, project = toolkit_and_project
    naming = toolkit / "macp_codegen/naming.py"
    naming.write_text(naming.read_text() + "\n# a comment\n")
    done = _cli(toolkit, project, "check", "--no-diff")
    assert done.returncode == 1, done.stdout + done.stderr
    listed = [line.split()[-1] for line in done.stdout.splitlines() if line.startswith("  ")]
    assert listed == ["generated/.macp-codegen-manifest.json"], done.stdout
    assert _cli(toolkit, project, "generate").returncode == 0
    done = _cli(toolkit, project, "check")
    assert done.returncode == 0 and FAST in done.stdout


def test_a_clone_elsewhere_takes_the_fast_path_on_the_committed_manifest(tmp_path: Path) -> None:
    """The committed digest holds no absolute path: CI's clone at another path matches it."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    clone = tmp_path / "somewhere" / "else"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
        check=True,
        capture_output=True,
    )
    done = _cli(clone / "generator", clone, "check", first=(clone / "core", clone / "generated"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert FAST in done.stdout, done.stdout


def test_the_pre_commit_hook_watches_every_input_the_digest_covers() -> None:
    import re

    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    (pattern,) = re.findall(r"^\s*files:\s*(\S+)\s*$", hooks, re.M)
    for path in (
        "proto/macp/modes/decision/v1/decision.proto",
        "generator/macp_codegen/modeling.py",
        "generator/macp_codegen/templates/sdk/modes/mode.py.jinja",
        "core/macp_core/contract.py",
        "generated/.macp-codegen-manifest.json",
        "pyproject.toml",
    ):
        assert re.search(pattern, path), f"{path} does not trigger the hook ({pattern})"
