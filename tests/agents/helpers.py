"""Helpers for the agent tests: build participants, run them in threads, check threads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import InitiatorConfig, Participant, TerminalResult

# Bounds, not measurements: a healthy run finishes far sooner; a hung one fails here.
JOIN_BOUND = 20.0
AGENT_THREADS = ("macp-stream-pump", "macp-cancel-callback", "agent-")


def make(
    participant_class: type[Any],
    name: str,
    session_id: str,
    clients: dict[str, MacpClient],
    members: list[str],
    *,
    initiator: InitiatorConfig | None = None,
    **options: Any,
) -> Any:
    participant = participant_class(
        participant_id=name,
        session_id=session_id,
        client=clients[name],
        auth=AuthConfig.for_dev_agent(name),
        participants=members,
        initiator_config=initiator,
        **options,
    )
    return participant


def run_in_threads(participants: list[Participant]) -> dict[str, TerminalResult]:
    """Runs each participant in its own thread (initiator last) until all have ended."""
    results: dict[str, TerminalResult] = {}
    errors: list[BaseException] = []
    threads = []
    for p in participants:
        p.on_terminal(lambda result, name=p.participant_id: results.__setitem__(name, result))

        def body(p: Participant = p) -> None:
            try:
                p.run()
            except BaseException as exc:  # surfaced below
                errors.append(exc)
                for other in participants:
                    other.stop()

        threads.append(threading.Thread(target=body, name=f"agent-{p.participant_id}"))
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_BOUND)
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        for p in participants:
            p.stop()
    assert not errors, errors
    assert not alive, f"still running: {alive}"
    return results


def leftover_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(AGENT_THREADS)]


@contextlib.contextmanager
def no_threads_left_behind() -> Iterator[None]:
    before = set(leftover_threads())
    yield
    left = [name for name in leftover_threads() if name not in before]
    assert not left, f"threads left behind: {left}"
