"""Fenced code blocks of the README and docs/, and what the test suite does with each.

The fence's info string says it explicitly:

- ```` ```python ```` runs, each block in a fresh interpreter, in page order;
- ```` ```python norun ```` is only compiled (it needs something the suite does not have,
  e.g. a remote runtime);
- ```` ```<lang> file=PATH ```` is written to PATH in the page's project folder (a copy of
  this repository's `proto/`), e.g. a mode proto, `pyproject.toml` or an edited scaffold;
- ```` ```sh run ```` runs in bash in the project folder, with the toolkit's commands on PATH;
- ```` env=NAME ```` on a run block runs it in another virtual environment of the page (made
  on first use, with the SDK and toolkit installed and nothing the page did to the first one),
  e.g. where a mode package is installed next to the SDK;
- ```` ```toml ```` is parsed; any other language (`sh`, `yaml`, `proto`, `text`) is shown,
  not run. A fence without a language is an error: every block says what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^(?P<indent> *)```(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    flags: frozenset[str]
    attributes: dict[str, str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening["indent"])
        words = opening["info"].split()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            body.append(lines[end][indent:])
            end += 1
        found.append(
            Block(
                page=page,
                line=index + 1,
                language=words[0] if words else "",
                flags=frozenset(w for w in words[1:] if "=" not in w),
                attributes=dict(w.split("=", 1) for w in words[1:] if "=" in w),
                text="\n".join(body) + "\n",
            )
        )
        index = end + 1
    return found


def pages(repo: Path) -> list[Path]:
    """The README and every hand-written docs page (the generated mode pages have no code)."""
    docs = repo / "docs"
    written = [p for p in sorted(docs.rglob("*.md")) if "modes" not in p.relative_to(docs).parts]
    return [repo / "README.md", *written]


def is_project_page(page_blocks: list[Block]) -> bool:
    """Pages that build something (write files, run commands) get a project folder."""
    return any("file" in b.attributes or "run" in b.flags for b in page_blocks)
