"""What every compat driver shares: the runtime to talk to, and running and reporting flows.

A driver is a list of flows, each a function taking the runtime's target (``host:port``).
A flow passes when it returns; it fails on any exception, including an ImportError of a name
our SDK lacks, so every flow is counted even when the client cannot be imported at all.
Results are printed as ``compat-result {json}`` lines that compat/run.py reads.

The runtime: ``MACP_COMPAT_TARGET`` when the runner started one (reference runs on the
anchor, which has no embedded runtime), else ``macp_sdk.local_runtime.LocalRuntime`` in
process, which is part of the SDK under test.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Flow = Callable[[str], None]
FLOW_TIMEOUT_S = 120.0


def report(flow: str, ok: bool, detail: str = "") -> None:
    line = json.dumps({"flow": flow, "ok": ok, "detail": detail})
    print(f"compat-result {line}", flush=True)


@contextmanager
def runtime() -> Iterator[str]:
    target = os.environ.get("MACP_COMPAT_TARGET")
    if target:
        yield target
        return
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as rt:
        yield rt.target


def _describe(error: BaseException) -> str:
    lines = traceback.format_exception(error)
    return "".join(lines[-12:])


class _Anomalies(logging.Handler):
    """Projection-anomaly warnings the SDK logs while a flow runs.

    0.22.0 logs none in these flows; a client's users see each one on stderr (macp-mcp serves
    over stdio, so its log is all they have), so an SDK that logs them fails the flow.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "projection anomaly" in message:
            self.messages.append(message)


def _run_one(flow: Flow, target: str) -> str | None:
    """None when the flow passed, else what went wrong."""
    outcome: list[str | None] = []
    anomalies = _Anomalies()
    sdk_logger = logging.getLogger("macp_sdk")
    sdk_logger.addHandler(anomalies)

    def body() -> None:
        try:
            flow(target)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - every failure is a result
            outcome.append(_describe(error))

    worker = threading.Thread(target=body, name=flow.__name__, daemon=True)
    worker.start()
    worker.join(FLOW_TIMEOUT_S)
    sdk_logger.removeHandler(anomalies)
    if not outcome:
        return f"flow did not finish within {FLOW_TIMEOUT_S:.0f} s"
    if outcome[0] is None and anomalies.messages:
        count = len(anomalies.messages)
        return (
            f"AnomalyWarning: the SDK logged {count} projection-anomaly warning(s) during a "
            f"valid flow, first: {anomalies.messages[0]}"
        )
    return outcome[0]


def main(flows: Sequence[Flow]) -> int:
    try:
        context = runtime()
        target = context.__enter__()
    except BaseException as error:  # noqa: BLE001 - no runtime: every flow fails with why
        for flow in flows:
            report(flow.__name__, False, f"no runtime: {_describe(error)}")
        return 1
    failed = 0
    try:
        for flow in flows:
            problem = _run_one(flow, target)
            failed += problem is not None
            report(flow.__name__, problem is None, problem or "")
    finally:
        context.__exit__(None, None, None)
    return 1 if failed else 0


def check(condition: bool, message: str, *details: Any) -> None:
    """Assert that survives ``python -O`` and says what was seen."""
    if not condition:
        raise AssertionError(f"{message}: {details!r}" if details else message)


def exit_with(flows: Sequence[Flow]) -> None:
    sys.exit(main(flows))
