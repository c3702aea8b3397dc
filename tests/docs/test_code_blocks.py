"""Every code block of the README and docs/ runs (or is written, parsed or compiled), so the
docs cannot rot. Rules per fence: see `tests/docs_blocks.py`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from docs_blocks import Block, blocks, is_project_page, pages

PAGES = pages(REPO)
SHOWN_ONLY = {"sh", "yaml", "proto", "text", "console", "json", "jinja"}


def _layered_venv(where: Path, name: str = "venv") -> Path:
    """A throwaway virtual environment for a project page, layered on this one: it sees this
    environment's packages (the installed SDK and toolkit, no copies, no network) while
    whatever the page installs or writes into site-packages (`python -m
    macp_codegen.output_path`, `pip install`) lands in the throwaway one, never in ours."""
    venv = where / name
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    # Named to sort after the page's own .pth files, so the project's output folder comes
    # before this environment's packages; addsitedir also runs this environment's .pth files.
    ours = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "zz_docs_layer.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n", encoding="utf-8"
    )
    return venv


def _env(project: Path, venv: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The toolkit's commands (macp-codegen) come from this environment.
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if venv is not None:
        # `python` and `pip` are the page's own environment's, as in a user's project.
        env["VIRTUAL_ENV"] = str(venv)
        path = f"{venv / 'bin'}{os.pathsep}{path}"
    env["PATH"] = path
    return env


def _run(block: Block, project: Path, venv: Path | None) -> None:
    if block.language == "python":
        python = str(venv / "bin" / "python") if venv is not None else sys.executable
        command = [python, "-c", block.text]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.text]
    result = subprocess.run(
        command, cwd=project, env=_env(project, venv), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (
        f"{block.where}: the block exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_code_blocks_run(page: Path, tmp_path: Path) -> None:
    page_blocks = blocks(page)
    project = tmp_path / "project"
    project.mkdir()
    venvs: dict[str, Path] = {}
    if is_project_page(page_blocks):
        shutil.copytree(REPO / "proto", project / "proto")
        venvs[""] = _layered_venv(tmp_path)
    for block in page_blocks:
        assert block.language, f"{block.where}: say what the block is (```python, ```sh, ...)"
        if "file" in block.attributes:
            target = project / block.attributes["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        elif block.language == "python" and "norun" in block.flags:
            compile(block.text, block.where, "exec")
        elif block.language == "python" or "run" in block.flags:
            name = block.attributes.get("env", "")
            if (
                name and name not in venvs
            ):  # a second environment, e.g. where a mode package is installed
                venvs[name] = _layered_venv(tmp_path, f"venv-{name}")
            _run(block, project, venvs.get(name))
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


def test_the_tutorial_runs_the_whole_path() -> None:
    """Issue #17's path, each step executed (not only shown): importable without PYTHONPATH,
    protoc plugin, register_mode, a mode package of its own installed in a second environment,
    check and breaking."""
    tutorial = blocks(REPO / "docs" / "tutorial.md")
    executed = "".join(
        b.text for b in tutorial if "run" in b.flags or (b.language == "python" and not b.flags)
    )
    for step in (
        "python -m macp_codegen.output_path",
        "--macp-sdk_out",
        "register_mode(client)",
        'terminal_message_types: ["Close"]',
        "MacpSdkError",
        "--sdk-package acme_modes",
        "entry_points",
        "pip install",
        'session_class("ext.auction.v1") is AuctionSession',
        "macp-codegen check",
        "macp-codegen breaking --against",
    ):
        assert step in executed, step
    assert "PYTHONPATH" not in executed


def test_no_page_promises_landed_work() -> None:
    """Issue #15 has landed: no page may still say its features are coming."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8").lower()
        assert "coming with issue #15" not in text and "issue #15 (in progress)" not in text, page
