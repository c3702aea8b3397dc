"""macp-sdk-python 0.22.0 in its own virtual environment (it ships its own `macp` package),
created once under .cache/anchor-0.22.0 like the protobuf oracle in codegen_helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ANCHOR = ("macp-sdk-python==0.22.0", "cryptography==50.0.2")
REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".cache" / "anchor-0.22.0"
SIDES = Path(__file__).with_name("sides.py")


def anchor_python() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if not stamp.is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *ANCHOR,
            ],
            check=True,
        )
        stamp.write_text("\n".join(ANCHOR))
    return python


def run_side(python: Path | str, request: dict[str, Any], script: Path = SIDES) -> Any:
    """One JSON request to ``script`` run by one side's python, in a fresh process whose cwd
    holds no project packages; its JSON answer."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(python), str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=VENV.parent,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
