"""Differential tests against macp-sdk-python 0.22.0, installed in its own virtual
environment (.cache/anchor-0.22.0, shared with the other differential tests; it ships its
own `macp` package) and run as its own process.

- The same agent scenario (only 0.22.0's agent API) runs under both SDKs against one embedded
  runtime; what the agents observe must be identical.
- Every public name of 0.22.0's `macp_sdk.agent` modules exists here, with its parameters;
  the deviations are listed below with their reason, and the list must stay exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from governance.anchor import anchor_python as shared_anchor_python
from macp_sdk.envelope import new_session_id
from macp_sdk.local_runtime import LocalRuntime

HERE = Path(__file__).resolve().parent

# (module, name, what) -> why this SDK differs on purpose (none left: issue #13 closed the
# last ones; a new one must be listed here with its reason).
KNOWN_DEVIATIONS: dict[tuple[str, str, str], str] = {}


@pytest.fixture(scope="module")
def anchor_python() -> Path:
    return shared_anchor_python()  # the one 0.22.0 venv the differential tests share


def _run(python: Path | str, *args: str) -> Any:
    result = subprocess.run(
        [str(python), *args], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_same_agents_observe_the_same_session_under_both_sdks(anchor_python: Path) -> None:
    with LocalRuntime() as runtime:
        script = str(HERE / "anchor_scenario.py")
        theirs = _run(anchor_python, script, runtime.target, new_session_id())
        ours = _run(sys.executable, script, runtime.target, new_session_id())
    assert theirs["ends"]["lead"]["state"] == "Committed"  # the scenario did run to its end
    assert ours == theirs


def _deviations(theirs: dict[str, Any], ours: dict[str, Any]) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for module, names in theirs.items():
        for name, described in names.items():
            mine = ours.get(module, {}).get(name)
            if mine is None:
                found.add((module, name, "missing"))
                continue
            if described["kind"] == "callable":
                found |= {
                    (module, name, f"param {p}")
                    for p in described["params"] or []
                    if p not in (mine.get("params") or [])
                }
            if described["kind"] != "class":
                continue
            found |= {
                (module, name, f"init {p}")
                for p in described["init"] or []
                if p not in (mine.get("init") or [])
            }
            for method, params in described["methods"].items():
                if method not in mine["methods"]:
                    found.add((module, name, f"method {method}"))
                    continue
                found |= {
                    (module, name, f"{method} param {p}")
                    for p in params or []
                    if p not in (mine["methods"][method] or [])
                }
    return found


def test_the_public_agent_api_of_0_22_is_here(anchor_python: Path) -> None:
    script = str(HERE / "anchor_api.py")
    theirs, ours = _run(anchor_python, script), _run(sys.executable, script)
    assert "Participant" in theirs["macp_sdk.agent"]  # the dump is not empty
    assert _deviations(theirs, ours) == set(KNOWN_DEVIATIONS)
