"""Temporary copies of the repository for workflow tests, and small edit helpers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DECISION = "proto/macp/modes/decision/v1/decision.proto"
CORE = "proto/macp/v1/core.proto"
TASK = "proto/macp/modes/task/v1/task.proto"


def copy_inputs(target: Path) -> Path:
    shutil.copytree(REPO / "proto", target / "proto")
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def _caches(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.startswith(".")]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "--no-verify", "-m", message)


def edit(root: Path, relative: str, old: str, new: str) -> int:
    """Replaces `old` by `new` once; returns the 1-based line where `new` starts."""
    path = root / relative
    text = path.read_text()
    assert old in text, f"fixture text not found in {relative}: {old!r}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text[: text.index(new)].count("\n") + 1 if new else 0


def line_of(root: Path, relative: str, needle: str) -> int:
    text = (root / relative).read_text()
    assert needle in text, f"{needle!r} not in {relative}"
    return text[: text.index(needle)].count("\n") + 1
