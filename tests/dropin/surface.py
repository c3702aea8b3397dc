"""Dumps a public API as JSON; run by each SDK's own python (see test_public_api.py).

stdin: {"modules": [...]} to discover 0.22.0's public names, or {"names": {module: [name]}}
to describe given names. stdout: {module: {"missing": bool, "names": {name: description}}}.
A description is {"kind", "params", "members"}: params as [name, kind, has_default].
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import sys
import types
from typing import Any

_CONSTANT_TYPES = (int, float, str, bytes, bool, frozenset, tuple, dict, list, type(None))


def _params(obj: Any) -> list[list[Any]] | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, p.default is not inspect.Parameter.empty]
        for p in signature.parameters.values()
    ]


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj):
        members: dict[str, Any] = {}
        for name, value in inspect.getmembers(obj):
            if name.startswith("_"):
                continue
            raw = inspect.getattr_static(obj, name, None)
            if isinstance(raw, property):
                members[name] = {"kind": "property", "params": None}
            elif callable(value):
                members[name] = {"kind": "method", "params": _params(value)}
            else:
                members[name] = {"kind": "attribute", "params": None}
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                if not f.name.startswith("_"):
                    members.setdefault(f.name, {"kind": "attribute", "params": None})
        init = _params(obj)
        return {"kind": "class", "params": init, "members": members}
    if callable(obj):
        return {"kind": "function", "params": _params(obj), "members": {}}
    return {"kind": "constant", "params": None, "members": {}}


def _public_names(module: types.ModuleType) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return list(declared)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        # Without __all__: what the module defines (not what it imports) and its constants.
        if getattr(value, "__module__", None) == module.__name__:
            names.append(name)
        elif isinstance(value, _CONSTANT_TYPES) and name.isupper():
            names.append(name)
    return names


def main() -> None:
    request = json.load(sys.stdin)
    wanted: dict[str, list[str] | None] = request.get("names") or dict.fromkeys(request["modules"])
    out: dict[str, Any] = {}
    for module_name, names in wanted.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            out[module_name] = {"missing": True, "names": {}}
            continue
        described = {}
        for name in names if names is not None else _public_names(module):
            if hasattr(module, name):
                described[name] = _describe(getattr(module, name))
        out[module_name] = {"missing": False, "names": described}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
