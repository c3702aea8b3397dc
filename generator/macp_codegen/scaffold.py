"""Generation gap for projections: the scaffold is created once, then only ever added to.

On regeneration the existing file is parsed with libcst (which prints untouched nodes exactly
as they were) and the merge adds, without touching any existing line:
- a hook method for each action the class does not define yet (appended to the class body),
- an import for each name those hooks need that the module does not bind yet.
Hooks whose action disappeared are reported, never deleted.
"""

from __future__ import annotations

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


def merge_scaffold(existing: str, fresh: str, mode: ModeModel, path: str) -> MergeResult:
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

    existing_methods = _method_names(target)
    wanted = [a.hook for a in mode.actions]
    missing = [hook for hook in wanted if hook not in existing_methods]
    orphaned = sorted(
        name for name in existing_methods if name.startswith("on_") and name not in wanted
    )
    fresh_methods = {
        stmt.name.value: stmt for stmt in fresh_class.body.body if isinstance(stmt, cst.FunctionDef)
    }
    needed_names = {a.record_class for a in mode.actions if a.hook in missing}
    missing_imports = sorted(needed_names - _bound_names(module))
    if not missing and not missing_imports:
        return MergeResult(existing, (), (), tuple(orphaned))

    new_class = target.with_changes(
        body=target.body.with_changes(
            body=[*target.body.body, *(fresh_methods[hook] for hook in missing)]
        )
    )
    body: list[cst.BaseStatement] = [new_class if stmt is target else stmt for stmt in module.body]
    if missing_imports:
        body = _insert_import(body, mode.base_module, missing_imports)
    merged = module.with_changes(body=body).code
    return MergeResult(merged, tuple(missing), tuple(missing_imports), tuple(orphaned))


def _find_class(module: cst.Module, name: str) -> cst.ClassDef | None:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
            return stmt
    return None


def _method_names(node: cst.ClassDef) -> set[str]:
    return {stmt.name.value for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)}


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
    statement = cst.parse_statement(f"from .{base_module} import {', '.join(names)}\n")
    last_import = -1
    for index, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and any(
            isinstance(small, cst.Import | cst.ImportFrom) for small in stmt.body
        ):
            last_import = index
    return [*body[: last_import + 1], statement, *body[last_import + 1 :]]
