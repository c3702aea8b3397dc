"""Many idle streams never starve unary RPCs; the stream cap and idle timeout; reclaiming.

The 1,000 streams are held by a `grpc.aio` client (no thread per stream on the test side
either). Nothing here compares latencies: every unary call carries a generous deadline and
must simply complete, and the whole test is bounded by `asyncio.wait_for`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc import aio
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig

from .helpers import (
    DECISION,
    StreamClient,
    creds,
    envelope,
    new_session_id,
    send,
    session_start,
    settles,
)

Stub = core_pb2_grpc.MACPRuntimeServiceStub
IDLE_STREAMS = 1000
SESSIONS = 10
CHANNELS = 4
UNARY_CALLS = 100
DEADLINE_S = 20.0  # per unary call: generous, it only has to complete
TEST_BOUND_S = 120.0


async def eventually(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll a condition the runtime reaches asynchronously (bounded, not a timing check)."""
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


def proposal(session_id: str, number: int) -> core_pb2.SendRequest:
    payload = decision_pb2.ProposalPayload(proposal_id=f"p{number}", option="x")
    return core_pb2.SendRequest(envelope=envelope(DECISION, "Proposal", session_id, "alice",
                                                  payload))


async def hold_idle_streams_and_send(runtime: LocalRuntime, session_ids: list[str]) -> None:
    channels = [aio.insecure_channel(runtime.target) for _ in range(CHANNELS)]
    stubs = [Stub(channel) for channel in channels]
    calls = []
    try:
        for number in range(IDLE_STREAMS):
            call = stubs[number % CHANNELS].StreamSession(metadata=creds("lead"))
            # after_sequence=1 skips the SessionStart: nothing to replay, the stream stays idle.
            subscribe = core_pb2.StreamSessionRequest(
                subscribe_session_id=session_ids[number % SESSIONS], after_sequence=1
            )
            await call.write(subscribe)
            calls.append(call)
        assert await eventually(lambda: runtime.open_streams() == IDLE_STREAMS)

        # Unary RPCs from every channel complete while all those streams are held open.
        busy = new_session_id()
        start = session_start(DECISION, busy, "lead", ["alice"])
        ack = (await stubs[0].Send(core_pb2.SendRequest(envelope=start), metadata=creds("lead"),
                                   timeout=DEADLINE_S)).ack
        assert ack.ok, ack.error
        sends = [
            stubs[n % CHANNELS].Send(proposal(busy, n), metadata=creds("alice"),
                                     timeout=DEADLINE_S)
            for n in range(UNARY_CALLS)
        ]
        acks = [response.ack for response in await asyncio.gather(*sends)]
        assert all(a.ok and not a.duplicate for a in acks), [a.error for a in acks if not a.ok]
        init = await stubs[1].Initialize(
            core_pb2.InitializeRequest(supported_protocol_versions=["1.0"]), timeout=DEADLINE_S
        )
        assert init.selected_protocol_version == "1.0"
        assert runtime.open_streams() == IDLE_STREAMS  # nothing was dropped meanwhile

        # The idle streams are live: one envelope reaches every stream of its session.
        live = proposal(session_ids[0], 0)
        assert (await stubs[2].Send(live, metadata=creds("alice"), timeout=DEADLINE_S)).ack.ok
        watching = calls[0::SESSIONS]
        received = await asyncio.gather(
            *(asyncio.wait_for(call.read(), DEADLINE_S) for call in watching)
        )
        assert {r.envelope.message_id for r in received} == {live.envelope.message_id}

        # Half-close: each stream flushes and ends OK, and the runtime lets go of all of them.
        for call in calls:
            await call.done_writing()
        codes = await asyncio.gather(*(call.code() for call in calls))
        assert set(codes) == {grpc.StatusCode.OK}
        assert await eventually(lambda: runtime.open_streams() == 0)
        assert await eventually(lambda: runtime.bound_stream_sessions() == 0)
    finally:
        for channel in channels:
            await channel.close()


def test_a_thousand_idle_streams_do_not_starve_unary_rpcs(
    runtime: LocalRuntime, stub: Stub
) -> None:
    session_ids = []
    for _ in range(SESSIONS):
        session_id = new_session_id()
        assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
        session_ids.append(session_id)
    asyncio.run(asyncio.wait_for(hold_idle_streams_and_send(runtime, session_ids), TEST_BOUND_S))


async def abandon_streams(runtime: LocalRuntime, session_id: str, count: int) -> None:
    channel = aio.insecure_channel(runtime.target)
    calls = []
    for _ in range(count):
        call = Stub(channel).StreamSession(metadata=creds("alice"))
        await call.write(core_pb2.StreamSessionRequest(subscribe_session_id=session_id))
        calls.append(call)
    # Each stream is bound once its replay (the SessionStart) arrived.
    await asyncio.gather(*(asyncio.wait_for(call.read(), DEADLINE_S) for call in calls))
    assert runtime.open_streams() == count and runtime.bound_stream_sessions() == 1
    for call in calls:  # the clients vanish: no half-close, just cancellation
        call.cancel()
    await channel.close()
    assert await eventually(lambda: runtime.open_streams() == 0)
    assert await eventually(lambda: runtime.bound_stream_sessions() == 0)


def test_two_hundred_abandoned_streams_are_reclaimed(runtime: LocalRuntime, stub: Stub) -> None:
    session_id = new_session_id()
    assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
    asyncio.run(asyncio.wait_for(abandon_streams(runtime, session_id, 200), TEST_BOUND_S))
    # The session itself is untouched and still serves its remaining members.
    assert send(stub, proposal(session_id, 1).envelope, "alice").ok


@pytest.fixture
def capped() -> Iterator[tuple[LocalRuntime, Stub]]:
    config = RuntimeConfig(clock=ManualClock(), max_streams=3, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        yield runtime, Stub(channel)


def test_streams_beyond_the_cap_are_refused_at_once(capped: tuple[LocalRuntime, Stub]) -> None:
    runtime, stub = capped
    session_id = new_session_id()
    assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
    held = []
    for _ in range(3):
        stream = StreamClient(stub, "lead")
        stream.subscribe(session_id)
        stream.wait_for(1)
        held.append(stream)
    extra = StreamClient(stub, "lead")
    assert extra.wait_done() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert extra.final_macp_code == "RATE_LIMITED"
    watch = stub.WatchSessions(core_pb2.WatchSessionsRequest(), metadata=creds("lead"))
    with pytest.raises(grpc.RpcError) as info:
        next(watch)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Unary RPCs are not streams: they go on, and a freed slot is usable again.
    assert send(stub, proposal(session_id, 1).envelope, "alice").ok
    held[0].half_close()
    assert held[0].wait_done() == grpc.StatusCode.OK
    assert settles(lambda: runtime.open_streams() == 2)
    again = StreamClient(stub, "lead")
    again.subscribe(session_id)
    assert len(again.wait_for(2)) == 2  # SessionStart and the proposal, replayed
    for stream in (*held[1:], again):
        stream.half_close()
        assert stream.wait_done() == grpc.StatusCode.OK
    assert settles(lambda: runtime.open_streams() == 0)


def test_an_idle_stream_times_out_when_configured() -> None:
    config = RuntimeConfig(stream_idle_timeout_s=0.2, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        stub = Stub(channel)
        session_id = new_session_id()
        assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok
        idle = StreamClient(stub, "lead")
        idle.subscribe(session_id)
        assert idle.wait_done(timeout=20) == grpc.StatusCode.UNAVAILABLE
        assert [e.message_id for e in idle.envelopes()] != []  # it was served before idling
        assert "idle" in idle.final_details
        assert settles(lambda: runtime.open_streams() == 0)


def test_a_client_loop_closing_mid_call_leaves_no_noise(
    runtime: LocalRuntime, stub: Stub, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = new_session_id()
    assert send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead").ok

    async def vanish() -> None:  # cancel every call and close the loop at once
        channel = aio.insecure_channel(runtime.target)
        calls = [Stub(channel).StreamSession(metadata=creds("alice")) for _ in range(50)]
        for call in calls:
            await call.write(core_pb2.StreamSessionRequest(subscribe_session_id=session_id))
        await asyncio.gather(*(asyncio.wait_for(call.read(), DEADLINE_S) for call in calls))
        for call in calls:
            call.cancel()

    asyncio.run(asyncio.wait_for(vanish(), TEST_BOUND_S))
    assert settles(lambda: runtime.open_streams() == 0)
    assert send(stub, proposal(session_id, 1).envelope, "alice").ok  # still serving
    # grpc.aio would report each in-flight event of the closed loop (see server.py).
    assert "Event loop is closed" not in caplog.text
