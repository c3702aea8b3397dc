"""`make docs-build` (in `make test`) fails on a broken link: the command the Makefile runs,
on a copy of the site with one bad link added, exits non-zero and names the link."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def _docs_build_command() -> list[str]:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^docs-build:.*\n\t(.+)$", makefile, re.M)
    assert recipe, "no docs-build target"
    words = shlex.split(recipe.group(1).replace("$(BIN)", str(Path(sys.executable).parent)))
    return [w for w in words if "=" not in w or w.startswith("-")]


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    command = _docs_build_command()
    assert "--strict" in command and "--quiet" not in command and "-q" not in command
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(REPO / "mkdocs.yml", site / "mkdocs.yml")
    shutil.copytree(REPO / "docs", site / "docs", symlinks=False)
    for root in ("generator", "core", "local_runtime", "generated"):
        (site / root).symlink_to(REPO / root)
    page = site / "docs" / "cli.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(command, cwd=site, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr
