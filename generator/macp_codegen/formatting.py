"""Formats rendered Python with the pinned ruff, so templates need not manage line length.

Only `ruff format`: the built-in templates print import blocks the model computed exactly
(imports.py, import_plans.py), so there is nothing for `ruff check --fix` to delete or sort
(tests/generator/test_exact_imports.py proves it on raw renders). User templates overlaid on the
built-in ones (`templates` in the configuration) may import what they like: with an overlay,
ruff's import rules (I, F401) also fix the files, as they did for every file before.

Runs once per generation over all template-rendered files (one subprocess call, two with an
overlay), with an isolated configuration so the result never depends on the user's own ruff
settings, and without ruff's cache (every run formats a fresh folder, so the cache never hits;
writing it only cost time and left a .ruff_cache in the working directory).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from ruff.__main__ import find_ruff_bin

from .errors import CodegenError, SourceLocation
from .rawio import read_bytes, write_bytes
from .writer import output_error

RUFF_SETTINGS = [
    "--isolated",
    "--no-cache",
    "--line-length",
    "100",
    "--target-version",
    "py311",
    "--quiet",
    # No source roots: ruff would otherwise look for every imported module under the working
    # directory (`.` and `src`), two failed stats per import per file, and the import blocks
    # would depend on where the command runs. A module is first-party when it is in the same
    # package as the file importing it (ruff's detect-same-package).
    "--config",
    "src = []",
]


# ruff's import rules, run with --fix only for output of user templates (see above).
IMPORT_RULES = "I,F401"


def format_python(
    sources: dict[str, bytes], workdir: Path | None = None, *, fix_imports: bool = False
) -> dict[str, bytes]:
    """Relative path -> UTF-8 source, formatted; with `fix_imports`, import blocks also sorted
    and unused imports dropped (for user templates, whose imports the model does not decide).

    The files are formatted on disk, in `workdir` when given (an empty folder the caller owns;
    the formatted files are left there, see `Writer.write(prepared=...)`), else in a temporary
    folder. Each is written once and read back once, when ruff is done: the result is exactly
    the bytes left on disk.
    """
    if not sources:
        return {}
    ruff = find_ruff_bin()
    folder: AbstractContextManager[str] = (
        nullcontext(str(workdir))
        if workdir is not None
        else tempfile.TemporaryDirectory(prefix="macp-codegen-format-")
    )
    with folder as tmp:
        try:
            _write_sources(tmp, sources)
        except OSError as exc:  # a full or read-only disk: one located line, nothing swapped
            raise output_error(exc, Path(tmp)) from None
        if fix_imports:
            fix = [ruff, "check", "--fix", "--select", IMPORT_RULES, "--exit-zero"]
            _run([*fix, *RUFF_SETTINGS, tmp], tmp)
        _run([ruff, "format", *RUFF_SETTINGS, tmp], tmp)
        return {path: read_bytes(f"{tmp}/{path}") for path in sources}


def _write_sources(root: str, sources: dict[str, bytes]) -> None:
    made: set[str] = set()
    for path, text in sources.items():
        target = f"{root}/{path}"
        parent = target.rpartition("/")[0]
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        write_bytes(target, text)


def _run(command: list[str], root: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # --quiet also silences the parse error: ask again for the file and line that failed.
        loud = [arg for arg in command if arg != "--quiet"]
        result = subprocess.run(loud, capture_output=True, text=True, check=False)
        # A template produced Python that does not parse: that is a generator bug, say where.
        raise CodegenError(
            SourceLocation("templates"),
            "rendered Python did not format: "
            + (result.stderr.strip() or result.stdout.strip()).replace(root + "/", ""),
            "fix the template that produced this file",
        )
