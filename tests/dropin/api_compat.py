"""Compares two public-API dumps (surface.py): is ours a drop-in for 0.22.0's?"""

from __future__ import annotations

from typing import Any

_POSITIONAL = {"POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD"}
_KEYWORD = {"POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"}


def call_problems(theirs: list[list[Any]], ours: list[list[Any]]) -> list[str]:
    """What a call valid against ``theirs`` could not do against ``ours``."""
    if any(p[1] in {"VAR_POSITIONAL", "VAR_KEYWORD"} for p in theirs):
        return []  # a pass-through (e.g. 0.22.0's deprecated aliases): nothing to hold ours to
    problems = []
    positional = [p for p in ours if p[1] in _POSITIONAL]
    by_name = {p[0]: p for p in ours}
    var_args = any(p[1] == "VAR_POSITIONAL" for p in ours)
    var_kwargs = any(p[1] == "VAR_KEYWORD" for p in ours)
    index = 0
    for name, kind, _ in theirs:
        if kind in _POSITIONAL:
            if index >= len(positional) and not var_args:
                problems.append(f"takes no positional argument {index + 1} ({name})")
            index += 1
        if kind in _KEYWORD:
            mine = by_name.get(name)
            if (mine is None or mine[1] not in _KEYWORD) and not var_kwargs:
                problems.append(f"takes no keyword {name}=")
    theirs_names = {p[0] for p in theirs}
    for name, kind, has_default in ours:
        if has_default or kind in {"VAR_POSITIONAL", "VAR_KEYWORD"}:
            continue
        if name not in theirs_names:
            problems.append(f"requires {name}, which 0.22.0 did not")
    return problems


def _kind_problem(theirs: dict[str, Any], ours: dict[str, Any]) -> str | None:
    if theirs["kind"] == ours["kind"]:
        return None
    callable_kinds = {"class", "function"}
    if theirs["kind"] in callable_kinds and ours["kind"] in callable_kinds:
        return None  # called the same way
    return f"is a {ours['kind']}, 0.22.0's is a {theirs['kind']}"


def compare(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, str]:
    """{"module:name[.member]": problem} for every incompatibility."""
    found: dict[str, str] = {}
    for module, side in theirs.items():
        mine = ours.get(module, {"missing": True, "names": {}})
        if side["missing"]:
            continue
        if mine["missing"]:
            found[module] = "module missing"
            continue
        for name, description in side["names"].items():
            where = f"{module}:{name}"
            other = mine["names"].get(name)
            if other is None:
                found[where] = "missing"
                continue
            problem = _kind_problem(description, other)
            if problem:
                found[where] = problem
                continue
            if description["params"] is not None and other["params"] is not None:
                for problem in call_problems(description["params"], other["params"]):
                    found.setdefault(where, problem)
            for member, info in description["members"].items():
                at = f"{where}.{member}"
                own = other["members"].get(member)
                if own is None:
                    found[at] = "missing"
                elif info["kind"] == "method" and own["kind"] == "method":
                    if info["params"] is not None and own["params"] is not None:
                        for problem in call_problems(info["params"], own["params"]):
                            found.setdefault(at, problem)
    return found
