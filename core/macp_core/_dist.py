"""Installed distribution versions, read without importing ``importlib.metadata``.

``importlib.metadata`` (and the email, zipfile and csv modules it pulls in) costs more than
half of everything else ``import macp_sdk`` adds to grpc and the bindings. The version is in
the name of the ``<name>-<version>.dist-info`` folder that ``importlib.metadata`` would read
(the first one on ``sys.path``), so a folder listing answers; anything else falls back to it.
"""

from __future__ import annotations

import functools
import os
import sys

# The standard library's folders hold no distributions (installers write to site-packages, a
# path entry of its own); they are the largest on sys.path, so they are not listed.
_STDLIB = frozenset(
    {os.path.dirname(os.__file__), os.path.join(os.path.dirname(os.__file__), "lib-dynload")}
)


def _normalized(name: str) -> str:
    # PEP 503 normalisation with "_" (runs of "-", "_", "." become one "_"), lower case.
    # Plain string operations: a regex compiled at import costs more than these calls.
    out = name.replace("-", "_").replace(".", "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out.lower()


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    wanted = _normalized(distribution)
    for entry in sys.path:
        if entry in _STDLIB:
            continue
        for name in _listing(entry):
            if name.endswith(".dist-info") and "-" in name:
                project, version = name[: -len(".dist-info")].rsplit("-", 1)
                if _normalized(project) == wanted:
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
