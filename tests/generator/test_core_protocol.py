"""Generated code uses the core only through the protocol `macp_core.contract` declares."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from macp_core import contract
from macp_core.base_projection import BaseProjection
from macp_core.base_session import AsyncBaseSession, BaseSession

REPO = Path(__file__).resolve().parents[2]
GENERATED = sorted(
    [
        *(REPO / "generated/macp_sdk/modes").glob("*.py"),
        *(REPO / "generated/macp_sdk/projections").glob("_*_base.py"),
        *(REPO / "tests/golden").glob("*/expected/macp_sdk/modes/*.py"),
        *(REPO / "tests/golden").glob("*/expected/macp_sdk/projections/_*_base.py"),
    ]
)


def _self_members_used(tree: ast.Module) -> set[str]:
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in {"self", "cls"}
    }


def _members_defined(tree: ast.Module) -> set[str]:
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.Assign)):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            defined.update(
                t.attr
                for t in targets
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
            )
    return defined


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: str(p.relative_to(REPO)))
def test_generated_modules_use_no_private_core_member(path: Path) -> None:
    assert GENERATED, "no generated modules found"
    tree = ast.parse(path.read_text())
    inherited = _self_members_used(tree) - _members_defined(tree)
    private = sorted(name for name in inherited if name.startswith("_"))
    assert private == [], f"{path.name} reaches into the core through {private}"


def test_the_generated_code_uses_the_declared_protocol() -> None:
    used: set[str] = set()
    defined: set[str] = set()
    for path in GENERATED:
        tree = ast.parse(path.read_text())
        used |= _self_members_used(tree) - _members_defined(tree)
        defined |= _members_defined(tree)
    declared = set(contract.SESSION_PROTOCOL) | set(contract.PROJECTION_PROTOCOL)
    # Everything else inherited is the documented public session API (SESSION_MEMBERS).
    assert used - declared <= contract.SESSION_MEMBERS, sorted(used - declared)
    # Each protocol member is called or overridden by some generated module.
    assert declared <= used | defined, sorted(declared - used - defined)


@pytest.mark.parametrize("cls", [BaseSession, AsyncBaseSession])
def test_the_sessions_offer_the_session_protocol(cls: type) -> None:
    for name in contract.SESSION_PROTOCOL:
        assert callable(getattr(cls, name)) and getattr(cls, name).__doc__, name


def test_the_projection_offers_the_projection_protocol() -> None:
    for name in contract.PROJECTION_PROTOCOL:
        assert callable(getattr(BaseProjection, name)) and getattr(BaseProjection, name).__doc__
