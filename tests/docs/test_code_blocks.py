"""Every code block of the README and docs/ runs (or is written, parsed or compiled), so the
docs cannot rot. Rules per fence: see `tests/docs_blocks.py`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from docs_blocks import Block, blocks, is_project_page, pages

PAGES = pages(REPO)
SHOWN_ONLY = {"sh", "yaml", "proto", "text", "console", "json", "jinja"}


def _env(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # A project's generated SDK (with its own modes) comes before the installed one.
    if (project / "generated").is_dir():
        env["PYTHONPATH"] = str(project / "generated")
    return env


def _run(block: Block, project: Path) -> None:
    if block.language == "python":
        command = [sys.executable, "-c", block.text]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.text]
    result = subprocess.run(
        command, cwd=project, env=_env(project), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (
        f"{block.where}: the block exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_code_blocks_run(page: Path, tmp_path: Path) -> None:
    page_blocks = blocks(page)
    project = tmp_path / "project"
    project.mkdir()
    if is_project_page(page_blocks):
        shutil.copytree(REPO / "proto", project / "proto")
    for block in page_blocks:
        assert block.language, f"{block.where}: say what the block is (```python, ```sh, ...)"
        if "file" in block.attributes:
            target = project / block.attributes["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        elif block.language == "python" and "norun" in block.flags:
            compile(block.text, block.where, "exec")
        elif block.language == "python" or "run" in block.flags:
            _run(block, project)
        elif block.language == "toml":
            tomllib.loads(block.text)
        else:
            assert block.language in SHOWN_ONLY, f"{block.where}: unknown block {block.language}"


def test_every_page_has_a_run_rule() -> None:
    """The runner sees the blocks it should: the tutorial's steps are all there."""
    tutorial = blocks(REPO / "docs" / "tutorial.md")
    assert sum(b.language == "python" and "norun" not in b.flags for b in tutorial) >= 2
    assert sum("run" in b.flags for b in tutorial) >= 2
    assert {b.attributes.get("file") for b in tutorial} >= {
        "pyproject.toml",
        "proto/acme/auction/v1/auction.proto",
        "generated/macp_sdk/projections/auction.py",
    }
