"""Prints the public API of `macp_sdk.agent` (and its submodules) of whichever macp_sdk this
interpreter imports, as JSON: name -> parameter names of it (a class: of its constructor and
of each public method). Run by test_anchor_parity.py under 0.22.0 and under this SDK."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

MODULES = [
    "macp_sdk.agent",
    "macp_sdk.agent.cancel_callback",
    "macp_sdk.agent.dispatcher",
    "macp_sdk.agent.participant",
    "macp_sdk.agent.runner",
    "macp_sdk.agent.strategies",
    "macp_sdk.agent.transports",
    "macp_sdk.agent.types",
]


def _params(obj: Any) -> list[str] | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p.name for p in signature.parameters.values() if p.name != "self"]


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj):
        members = {
            name: _params(member)
            for name, member in inspect.getmembers(obj)
            if not name.startswith("_") and callable(member)
        }
        return {"kind": "class", "init": _params(obj), "methods": members}
    if callable(obj):
        return {"kind": "callable", "params": _params(obj)}
    return {"kind": "value"}


def main() -> None:
    api: dict[str, dict[str, Any]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        # Without __all__: the classes and functions the module defines (not its imports).
        public = getattr(module, "__all__", None) or [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == name
        ]
        api[name] = {n: _describe(getattr(module, n)) for n in public}
    print(json.dumps(api, sort_keys=True))


if __name__ == "__main__":
    main()
