"""The files under a folder, listed in one pass.

`Path.rglob` (Python 3.11) opens every folder twice, once to find the folders and once to match
names, and makes a Path of every entry; a proto tree of 200 modes has 600 folders. This opens
each folder once and reads the entry types the listing already holds. Like rglob it does not
descend into links to folders; unlike it, it yields only files (a link to a file counts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator


def files_under(root: str, *, skip_hidden: bool = False) -> Iterator[tuple[str, ...]]:
    """The path of every file under `root`, relative to it, as a tuple of its parts, in no
    particular order. `skip_hidden`: names starting with "." and `__pycache__` folders are
    left out, with everything below them."""
    pending: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while pending:
        folder, parts = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue  # as rglob: a folder that vanished or cannot be read lists nothing
        for entry in entries:
            name = entry.name
            if skip_hidden and (name.startswith(".") or name == "__pycache__"):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, (*parts, name)))
            elif entry.is_file():
                yield (*parts, name)
