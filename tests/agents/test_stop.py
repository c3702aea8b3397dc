"""stop() and cancel wake a participant wherever it waits, and leave no thread behind."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from macp_sdk import AsyncMacpClient, AuthConfig, MacpClient
from macp_sdk.agent import GrpcTransportAdapter, InitiatorConfig, Participant
from macp_sdk.local_runtime import LocalRuntime
from macp_sdk.participants.decision import AsyncDecisionParticipant, DecisionParticipant
from macp_sdk.retry import RetryPolicy

from .helpers import JOIN_BOUND, make, no_threads_left_behind

# A backoff this long makes an uninterruptible wait fail the bounded joins below.
SLOW_RETRY = RetryPolicy(max_retries=5, backoff_base=120.0, backoff_max=120.0, jitter=False)
MEMBERS = ["lead", "alice"]


def _wait_until(condition: Callable[[], bool], event: threading.Event) -> None:
    for _ in range(int(JOIN_BOUND / 0.01)):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("condition never held")


def test_stop_wakes_a_participant_waiting_on_a_quiet_session(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    lead = make(
        DecisionParticipant,
        "lead",
        session_id,
        clients,
        MEMBERS,
        initiator=InitiatorConfig(intent="idle", participants=MEMBERS, ttl_ms=60_000),
        session_check_interval=None,  # no periodic wake-up: only stop() can end the read
    )
    started = threading.Event()
    lead.on("SessionStart", lambda m, ctx: started.set())
    with no_threads_left_behind():
        thread = threading.Thread(target=lead.run, name="agent-lead")
        thread.start()
        assert started.wait(JOIN_BOUND)
        lead.stop()  # from another thread
        thread.join(JOIN_BOUND)
        assert not thread.is_alive()
    assert lead.is_stopped and lead.terminal_result is None


def test_stop_interrupts_the_subscribe_retry_backoff(
    runtime: LocalRuntime, session_id: str, clients: dict[str, MacpClient]
) -> None:
    """The session never starts: the transport sits in its NOT_FOUND backoff (120 s)."""
    transport = GrpcTransportAdapter(clients["alice"], session_id, subscribe_retry=SLOW_RETRY)
    alice = make(DecisionParticipant, "alice", session_id, clients, MEMBERS, transport=transport)
    with no_threads_left_behind():
        thread = threading.Thread(target=alice.run, name="agent-alice")
        thread.start()
        _wait_until(lambda: transport.retrying, threading.Event())
        assert transport.subscribe_attempts == 1
        alice.stop()
        thread.join(JOIN_BOUND)
        assert not thread.is_alive()
    assert transport.stopped


def test_run_is_not_reentrant_and_a_stopped_participant_does_not_run_again(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    alice = make(
        Participant,
        "alice",
        session_id,
        clients,
        MEMBERS,
        mode="macp.mode.decision.v1",
        transport=GrpcTransportAdapter(clients["alice"], session_id, subscribe_retry=SLOW_RETRY),
    )
    thread = threading.Thread(target=alice.run, name="agent-alice")
    thread.start()
    try:
        _wait_until(lambda: alice._run_lock.locked(), threading.Event())
        try:
            alice.run()
        except Exception as exc:
            assert "already executing" in str(exc)
        else:
            raise AssertionError("a second concurrent run() must raise")
    finally:
        alice.stop()
        thread.join(JOIN_BOUND)
    assert not thread.is_alive()
    alice.run()  # returns at once: the participant is stopped


def test_asyncio_participant_stops_from_another_thread(
    runtime: LocalRuntime, session_id: str
) -> None:
    async def scenario() -> bool:
        auth = AuthConfig.for_dev_agent("lead")
        async with AsyncMacpClient(target=runtime.target, secure=False, auth=auth) as client:
            lead = AsyncDecisionParticipant(
                participant_id="lead",
                session_id=session_id,
                client=client,
                auth=auth,
                initiator_config=InitiatorConfig(
                    intent="idle", participants=MEMBERS, ttl_ms=60_000
                ),
                session_check_interval=None,
            )
            started = asyncio.Event()
            lead.on("SessionStart", lambda m, ctx: started.set())
            task = asyncio.create_task(lead.run())
            await asyncio.wait_for(started.wait(), JOIN_BOUND)
            stopper = threading.Thread(target=lead.stop, name="agent-stopper")
            stopper.start()
            stopper.join(JOIN_BOUND)
            await asyncio.wait_for(task, JOIN_BOUND)
            return lead.is_stopped

    with no_threads_left_behind():
        assert asyncio.run(scenario())
