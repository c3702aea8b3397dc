"""Load: 50 concurrent sessions driven from several client threads over gRPC.

Every session has a passive subscriber (replay from 0, then live) and a stream bound by the
participant's own first envelope. Each stream must see each accepted envelope of its session
exactly once and in acceptance order; after the sessions end and retention passes, nothing
is left in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
from macp_sdk.local_runtime import LocalRuntime, ManualClock

from .helpers import (
    DECISION,
    StreamClient,
    commitment,
    creds,
    envelope,
    new_session_id,
    send,
    session_start,
    settles,
)

SESSIONS = 50
CLIENT_THREADS = 5
Stub = core_pb2_grpc.MACPRuntimeServiceStub


class SessionDriver:
    """One session's script; each `next()` performs one step, so threads can interleave."""

    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.session_id = new_session_id()
        self.accepted: list[str] = []  # message ids in acceptance order
        self.passive: StreamClient | None = None
        self.active: StreamClient | None = None

    def _send(self, env: envelope_pb2.Envelope, sender: str, expect_ok: bool = True) -> None:
        ack = send(self.stub, env, sender)
        assert ack.ok == expect_ok, ack.error
        if ack.ok and not ack.duplicate:
            self.accepted.append(env.message_id)

    def _on_stream(self, env: envelope_pb2.Envelope) -> None:
        # A stream gives no ack: the echo on the sender's own stream is the acceptance.
        assert self.active is not None
        before = len(self.active.responses)
        self.active.send(env)
        responses = self.active.wait_for(before + 1)
        assert responses[-1].envelope.message_id == env.message_id, responses[-1]
        self.accepted.append(env.message_id)

    def steps(self) -> Iterator[None]:
        sid = self.session_id
        self._send(session_start(DECISION, sid, "lead", ["alice", "bob"]), "lead")
        yield
        self.passive = StreamClient(self.stub, "alice")
        self.passive.subscribe(sid, after_sequence=0)
        yield
        proposal = decision_pb2.ProposalPayload(proposal_id="p1", option="ship")
        self._send(envelope(DECISION, "Proposal", sid, "alice", proposal), "alice")
        yield
        self.active = StreamClient(self.stub, "bob")
        evaluation = decision_pb2.EvaluationPayload(
            proposal_id="p1", recommendation="APPROVE", confidence=0.9
        )
        self._on_stream(envelope(DECISION, "Evaluation", sid, "bob", evaluation))
        yield
        vote = envelope(DECISION, "Vote", sid, "alice",
                        decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE"))
        self._send(vote, "alice")
        self._send(vote, "alice")  # duplicate: acked, never echoed again
        outsider = envelope(DECISION, "Vote", sid, "eve",
                            decision_pb2.VotePayload(proposal_id="p1", vote="REJECT"))
        self._send(outsider, "eve", expect_ok=False)
        yield
        self._on_stream(envelope(DECISION, "Vote", sid, "bob",
                                 decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE")))
        yield
        self._send(envelope(DECISION, "Commitment", sid, "lead",
                            commitment("decision.selected", True)), "lead")

    def verify(self) -> None:
        assert self.passive is not None and self.active is not None
        for stream in (self.passive, self.active):
            stream.half_close()
            assert stream.wait_done() == grpc.StatusCode.OK
        passive_ids = [e.message_id for e in self.passive.envelopes()]
        active_ids = [e.message_id for e in self.active.envelopes()]
        assert passive_ids == self.accepted  # full history, exactly once, in order
        # The bound stream sees everything from its own first envelope on.
        assert active_ids == self.accepted[self.accepted.index(active_ids[0]):]
        assert len(active_ids) == 4
        assert not self.passive.errors() and not self.active.errors()


def drive(drivers: list[SessionDriver], failures: list[BaseException]) -> None:
    try:
        pending = [d.steps() for d in drivers]
        while pending:  # round-robin: all of this thread's sessions are open at once
            pending = [steps for steps in pending if next(steps, StopIteration) is None]
    except BaseException as error:  # noqa: BLE001 - reported by the main thread
        failures.append(error)


def test_fifty_concurrent_sessions(runtime: LocalRuntime, clock: ManualClock) -> None:
    with grpc.insecure_channel(runtime.target) as channel:
        stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        drivers = [SessionDriver(stub) for _ in range(SESSIONS)]
        failures: list[BaseException] = []
        threads = [
            threading.Thread(target=drive, args=(drivers[i::CLIENT_THREADS], failures))
            for i in range(CLIENT_THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "load drivers hung"
        if failures:
            raise failures[0]
        for driver in drivers:
            driver.verify()

        listed = stub.ListSessions(core_pb2.ListSessionsRequest(), metadata=creds("lead"))
        assert len(listed.sessions) == SESSIONS
        assert {s.state for s in listed.sessions} == {envelope_pb2.SESSION_STATE_RESOLVED}
        # Accepted non-start messages are counted per participant.
        first = listed.sessions[0]
        activity = {a.participant_id: a.message_count for a in first.participant_activity}
        assert activity == {"alice": 2, "bob": 2, "lead": 1}

    # Nothing leaks: streams unbound, and ended sessions go once retention has passed.
    assert runtime.bound_stream_sessions() == 0
    assert runtime.sweep().evicted == 0  # still within retention
    clock.advance(runtime.config.session_retention_ms)
    assert runtime.sweep().evicted == SESSIONS
    assert runtime.session_count() == 0


MESSAGES_PER_SESSION = 40
SENDER_THREADS = 10


def test_two_thousand_messages_reach_every_subscriber_once_in_order(runtime: LocalRuntime) -> None:
    """50 sessions x 40 messages from 10 threads, one passive subscriber per session."""
    with grpc.insecure_channel(runtime.target) as channel:
        stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        sessions = [new_session_id() for _ in range(SESSIONS)]
        subscribers = {}
        for sid in sessions:
            assert send(stub, session_start(DECISION, sid, "lead", ["alice"]), "lead").ok
            subscribers[sid] = StreamClient(stub, "alice")
            subscribers[sid].subscribe(sid, after_sequence=1)  # live traffic only
        accepted: dict[str, list[str]] = {sid: [] for sid in sessions}
        failures: list[BaseException] = []

        def sender(owned: list[str]) -> None:
            try:
                for number in range(MESSAGES_PER_SESSION):
                    for sid in owned:  # interleave this thread's sessions
                        payload = decision_pb2.ProposalPayload(proposal_id=f"p{number}", option="x")
                        env = envelope(DECISION, "Proposal", sid, "alice", payload)
                        ack = send(stub, env, "alice")
                        assert ack.ok and not ack.duplicate, ack.error
                        accepted[sid].append(env.message_id)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                failures.append(error)

        threads = [
            threading.Thread(target=sender, args=(sessions[i::SENDER_THREADS],))
            for i in range(SENDER_THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "senders hung"
        if failures:
            raise failures[0]
        total = sum(len(ids) for ids in accepted.values())
        assert total == SESSIONS * MESSAGES_PER_SESSION == 2000
        for sid, stream in subscribers.items():
            stream.wait_for(MESSAGES_PER_SESSION, timeout=30)
            stream.half_close()
            assert stream.wait_done() == grpc.StatusCode.OK
            received = [e.message_id for e in stream.envelopes()]
            assert received == accepted[sid]  # none lost, none duplicated, in order
    assert settles(lambda: runtime.open_streams() == 0 and runtime.bound_stream_sessions() == 0)
