"""Faults: a client vanishing mid-stream, garbage on a stream, an oversized payload.

Throughout, a healthy session keeps running with its own stream; it must lose nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig

from .helpers import DECISION, StreamClient, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
LIMIT = 4_096


@pytest.fixture
def small_runtime(clock: ManualClock) -> Iterator[LocalRuntime]:
    config = RuntimeConfig(clock=clock, max_payload_bytes=LIMIT, sweep_interval_s=None)
    with LocalRuntime(config) as runtime:
        yield runtime


@pytest.fixture
def small_stub(small_runtime: LocalRuntime) -> Iterator[Stub]:
    with grpc.insecure_channel(small_runtime.target) as channel:
        yield core_pb2_grpc.MACPRuntimeServiceStub(channel)


class Healthy:
    """A session that keeps accepting proposals, observed by a passive stream."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.session_id = new_session_id()
        start = session_start(DECISION, self.session_id, "lead", ["alice"])
        assert send(stub, start, "lead").ok
        self.accepted = [start.message_id]
        self.observer = StreamClient(stub, "alice")
        self.observer.subscribe(self.session_id)
        self.count = 0

    def propose(self) -> None:
        self.count += 1
        payload = decision_pb2.ProposalPayload(proposal_id=f"p{self.count}", option="x")
        env = envelope(DECISION, "Proposal", self.session_id, "alice", payload)
        assert send(self.stub, env, "alice").ok
        self.accepted.append(env.message_id)

    def check(self) -> None:
        self.observer.wait_for(len(self.accepted))
        self.observer.half_close()
        assert self.observer.wait_done() == grpc.StatusCode.OK
        assert [e.message_id for e in self.observer.envelopes()] == self.accepted


def test_client_disconnect_mid_stream(small_runtime: LocalRuntime, small_stub: Stub) -> None:
    healthy = Healthy(small_stub)
    victim = Healthy(small_stub)
    healthy.propose()
    victim.observer.wait_for(1)
    victim.observer.cancel()  # the client vanishes without half-closing
    assert victim.observer.wait_done() == grpc.StatusCode.CANCELLED
    victim.propose()  # broadcasting to a dead stream must not disturb anyone
    healthy.propose()
    healthy.check()
    assert small_runtime.bound_stream_sessions() == 0


def test_garbage_on_streams(small_stub: Stub) -> None:
    healthy = Healthy(small_stub)
    # A stream sending invalid envelopes gets inline errors and stays open.
    noisy = StreamClient(small_stub, "alice")
    bad_version = envelope(DECISION, "Proposal", healthy.session_id, "alice",
                           decision_pb2.ProposalPayload(proposal_id="px", option="x"))
    bad_version.macp_version = "9.9"
    noisy.send(bad_version)
    undecodable = envelope(DECISION, "Proposal", healthy.session_id, "alice", b"\xff\xff\xff")
    noisy.send(undecodable)
    errors = noisy.wait_for(2)
    assert [r.error.code for r in errors] == ["InvalidMacpVersion", "InvalidPayload"]
    assert all(r.error.message_id == "" for r in errors)
    healthy.propose()  # bound by its first (rejected) envelope, the noisy stream sees this
    noisy.wait_for(3)
    assert noisy.envelopes()[-1].message_id == healthy.accepted[-1]
    # Frames that break the stream contract end that stream only.
    both = core_pb2.StreamSessionRequest(envelope=bad_version,
                                         subscribe_session_id=healthy.session_id)
    noisy.send_frame(both)
    assert noisy.wait_done() == grpc.StatusCode.INVALID_ARGUMENT
    unknown = StreamClient(small_stub, "alice")
    unknown.subscribe(new_session_id())
    assert unknown.wait_done() == grpc.StatusCode.NOT_FOUND
    outsider = StreamClient(small_stub, "eve")
    outsider.subscribe(healthy.session_id)
    (denied,) = outsider.wait_for(1)
    assert denied.error.code.startswith("FORBIDDEN")
    healthy.propose()
    healthy.check()
    outsider.half_close()
    assert outsider.envelopes() == []  # an unauthorized subscribe stays unbound
    assert outsider.wait_done() == grpc.StatusCode.OK


def test_payload_over_the_size_limit(small_stub: Stub) -> None:
    healthy = Healthy(small_stub)
    big = decision_pb2.ProposalPayload(proposal_id="big", option="x", rationale="y" * LIMIT)
    env = envelope(DECISION, "Proposal", healthy.session_id, "alice", big)
    ack = send(small_stub, env, "alice")
    assert (ack.ok, ack.error.code) == (False, "PAYLOAD_TOO_LARGE")
    streamed = StreamClient(small_stub, "alice")
    streamed.send(env)
    assert streamed.wait_done() == grpc.StatusCode.RESOURCE_EXHAUSTED
    healthy.propose()
    healthy.check()
    status = small_stub.GetSession(
        core_pb2.GetSessionRequest(session_id=healthy.session_id),
        metadata=(("authorization", "Bearer lead"),),
    ).metadata
    assert status.state == envelope_pb2.SESSION_STATE_OPEN


def test_server_stop_ends_open_streams_promptly(clock: ManualClock) -> None:
    runtime = LocalRuntime(RuntimeConfig(clock=clock, sweep_interval_s=0.05)).start()
    channel = grpc.insecure_channel(runtime.target)
    stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
    healthy = Healthy(stub)
    watcher = stub.WatchSessions(core_pb2.WatchSessionsRequest(),
                                 metadata=(("authorization", "Bearer lead"),))
    assert next(watcher).event.session.session_id == healthy.session_id
    runtime.stop(grace_s=0.5)
    assert healthy.observer.wait_done(timeout=10) is not None
    try:  # the watcher ends (cleanly or with a status) instead of hanging
        leftovers = list(watcher)
    except grpc.RpcError:
        leftovers = []
    assert leftovers == []
    channel.close()
