"""`macp-codegen generate --watch`: regenerate whenever a file under the inputs changes.

Polls modification times (no extra dependency; a few hundred files cost well under a
millisecond per poll). Bad input is reported and the loop keeps watching, so fixing the proto
is enough to recover; Ctrl-C stops it.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path

Snapshot = dict[Path, tuple[int, int]]


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """(mtime_ns, size) of every file below the roots; caches and hidden files ignored."""
    state: Snapshot = {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            relative = path.relative_to(root).parts
            if any(p.startswith(".") or p == "__pycache__" for p in relative):
                continue
            try:
                info = path.stat()
            except OSError:
                continue  # removed while walking: the next poll sees it gone
            if stat.S_ISREG(info.st_mode):
                state[path] = (info.st_mtime_ns, info.st_size)
    return state


def watch(
    roots: list[Path],
    regenerate: Callable[[], None],
    interval: float = 0.5,
    cycles: int | None = None,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Regenerates once, then after every change; `cycles` bounds the polls (None: forever).

    Returns the number of regenerations, so callers and tests can tell what happened.
    """
    pause = sleep or time.sleep  # looked up per call, so tests can patch time.sleep
    runs = polls = 0
    try:
        seen = snapshot(roots)  # taken before regenerating, so edits made meanwhile count
        regenerate()
        runs += 1
        while cycles is None or polls < cycles:
            pause(interval)
            polls += 1
            current = snapshot(roots)
            if current != seen:
                seen = current
                regenerate()
                runs += 1
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a watch ends
    return runs
