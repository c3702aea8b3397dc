"""Our public API against macp-sdk-python 0.22.0's, each inspected in its own process.

`surface.py` runs under 0.22.0's own virtual environment (.cache/anchor-0.22.0, shared with
the governance differential tests) to list every public module and name with its kind and
parameters, then under ours to describe the same names; `api_compat.compare` reports every
name that is missing or cannot be called the way 0.22.0's could. The known differences are
listed below with their reason (docs/compat.md explains each); the test fails on any other
difference and on a listed one that no longer occurs, so the list stays exact.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from governance.anchor import VENV, anchor_python, run_side

from .api_compat import compare

SURFACE = Path(__file__).with_name("surface.py")
# 0.22.0's public modules (read from its wheel).
MODULES = [
    "macp_sdk",
    "macp_sdk.agent",
    "macp_sdk.agent.cancel_callback",
    "macp_sdk.agent.dispatcher",
    "macp_sdk.agent.participant",
    "macp_sdk.agent.runner",
    "macp_sdk.agent.strategies",
    "macp_sdk.agent.transports",
    "macp_sdk.agent.types",
    "macp_sdk.async_client",
    "macp_sdk.async_session",
    "macp_sdk.auth",
    "macp_sdk.base_projection",
    "macp_sdk.base_session",
    "macp_sdk.client",
    "macp_sdk.commitment_hash",
    "macp_sdk.constants",
    "macp_sdk.decision",
    "macp_sdk.envelope",
    "macp_sdk.errors",
    "macp_sdk.handoff",
    "macp_sdk.policy",
    "macp_sdk.projections",
    "macp_sdk.proposal",
    "macp_sdk.proto_registry",
    "macp_sdk.quorum",
    "macp_sdk.receipt",
    "macp_sdk.retry",
    "macp_sdk.task",
    "macp_sdk.validation",
    "macp_sdk.watchers",
]

# Differences still open, {reason: ["module:name", ...]}: none since every one of 0.22.0's
# names takes its calls. Deliberate behavioural differences are in docs/compat.md.
KNOWN_GAPS: dict[str, list[str]] = {}


def _run(python: Path | str, request: dict[str, Any]) -> Any:
    return run_side(python, request, SURFACE)


def _anchor_surface() -> Any:
    """0.22.0's dump, cached beside its venv (keyed by the dump script and module list)."""
    python = anchor_python()
    key = hashlib.sha256(SURFACE.read_bytes() + json.dumps(MODULES).encode()).hexdigest()[:16]
    cache = VENV / f"surface-{key}.json"
    if not cache.is_file():
        cache.write_text(json.dumps(_run(python, {"modules": MODULES})))
    return json.loads(cache.read_text())


@pytest.fixture(scope="module")
def differences() -> dict[str, str]:
    theirs = _anchor_surface()
    names = {module: list(side["names"]) for module, side in theirs.items()}
    ours = _run(sys.executable, {"names": names})
    return compare(theirs, ours)


def test_every_public_name_of_0_22_exists_with_a_compatible_signature(
    differences: dict[str, str],
) -> None:
    known = {key for keys in KNOWN_GAPS.values() for key in keys}
    unexpected = {k: v for k, v in differences.items() if k not in known}
    assert not unexpected, json.dumps(unexpected, indent=1, sort_keys=True)


def test_the_known_gaps_are_all_still_gaps(differences: dict[str, str]) -> None:
    """A gap that closed must leave the list (and docs/compat.md)."""
    known = {key for keys in KNOWN_GAPS.values() for key in keys}
    assert sorted(known - set(differences)) == []


def test_the_anchor_dump_sees_what_0_22_exports() -> None:
    """The comparison is only as good as 0.22.0's dump: it lists its 168 top-level names."""
    theirs = _anchor_surface()
    assert len(theirs["macp_sdk"]["names"]) == 168
    assert "DecisionSession" in theirs["macp_sdk.decision"]["names"]
    assert not theirs["macp_sdk.agent"]["missing"]
