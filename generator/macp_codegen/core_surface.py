"""What the hand-written core (templates/static) offers, read with `ast` rather than listed by hand.

The generated `__init__` re-exports each core module's `__all__`, and generated session methods
must never shadow a member of the base session classes.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .errors import CodegenError, SourceLocation

BASE_SESSION_FILE = Path("macp_sdk") / "base_session.py"
BASE_SESSION_CLASSES = ("BaseSession", "AsyncBaseSession")
# Present on every session whatever the core's current shape; protects generated members too.
ALWAYS_RESERVED = frozenset(
    {
        "start",
        "commit",
        "cancel",
        "suspend",
        "resume",
        "metadata",
        "open_stream",
        "projection",
        "session_id",
        "client",
        "auth",
        "register_mode",
        "mode_descriptor",
        "MODE",
        "MODE_VERSION",
        "PROJECTION_CLASS",
    }
)


def module_exports(static_root: Path, package: str = "macp_sdk") -> tuple[tuple[str, str], ...]:
    """(module, name) for every name in `__all__` of the package's top-level static modules."""
    exports: list[tuple[str, str]] = []
    package_dir = static_root / package
    if not package_dir.is_dir():
        return ()
    for source in sorted(package_dir.glob("*.py")):
        if source.name.startswith("_"):
            continue
        for name in _dunder_all(source):
            exports.append((source.stem, name))
    return tuple(exports)


def reserved_session_names(static_root: Path) -> frozenset[str]:
    source = static_root / BASE_SESSION_FILE
    names = set(ALWAYS_RESERVED)
    if source.is_file():
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name in BASE_SESSION_CLASSES:
                names.update(_class_members(node))
    return frozenset(names)


def _class_members(node: ast.ClassDef) -> set[str]:
    members: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            members.add(item.name)
            for sub in ast.walk(item):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "self"
                    and isinstance(sub.ctx, ast.Store)
                ):
                    members.add(sub.attr)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.add(item.target.id)
        elif isinstance(item, ast.Assign):
            members.update(t.id for t in item.targets if isinstance(t, ast.Name))
    return members


def _dunder_all(source: Path) -> list[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        names = [
            element.value
            for element in (value.elts if isinstance(value, ast.List | ast.Tuple) else [])
            if isinstance(element, ast.Constant) and isinstance(element.value, str)
        ]
        if not isinstance(value, ast.List | ast.Tuple) or len(names) != len(value.elts):
            raise CodegenError(
                SourceLocation(str(source), node.lineno, node.col_offset + 1),
                "__all__ must be a literal list of strings",
                'write __all__ = ["Name", ...]',
            )
        return names
    return []
