"""generated/ is exactly what the generator produces, and every module in it imports."""

from __future__ import annotations

import importlib
from pathlib import Path

from macp_codegen.config import load_config
from macp_codegen.project import Project


def test_regeneration_reproduces_the_committed_tree_byte_for_byte(repo_root: Path) -> None:
    _, plan = Project(load_config(repo_root)).plan()
    problems = [f"stale {p}" for p in plan.changed] + [f"missing {p}" for p in plan.new]
    problems += [f"extra {p}" for p in plan.stale]
    assert not problems, (
        "generated/ is out of date; run `make generate` (or `macp-codegen generate`) and commit:\n"
        + "\n".join(problems)
    )


def _module_names(root: Path) -> list[str]:
    names = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[-1] != "__main__":
            names.append(".".join(parts))
    return names


def test_every_generated_module_imports(repo_root: Path) -> None:
    names = _module_names(repo_root / "generated")
    assert "macp.v1.core_pb2" in names and "macp_sdk._registry" in names
    for name in names:
        importlib.import_module(name)


def test_every_proto_has_its_module_and_stub(repo_root: Path) -> None:
    generated = repo_root / "generated"
    for proto in (repo_root / "proto").rglob("*.proto"):
        stem = proto.relative_to(repo_root / "proto").with_suffix("").as_posix()
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi"):
            assert (generated / f"{stem}{suffix}").is_file(), f"{stem}{suffix}"
