"""Runs one example program; run by either SDK's own python (see test_anchor_examples.py).

argv: the program file. The program may use top-level ``await`` / ``async with`` (0.22.0's
async docstring examples are written that way): it is compiled with
PyCF_ALLOW_TOP_LEVEL_AWAIT and, if that makes it a coroutine, run with ``asyncio.run``. The
program reports what it observed with ``report(**facts)``; the last stdout line is
``FACTS {json}``. Any exception propagates (non-zero exit, traceback on stderr).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import sys
from typing import Any

_facts: dict[str, Any] = {}


def report(**facts: Any) -> None:
    _facts.update(facts)


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        source = f.read()
    code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__main__", "report": report}
    result = eval(code, namespace)  # noqa: S307 - the program is the example under test
    if inspect.iscoroutine(result):
        asyncio.run(result)
    print("FACTS " + json.dumps(_facts, sort_keys=True), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
