"""The subscription survives a dropped stream: the transport resubscribes after its resume
cursor, so the participant gets every envelope exactly once.

The embedded runtime never drops a healthy stream, so this runs on the core tests' scripted
gRPC runtime (tests/core/fake_runtime.py, real gRPC on loopback), which can fail one stream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest
from core.fake_runtime import RunningRuntime, start_runtime
from macp_sdk import AuthConfig, DecisionSession, MacpClient
from macp_sdk.agent import GrpcTransportAdapter
from macp_sdk.envelope import new_session_id
from macp_sdk.participants.decision import DecisionParticipant

from .helpers import JOIN_BOUND, no_threads_left_behind


@pytest.fixture
def scripted() -> Iterator[RunningRuntime]:
    running = start_runtime()
    yield running
    running.stop()


def _until(condition: object) -> None:
    wait = threading.Event()
    for _ in range(int(JOIN_BOUND / 0.01)):
        if callable(condition) and condition():
            return
        wait.wait(0.01)
    raise AssertionError("condition never held")


def test_a_dropped_stream_is_resumed_after_the_last_delivered_envelope(
    scripted: RunningRuntime,
) -> None:
    sid = new_session_id()
    lead_auth, alice_auth = AuthConfig.for_dev_agent("lead"), AuthConfig.for_dev_agent("alice")
    with (
        MacpClient(target=scripted.target, secure=False, auth=lead_auth) as lead_client,
        MacpClient(target=scripted.target, secure=False, auth=alice_auth) as alice_client,
    ):
        lead = DecisionSession(lead_client, session_id=sid)
        lead.start(intent="i", participants=["lead", "alice"], ttl_ms=60_000)
        lead.propose("p1", "a")
        transport = GrpcTransportAdapter(alice_client, sid, session_check_interval=None)
        alice = DecisionParticipant(
            participant_id="alice", session_id=sid, client=alice_client, transport=transport
        )
        seen: list[str] = []
        alice.on("*", lambda m, ctx: seen.append(m.message_type))
        with no_threads_left_behind():
            thread = threading.Thread(target=alice.run, name="agent-alice")
            thread.start()
            _until(lambda: len(seen) == 2)
            with scripted.runtime.lock:
                streams = [out for out, bound in scripted.runtime.streams.values() if bound]
            assert len(streams) == 1
            streams[0].put(grpc.StatusCode.UNAVAILABLE)  # the runtime drops alice's stream
            _until(lambda: transport.subscribe_attempts == 2)
            lead.vote("p1", "approve", sender="lead")
            lead.commit(action="decision.approved", authority_scope="r", reason="ok")
            thread.join(JOIN_BOUND)
            assert not thread.is_alive()
    assert seen == ["SessionStart", "Proposal", "Vote", "Commitment"]
    # Counted after the handler returns (0.22.0's rule); the Commitment ended the loop first.
    assert transport.last_sequence == 3 and transport.subscribe_attempts == 2
    assert alice.terminal_result is not None and alice.terminal_result.state == "Committed"
