"""Helpers for generator tests: run the CLI in-process and fingerprint folders."""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from macp_codegen.cli import main


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


def run_cli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return Run(status, out.getvalue(), err.getvalue())


def tree_fingerprint(root: Path) -> dict[str, str]:
    """Path -> sha256 of every file below root (caches ignored)."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


ORACLE = "macp-proto==0.1.13"


def oracle_site() -> Path:
    """The published macp-proto wheel, unpacked once into .cache/oracle/site.

    It installs a package named `macp` too, so it is only ever used in subprocesses.
    """
    import subprocess
    import sys
    import zipfile

    cache = Path(__file__).resolve().parents[1] / ".cache" / "oracle"
    unpacked = cache / "site"
    if not (unpacked / "macp").is_dir():
        wheels = cache / "wheels"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(wheels),
                ORACLE,
            ],
            check=True,
        )
        wheel = next(wheels.glob("macp_proto-0.1.13-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
    return unpacked
