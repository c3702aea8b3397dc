"""Making a benchmark's output folder absent before a run, without making the run pay for it.

Deleting thousands of files right before a run that creates thousands is not neutral: ext4
without a journal skips recently freed inodes (for about 30 s) when it allocates new ones, so
the run's system time grows with what was just deleted. Moving the folder into a trash folder
is one rename and frees nothing; the trash is deleted when the whole bench run ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def clear(folder: str, trash: str = "") -> None:
    """Leaves `folder` absent: moved into `trash` (one rename, nothing freed) when given, else
    deleted. `trash` must be on the same file system (a rename)."""
    if not trash:
        shutil.rmtree(folder, ignore_errors=True)
    elif os.path.lexists(folder):
        os.makedirs(trash, exist_ok=True)
        os.rename(folder, os.path.join(tempfile.mkdtemp(dir=trash), "moved"))
