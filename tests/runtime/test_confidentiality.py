"""Envelopes reach only a session's initiator, declared participants and observers.

Whatever a client sends on its stream, a stream bound by an outsider receives none of the
session's envelopes (the reference runtime leaks them: §5 "Quirk"). Checked under dev-mode
and static-token auth. Each check half-closes the outsider's stream after the traffic: the
runtime flushes whatever was queued for it before ending the call, so "nothing received" is
a complete observation, not a timing guess.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2_grpc
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig, StaticToken

from .helpers import DECISION, StreamClient, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
# Static mode: each sender has a token of its own; "watcher" is an observer identity.
TOKENS = {"lead": "t-lead", "alice": "t-alice", "eve": "t-eve", "watcher": "t-watcher"}


@pytest.fixture(params=["dev", "static"])
def auth_mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def token_of(auth_mode: str) -> dict[str, str]:
    return {name: (name if auth_mode == "dev" else token) for name, token in TOKENS.items()}


@pytest.fixture
def secured_stub(auth_mode: str) -> Iterator[Stub]:
    tokens = None
    if auth_mode == "static":
        tokens = [
            StaticToken(token=token, sender=name, is_observer=name == "watcher")
            for name, token in TOKENS.items()
        ]
    config = RuntimeConfig(clock=ManualClock(), auth_tokens=tokens, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        yield Stub(channel)


def traffic(stub: Stub, session_id: str, token_of: dict[str, str], count: int = 3) -> list[str]:
    ids = []
    for number in range(count):
        env = envelope(DECISION, "Proposal", session_id, "alice",
                       decision_pb2.ProposalPayload(proposal_id=f"p{number}", option="x"))
        assert send(stub, env, token_of["alice"]).ok
        ids.append(env.message_id)
    return ids


def finish(stream: StreamClient) -> list[str]:
    stream.half_close()
    assert stream.wait_done() == grpc.StatusCode.OK
    return [e.message_id for e in stream.envelopes()]


def test_a_rejected_envelope_does_not_open_a_session_to_an_outsider(
    secured_stub: Stub, token_of: dict[str, str]
) -> None:
    session_id = new_session_id()
    start = session_start(DECISION, session_id, "lead", ["alice"])
    assert send(secured_stub, start, token_of["lead"]).ok
    member = StreamClient(secured_stub, token_of["alice"])
    member.subscribe(session_id)
    member.wait_for(1)
    outsider = StreamClient(secured_stub, token_of["eve"])
    outsider.send(envelope(DECISION, "Proposal", session_id, "",
                           decision_pb2.ProposalPayload(proposal_id="e", option="x")))
    (rejected,) = outsider.wait_for(1)
    assert rejected.error.code == "Forbidden"
    accepted = traffic(secured_stub, session_id, token_of)
    member.wait_for(1 + len(accepted))
    assert finish(outsider) == []
    assert finish(member) == [start.message_id, *accepted]


def test_binding_to_a_future_session_id_reveals_nothing(
    secured_stub: Stub, token_of: dict[str, str]
) -> None:
    session_id = new_session_id()
    outsider = StreamClient(secured_stub, token_of["eve"])
    # Not a SessionStart, so it is rejected (UnknownSession) - but the stream is now bound.
    outsider.send(envelope(DECISION, "Proposal", session_id, "",
                           decision_pb2.ProposalPayload(proposal_id="e", option="x")))
    (rejected,) = outsider.wait_for(1)
    assert rejected.error.code == "UnknownSession"
    assert send(secured_stub, session_start(DECISION, session_id, "lead", ["alice"]),
                token_of["lead"]).ok
    traffic(secured_stub, session_id, token_of)
    assert finish(outsider) == []


def test_the_initiator_participants_and_observers_do_receive(
    secured_stub: Stub, token_of: dict[str, str], auth_mode: str
) -> None:
    session_id = new_session_id()
    lead = StreamClient(secured_stub, token_of["lead"])  # the initiator, not a participant
    start = session_start(DECISION, session_id, "", ["alice"])
    lead.send(start)
    lead.wait_for(1)
    alice = StreamClient(secured_stub, token_of["alice"])
    alice.subscribe(session_id)
    alice.wait_for(1)
    accepted = traffic(secured_stub, session_id, token_of)
    expected = [start.message_id, *accepted]
    lead.wait_for(len(expected))
    assert finish(lead) == expected
    assert finish(alice) == expected
    watcher = StreamClient(secured_stub, token_of["watcher"])
    watcher.subscribe(session_id)
    if auth_mode == "static":  # an is_observer identity may watch any session
        watcher.wait_for(len(expected))
        assert finish(watcher) == expected
    else:  # the dev identity is not an observer
        (denied,) = watcher.wait_for(1)
        assert denied.error.code.startswith("FORBIDDEN")
        assert finish(watcher) == []
