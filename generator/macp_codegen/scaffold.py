"""Generation gap for projections: the scaffold is created once, then only ever added to.

On regeneration the existing file is parsed with libcst (which prints untouched nodes exactly
as they were) and the merge adds, without touching any existing line:
- a hook method for each action the class does not handle yet (appended to the class body),
- an import for each name those hooks need that the module does not bind yet, into the
  existing import from the generated base when there is one (so imports stay sorted, I001).
An action is handled by its default hook name or by any `on_*` method whose `record` parameter
is annotated with the action's record class: hooks are keyed by message type, so renaming an
action's method never orphans a hook (the base resolves them the same way at run time).
Hooks whose action disappeared are reported, never deleted; when the file still imports the
removed action's record from the base, the merge stops with a located error naming the lines
to delete (that import would fail), and `check` reports it as drift with the same fix.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from .errors import CodegenError, SourceLocation
from .model import ModeModel


@dataclass(frozen=True)
class MergeResult:
    text: str
    added_hooks: tuple[str, ...]
    added_imports: tuple[str, ...]
    orphaned_hooks: tuple[str, ...]
    # The method of the class that handles each action (its default hook, or a renamed one).
    handlers: tuple[str, ...] = ()


class StaleScaffoldError(CodegenError):
    """The user's projection imports names of a removed action from the generated base."""


def merge_scaffold(
    existing: str,
    fresh: str,
    mode: ModeModel,
    path: str,
    base_names: frozenset[str] | None = None,
) -> MergeResult:
    """Merges the fresh scaffold into the existing file. `base_names` (the names the new
    generated base defines) lets the merge catch imports of removed records."""
    try:
        module = cst.parse_module(existing)
    except cst.ParserSyntaxError as exc:
        raise CodegenError(
            SourceLocation(path, exc.raw_line, exc.raw_column + 1),
            f"the projection file does not parse: {exc.message}",
            "fix it, or delete it to have it scaffolded again",
        ) from None
    fresh_module = cst.parse_module(fresh)
    class_name = mode.projection_class
    target = _find_class(module, class_name)
    if target is None:
        raise CodegenError(
            SourceLocation(path),
            f"the projection file no longer defines class {class_name}",
            "restore the class, or delete the file to have it scaffolded again",
        )
    fresh_class = _find_class(fresh_module, class_name)
    assert fresh_class is not None, "the scaffold template must define the projection class"

    annotated = _hook_records(target)
    existing_methods = set(annotated)
    handlers: dict[str, str] = {}
    for action in mode.actions:
        if action.hook in existing_methods:
            handlers[action.hook] = action.hook
        else:
            renamed = sorted(m for m, r in annotated.items() if r == action.record_class)
            if renamed:
                handlers[action.hook] = renamed[0]
    missing = [a.hook for a in mode.actions if a.hook not in handlers]
    handling = set(handlers.values())
    orphaned = sorted(
        name for name in existing_methods if name.startswith("on_") and name not in handling
    )
    if base_names is not None:
        _check_base_imports(existing, mode, path, base_names, orphaned)
    fresh_methods = {
        stmt.name.value: stmt for stmt in fresh_class.body.body if isinstance(stmt, cst.FunctionDef)
    }
    needed_names = {a.record_class for a in mode.actions if a.hook in missing}
    missing_imports = sorted(needed_names - _bound_names(module))
    handled = tuple(handlers.get(a.hook, a.hook) for a in mode.actions)
    if not missing and not missing_imports:
        return MergeResult(existing, (), (), tuple(orphaned), handled)

    new_class = target.with_changes(
        body=target.body.with_changes(
            body=[*target.body.body, *(fresh_methods[hook] for hook in missing)]
        )
    )
    body: list[cst.BaseStatement] = [new_class if stmt is target else stmt for stmt in module.body]
    if missing_imports:
        body = _insert_import(body, mode.base_module, missing_imports)
    merged = module.with_changes(body=body).code
    return MergeResult(merged, tuple(missing), tuple(missing_imports), tuple(orphaned), handled)


def _check_base_imports(
    existing: str, mode: ModeModel, path: str, base_names: frozenset[str], orphaned: list[str]
) -> None:
    tree = ast.parse(existing)
    for node in tree.body:
        if not (
            isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == mode.base_module
        ):
            continue
        gone = [alias.name for alias in node.names if alias.name not in base_names]
        if not gone:
            continue
        hooks = _hook_lines(tree, mode.projection_class, set(orphaned))
        where = ", ".join(f"{name} (line {line})" for name, line in hooks) or "none"
        raise StaleScaffoldError(
            SourceLocation(path, node.lineno, node.col_offset + 1),
            f"the projection imports {', '.join(gone)} from .{mode.base_module}, which no "
            f"longer defines it: its action was removed from {mode.proto_file}; hooks of "
            f"removed actions: {where}",
            f"delete {', '.join(gone)} from this import and those hooks, then run "
            "`macp-codegen generate`",
        )


def _hook_lines(tree: ast.Module, class_name: str, names: set[str]) -> list[tuple[str, int]]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return [
                (item.name, item.lineno)
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in names
            ]
    return []


def _hook_records(node: cst.ClassDef) -> dict[str, str]:
    """method name -> record class its `record` parameter is annotated with ("" if none)."""
    found: dict[str, str] = {}
    for stmt in node.body.body:
        if not isinstance(stmt, cst.FunctionDef):
            continue
        record = ""
        for param in stmt.params.params:
            if param.name.value == "record" and param.annotation is not None:
                annotation = param.annotation.annotation
                if isinstance(annotation, cst.Name):
                    record = annotation.value
                elif isinstance(annotation, cst.SimpleString):
                    record = (
                        annotation.evaluated_value
                        if isinstance(annotation.evaluated_value, str)
                        else ""
                    )
        found[stmt.name.value] = record
    return found


def _find_class(module: cst.Module, name: str) -> cst.ClassDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
            return stmt
    return None


def _bound_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            names.add(bound.value)
        elif isinstance(stmt, cst.ClassDef | cst.FunctionDef):
            names.add(stmt.name.value)
    return names


def _insert_import(
    body: Sequence[cst.BaseStatement], base_module: str, names: list[str]
) -> list[cst.BaseStatement]:
    """Adds `names` to the existing `from .<base> import (...)` (sorted as isort sorts them),
    or, without one, a new import statement after the last import."""
    for index, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if _imports_from(small, base_module):
                assert isinstance(small, cst.ImportFrom)
                assert not isinstance(small.names, cst.ImportStar)
                merged = _with_names(small, names)
                line = stmt.with_changes(body=[merged if s is small else s for s in stmt.body])
                return [*body[:index], line, *body[index + 1 :]]
    statement = cst.parse_statement(f"from .{base_module} import {', '.join(names)}\n")
    last_import = -1
    for index, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and any(
            isinstance(small, cst.Import | cst.ImportFrom) for small in stmt.body
        ):
            last_import = index
    return [*body[: last_import + 1], statement, *body[last_import + 1 :]]


def _imports_from(node: cst.BaseSmallStatement, base_module: str) -> bool:
    return (
        isinstance(node, cst.ImportFrom)
        and len(node.relative) == 1
        and isinstance(node.module, cst.Name)
        and node.module.value == base_module
        and not isinstance(node.names, cst.ImportStar)
    )


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's isort order within one import: CONSTANTS, then Classes, then the rest."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _with_names(node: cst.ImportFrom, names: list[str]) -> cst.ImportFrom:
    assert not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    if not aliases:
        return node
    # Every alias takes the separator of the first (same line breaks and indentation); the
    # last keeps the original last one's trailing comma (or its absence).
    separator = (
        aliases[0].comma
        if len(aliases) > 1
        else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    )
    last_comma = aliases[-1].comma
    added = [cst.ImportAlias(name=cst.Name(n)) for n in names]
    combined = sorted([*aliases, *added], key=lambda a: _isort_key(_alias_name(a)))
    rebuilt = [
        alias.with_changes(comma=last_comma if i == len(combined) - 1 else separator)
        for i, alias in enumerate(combined)
    ]
    return node.with_changes(names=rebuilt)


def _alias_name(alias: cst.ImportAlias) -> str:
    name = alias.name
    return name.value if isinstance(name, cst.Name) else cst.Module([]).code_for_node(name)
