"""Puts the project's output folder on the virtual environment's import path (`make setup`).

The editable install maps only the top-level packages that existed when it ran (macp,
macp_sdk, ...). A mode in a proto package of its own (`acme.auction.v1`) is generated into a
new top-level package (`acme`), which that mapping cannot know; a path entry for the whole
output folder (a `.pth` file) makes every generated package importable right after
`macp-codegen generate`, with no edit to pyproject.toml or PYTHONPATH.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from .config import load_config

PTH_NAME = "_macp_codegen_output.pth"


def install(project_root: Path, site: Path | None = None) -> Path:
    """Writes the .pth file naming the configured output folder into `site` (default: this
    interpreter's site-packages); returns its path."""
    output = load_config(project_root).output.resolve()
    site = site if site is not None else Path(sysconfig.get_paths()["purelib"])
    site.mkdir(parents=True, exist_ok=True)
    pth = site / PTH_NAME
    pth.write_text(f"{output}\n", encoding="utf-8")
    return pth


def main() -> int:
    pth = install(Path.cwd())
    print(f"macp-codegen: {pth.read_text(encoding='utf-8').strip()} is on the import path ({pth})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
