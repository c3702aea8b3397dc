"""Dispatch order and terminal detection, fed by `process_event` (no transport)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import Dispatcher, IncomingMessage, TerminalResult
from macp_sdk.envelope import build_commitment_payload, build_envelope, build_session_start_payload
from macp_sdk.modes.task import build_accept_task, build_request_task
from macp_sdk.participants.task import TaskParticipant

SID = "s" * 22
MODE = "macp.mode.task.v1"


@pytest.fixture
def alice() -> Iterator[TaskParticipant]:
    # Never connects: process_event feeds envelopes directly.
    client = MacpClient(target="127.0.0.1:1", secure=False, auth=AuthConfig.for_dev_agent("a"))
    yield TaskParticipant(participant_id="alice", session_id=SID, client=client)
    client.close()


def _start() -> object:
    payload = build_session_start_payload(intent="i", participants=["lead", "alice"], ttl_ms=1000)
    return build_envelope(
        mode=MODE, message_type="SessionStart", session_id=SID, sender="lead", payload=payload
    )


def _commit() -> object:
    payload = build_commitment_payload(action="task.done", authority_scope="s", reason="r")
    return build_envelope(
        mode=MODE, message_type="Commitment", session_id=SID, sender="lead", payload=payload
    )


def test_order_typed_records_phases_and_one_terminal(alice: TaskParticipant) -> None:
    calls: list[str] = []
    ended: list[TerminalResult] = []
    alice.on("*", lambda m, ctx: calls.append(f"*:{m.message_type}"))
    alice.on_task_request(lambda r, ctx: calls.append(f"typed:{r.title}:{r.requested_assignee}"))
    alice.on("TaskRequest", lambda m, ctx: calls.append(f"plain:{m.payload['task_id']}"))
    alice.on_phase_change("*", lambda phase, ctx: calls.append(f"phase:{phase}"))
    alice.on_task_accept(
        lambda r, ctx: calls.append(f"accepted-by:{ctx.projection.active_assignee}")
    )
    alice.on_terminal(ended.append)

    alice.process_event(_start())
    request = build_request_task(
        session_id=SID, sender="lead", task_id="t1", title="sum", requested_assignee="alice"
    )
    alice.process_event(request)
    alice.process_event(build_accept_task(session_id=SID, sender="alice", task_id="t1"))
    alice.process_event(_commit())
    alice.process_event(_commit())  # still dispatched, but the end is reported once

    assert calls[:4] == [
        "*:SessionStart",
        "typed:sum:alice",
        "plain:t1",
        "*:TaskRequest",
    ]
    assert "accepted-by:alice" in calls
    assert calls[-3:] == ["*:Commitment", "phase:Committed", "*:Commitment"]
    assert [r.state for r in ended] == ["Committed"]
    assert ended[0].commitment is not None and ended[0].commitment.action == "task.done"
    assert alice.is_stopped


def test_dispatcher_registries() -> None:
    dispatcher = Dispatcher()
    order: list[str] = []
    dispatcher.on("*", lambda m, ctx: order.append("wild"))
    dispatcher.on("Vote", lambda m, ctx: order.append("vote"))
    dispatcher.on_phase_change("Voting", lambda p, ctx: order.append("phase"))
    dispatcher.on_terminal(lambda r: order.append(r.state))
    message = IncomingMessage(message_type="Vote", sender="a", payload={})
    dispatcher.dispatch(message, None)  # type: ignore[arg-type]
    dispatcher.dispatch_phase_change("Voting", None)  # type: ignore[arg-type]
    dispatcher.dispatch_terminal(TerminalResult("Committed"))
    assert order == ["vote", "wild", "phase", "Committed"]
    assert dispatcher.registered_message_types == ["Vote"]
    assert dispatcher.registered_phases == ["Voting"] and dispatcher.has_terminal_handler
