"""Installed distribution versions, read without importing ``importlib.metadata``.

``importlib.metadata`` (and the email, zipfile and csv modules it pulls in) costs more than
half of everything else ``import macp_sdk`` adds to grpc and the bindings. The version is in
the name of the ``<name>-<version>.dist-info`` folder that ``importlib.metadata`` would read
(the first one on ``sys.path``), so a folder listing answers; anything else falls back to it.
"""

from __future__ import annotations

import functools
import os
import re
import sys

_SEPARATORS = re.compile(r"[-_.]+")


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    wanted = _SEPARATORS.sub("_", distribution).lower()
    for entry in sys.path:
        for name in _listing(entry):
            if name.endswith(".dist-info") and "-" in name:
                project, version = name[: -len(".dist-info")].rsplit("-", 1)
                if _SEPARATORS.sub("_", project).lower() == wanted:
                    return version
    from importlib import metadata  # egg-info and other layouts: the general answer

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _listing(folder: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(os.listdir(folder or ".")))
    except OSError:
        return ()
