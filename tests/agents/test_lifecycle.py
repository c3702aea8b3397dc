"""Expiry is not delivered on a session stream: a quiet participant learns it from the
runtime (GetSession) and ends with `Expired`, in both flavours."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from macp_sdk import AsyncMacpClient, AuthConfig, MacpClient
from macp_sdk.agent import InitiatorConfig, TerminalResult
from macp_sdk.envelope import new_session_id
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig
from macp_sdk.participants.quorum import AsyncQuorumParticipant, QuorumParticipant

from .helpers import JOIN_BOUND, no_threads_left_behind

PAIR = ["lead", "alice"]
TTL_MS = 60_000


@pytest.fixture
def clocked() -> Iterator[tuple[LocalRuntime, ManualClock]]:
    """Terminal sessions are kept long enough for the participant to read their state."""
    clock = ManualClock()
    config = RuntimeConfig(clock=clock, sweep_interval_s=None, session_retention_ms=10**12)
    with LocalRuntime(config) as runtime:
        yield runtime, clock


def _past_the_deadline(clock: ManualClock) -> None:
    # The runtime anchors the TTL on the SessionStart's own (wall-clock) timestamp.
    clock.set(int(time.time() * 1000) + TTL_MS + 60_000)


def _config() -> InitiatorConfig:
    return InitiatorConfig(intent="wait", participants=PAIR, ttl_ms=TTL_MS)


def test_an_expired_session_ends_a_quiet_participant(
    clocked: tuple[LocalRuntime, ManualClock],
) -> None:
    runtime, clock = clocked
    sid = new_session_id()
    auth = AuthConfig.for_dev_agent("lead")
    ended: list[TerminalResult] = []
    with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
        lead = QuorumParticipant(
            participant_id="lead",
            session_id=sid,
            client=client,
            initiator_config=_config(),
            session_check_interval=0.05,
        )
        started = threading.Event()
        lead.on("SessionStart", lambda m, ctx: started.set()).on_terminal(ended.append)
        with no_threads_left_behind():
            thread = threading.Thread(target=lead.run, name="agent-lead")
            thread.start()
            assert started.wait(JOIN_BOUND)
            _past_the_deadline(clock)
            runtime.sweep()
            thread.join(JOIN_BOUND)
            assert not thread.is_alive()
    assert [r.state for r in ended] == ["Expired"]


def test_an_expired_session_ends_a_quiet_asyncio_participant(
    clocked: tuple[LocalRuntime, ManualClock],
) -> None:
    runtime, clock = clocked

    async def scenario() -> list[TerminalResult]:
        ended: list[TerminalResult] = []
        auth = AuthConfig.for_dev_agent("lead")
        async with AsyncMacpClient(target=runtime.target, secure=False, auth=auth) as client:
            lead = AsyncQuorumParticipant(
                participant_id="lead",
                session_id=new_session_id(),
                client=client,
                initiator_config=_config(),
                session_check_interval=0.05,
            )
            started = asyncio.Event()
            lead.on("SessionStart", lambda m, ctx: started.set()).on_terminal(ended.append)
            task = asyncio.create_task(lead.run())
            await asyncio.wait_for(started.wait(), JOIN_BOUND)
            _past_the_deadline(clock)
            runtime.sweep()
            await asyncio.wait_for(task, JOIN_BOUND)
        return ended

    with no_threads_left_behind():
        assert [r.state for r in asyncio.run(scenario())] == ["Expired"]


def test_a_session_evicted_before_the_participant_looked_ends_it_too() -> None:
    """Expired and evicted in one sweep: GetSession says NOT_FOUND for a session the
    participant saw; it ends (`Ended`) instead of waiting forever."""
    clock = ManualClock()
    config = RuntimeConfig(clock=clock, sweep_interval_s=None, session_retention_ms=1)
    ended: list[TerminalResult] = []
    with (
        LocalRuntime(config) as runtime,
        MacpClient(
            target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent("lead")
        ) as client,
    ):
        lead = QuorumParticipant(
            participant_id="lead",
            session_id=new_session_id(),
            client=client,
            initiator_config=_config(),
            session_check_interval=0.05,
        )
        started = threading.Event()
        lead.on("SessionStart", lambda m, ctx: started.set()).on_terminal(ended.append)
        thread = threading.Thread(target=lead.run, name="agent-lead")
        thread.start()
        assert started.wait(JOIN_BOUND)
        _past_the_deadline(clock)
        assert runtime.sweep().evicted == 1
        thread.join(JOIN_BOUND)
        assert not thread.is_alive()
    assert [r.state for r in ended] == ["Ended"]
