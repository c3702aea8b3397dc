"""The client surface against the real embedded runtime (``LocalRuntime``) over gRPC on loopback.

The other tests in this package drive an in-process fake servicer; this file proves the same
surface -- auth metadata, NACK mapping, duplicate Acks, streams, watchers, the async twins and
the generated sessions -- against ``macp_sdk.local_runtime`` with its real codes and rules.
Every stream and watch runs with a short timeout; nothing asserts on wall-clock time.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from google.protobuf.message import Message
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk import AsyncDecisionSession, DecisionSession
from macp_sdk.async_client import AsyncMacpClient
from macp_sdk.auth import AuthConfig
from macp_sdk.client import MacpClient
from macp_sdk.envelope import (
    build_commitment_payload,
    build_envelope,
    build_session_start_payload,
    new_session_id,
)
from macp_sdk.errors import (
    MacpAckError,
    MacpForbiddenError,
    MacpIdentityMismatchError,
    MacpInvalidSessionIdError,
    MacpSessionAlreadyExistsError,
    MacpSessionNotFoundError,
    MacpSessionNotOpenError,
    MacpTimeoutError,
    MacpUnauthenticatedAckError,
)
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig, StaticToken

MODE = "macp.mode.decision.v1"
PARTICIPANTS = ["lead", "alice", "bob"]
LEAD = AuthConfig.for_dev_agent("lead")
ALICE = AuthConfig.for_dev_agent("alice")
BOB = AuthConfig.for_dev_agent("bob")

OPEN = envelope_pb2.SESSION_STATE_OPEN
RESOLVED = envelope_pb2.SESSION_STATE_RESOLVED
CANCELLED = envelope_pb2.SESSION_STATE_CANCELLED
CREATED_EVENT = core_pb2.SessionLifecycleEvent.EVENT_TYPE_CREATED
RESOLVED_EVENT = core_pb2.SessionLifecycleEvent.EVENT_TYPE_RESOLVED


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_rt() -> Iterator[LocalRuntime]:
    """One dev-mode runtime for the module; every test works in its own fresh sessions."""
    config = RuntimeConfig(clock=ManualClock(), sweep_interval_s=None, shutdown_grace_s=0.2)
    with LocalRuntime(config) as rt:
        yield rt


def connect(rt: LocalRuntime, auth: AuthConfig | None = LEAD) -> MacpClient:
    return MacpClient(target=rt.target, secure=False, auth=auth, default_timeout=5.0)


@pytest.fixture
def lead(local_rt: LocalRuntime) -> Iterator[MacpClient]:
    with connect(local_rt) as client:
        yield client


# -- envelope helpers ----------------------------------------------------------------------
def env(sid: str, message_type: str, payload: Message, sender: str = "") -> envelope_pb2.Envelope:
    return build_envelope(
        mode=MODE, message_type=message_type, session_id=sid, sender=sender, payload=payload
    )


def start(
    sid: str, sender: str = "lead", participants: list[str] | None = None
) -> envelope_pb2.Envelope:
    payload = build_session_start_payload(
        intent="pick one", participants=participants or PARTICIPANTS, ttl_ms=60_000
    )
    return env(sid, "SessionStart", payload, sender)


def proposal(sid: str, pid: str = "p1", sender: str = "") -> envelope_pb2.Envelope:
    return env(sid, "Proposal", decision_pb2.ProposalPayload(proposal_id=pid, option="A"), sender)


def vote(sid: str, pid: str = "p1", sender: str = "") -> envelope_pb2.Envelope:
    return env(sid, "Vote", decision_pb2.VotePayload(proposal_id=pid, vote="APPROVE"), sender)


def commitment(sid: str, sender: str = "") -> envelope_pb2.Envelope:
    payload = build_commitment_payload(
        action="decision.approved", authority_scope="team", reason="approved by vote"
    )
    return env(sid, "Commitment", payload, sender)


def open_session(client: MacpClient, *, votes: int = 0) -> str:
    """A fresh decision session started by `lead` with proposal p1 (and `votes` votes on it)."""
    sid = new_session_id()
    assert client.send(start(sid)).session_state == OPEN
    assert client.send(proposal(sid, sender="alice"), auth=ALICE).ok
    for auth in (ALICE, BOB)[:votes]:
        assert client.send(vote(sid), auth=auth).ok
    return sid


def replay(client: MacpClient, sid: str) -> list[envelope_pb2.Envelope]:
    """The session's accepted history, read back through a passive subscribe (client's auth)."""
    with client.open_stream(session_id=sid) as stream:
        history = list(stream.responses(timeout=1.0, idle_timeout=0.3))
        assert stream.read_error() is None
        return history


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def stream_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith("macp-stream")  # client pump and the runtime's stream reader
    ]


# -- auth metadata on the wire ------------------------------------------------------------
def test_dev_agent_auth_binds_the_sender(local_rt: LocalRuntime) -> None:
    with connect(local_rt, AuthConfig.for_dev_agent("x")) as x:
        explicit, implicit = new_session_id(), new_session_id()
        assert x.send(start(explicit, sender="x", participants=["x", "y"])).ok
        assert x.send(start(implicit, sender="", participants=["x", "y"])).ok
        for sid in (explicit, implicit):
            assert x.get_session(sid).metadata.initiator == "x"
            (echo,) = replay(x, sid)
            assert echo.message_type == "SessionStart" and echo.sender == "x"


def test_mismatching_sender_is_stopped_client_side(local_rt: LocalRuntime) -> None:
    with connect(local_rt, AuthConfig.for_dev_agent("x")) as x:
        sid = new_session_id()
        with pytest.raises(MacpIdentityMismatchError) as info:
            x.send(start(sid, sender="y", participants=["x", "y"]))
        text = str(info.value)
        assert "AuthConfig.for_dev_agent('y')" in text and "'x'" in text
        assert (info.value.expected, info.value.actual) == ("x", "y")
        with pytest.raises(MacpSessionNotFoundError):  # nothing reached the runtime
            x.get_session(sid)


def test_bearer_tokens_on_a_static_token_runtime() -> None:
    tokens = [
        StaticToken(token="tok-lead-7f3a", sender="lead"),
        StaticToken(token="tok-alice-91c2", sender="alice"),
    ]
    config = RuntimeConfig(auth_tokens=tokens, sweep_interval_s=None, shutdown_grace_s=0.2)
    lead_auth = AuthConfig.for_bearer("tok-lead-7f3a", expected_sender="lead")
    with LocalRuntime(config) as rt, connect(rt, lead_auth) as client:
        sid = new_session_id()
        assert client.send(start(sid, sender="", participants=["lead", "alice"])).ok
        assert client.get_session(sid).metadata.initiator == "lead"
        # a token without expected_sender: the runtime fills in the bound sender
        opaque = AuthConfig.for_bearer("tok-alice-91c2")
        assert client.send(proposal(sid), auth=opaque).ok
        assert [(e.message_type, e.sender) for e in replay(client, sid)] == [
            ("SessionStart", "lead"),
            ("Proposal", "alice"),
        ]
        # the guard: expected_sender says who the token is, so "bob" cannot match
        with pytest.raises(MacpIdentityMismatchError, match="expected_sender='bob'"):
            client.send(vote(sid, sender="bob"))
        # an unknown token is refused in the Ack, and never shows up in the error
        intruder = AuthConfig.for_bearer("tok-nobody-0000")
        with pytest.raises(MacpUnauthenticatedAckError) as info:
            client.send(vote(sid), auth=intruder)
        assert info.value.code == "UNAUTHENTICATED"
        assert "tok-nobody-0000" not in str(info.value) and "tok-" not in repr(intruder)


# -- NACK mapping ---------------------------------------------------------------------------
def _unknown_session(client: MacpClient) -> tuple[envelope_pb2.Envelope, AuthConfig]:
    return vote(new_session_id()), LEAD


def _existing_session(client: MacpClient) -> tuple[envelope_pb2.Envelope, AuthConfig]:
    sid = new_session_id()
    client.send(start(sid))
    return start(sid), LEAD  # same session id, new message id


def _non_participant(client: MacpClient) -> tuple[envelope_pb2.Envelope, AuthConfig]:
    sid = open_session(client)
    return proposal(sid, "p2", sender="mallory"), AuthConfig.for_dev_agent("mallory")


def _after_commit(client: MacpClient) -> tuple[envelope_pb2.Envelope, AuthConfig]:
    sid = open_session(client, votes=2)
    assert client.send(commitment(sid)).session_state == RESOLVED
    return vote(sid, sender="lead"), LEAD


def _bad_session_id(client: MacpClient) -> tuple[envelope_pb2.Envelope, AuthConfig]:
    return start(str(uuid.uuid4()).upper()), LEAD  # UUID-shaped but not lowercase


@pytest.mark.parametrize(
    ("setup", "error_type", "code"),
    [
        (_unknown_session, MacpSessionNotFoundError, "SESSION_NOT_FOUND"),
        (_existing_session, MacpSessionAlreadyExistsError, "SESSION_ALREADY_EXISTS"),
        (_non_participant, MacpForbiddenError, "FORBIDDEN"),
        (_after_commit, MacpSessionNotOpenError, "SESSION_NOT_OPEN"),
        (_bad_session_id, MacpInvalidSessionIdError, "INVALID_SESSION_ID"),
    ],
    ids=["not-found", "already-exists", "forbidden", "not-open", "invalid-session-id"],
)
def test_nack_maps_to_typed_error(
    lead: MacpClient,
    setup: Callable[[MacpClient], tuple[envelope_pb2.Envelope, AuthConfig]],
    error_type: type[MacpAckError],
    code: str,
) -> None:
    envelope, auth = setup(lead)
    with pytest.raises(error_type) as info:
        lead.send(envelope, auth=auth)
    err = info.value
    assert isinstance(err, MacpAckError) and type(err) is error_type
    assert err.code == code
    assert err.session_id == envelope.session_id
    assert err.message_id == envelope.message_id
    assert err.message_type == envelope.message_type and err.mode == MODE
    assert code in str(err) and envelope.message_id in str(err)
    # the same refusal, returned instead of raised
    ack = lead.send(envelope, auth=auth, raise_on_nack=False)
    assert not ack.ok and ack.error.code == code


def test_unknown_session_on_a_unary_rpc_is_a_typed_grpc_error(lead: MacpClient) -> None:
    # The runtime names the MACP code in `macp-error-code` trailing metadata (0.9+), so the
    # gRPC NOT_FOUND becomes the typed refusal.
    with pytest.raises(MacpSessionNotFoundError) as info:
        lead.get_session(new_session_id())
    assert (info.value.code, info.value.grpc_code) == ("SESSION_NOT_FOUND", "NOT_FOUND")


# -- duplicate Ack --------------------------------------------------------------------------
def test_resending_the_same_envelope_is_a_duplicate_success(lead: MacpClient) -> None:
    sid = new_session_id()
    first_start = start(sid)
    assert lead.send(first_start).ok
    again = lead.send(first_start)
    assert again.duplicate and not again.error.code
    assert again.message_id == first_start.message_id and again.session_state == OPEN

    prop = proposal(sid, sender="alice")
    assert lead.send(prop, auth=ALICE).ok
    before = lead.get_session(sid).metadata
    dup = lead.send(prop, auth=ALICE)
    assert dup.duplicate
    after = lead.get_session(sid).metadata
    assert after.state == before.state == OPEN
    assert list(after.participants) == list(before.participants)
    history = replay(lead, sid)
    assert [e.message_id for e in history] == [first_start.message_id, prop.message_id]


# -- streams ---------------------------------------------------------------------------------
def test_stream_send_read_timeout_responses_close(local_rt: LocalRuntime) -> None:
    before = {t.ident for t in threading.enumerate()}

    def new_threads() -> list[threading.Thread]:
        # the runtime's gRPC worker pool ("macp-runtime_N") lives as long as the runtime
        return [
            t
            for t in threading.enumerate()
            if t.ident not in before and not t.name.startswith("macp-runtime")
        ]

    with connect(local_rt) as client:
        stream = client.open_stream(auth=LEAD)
        sid = new_session_id()
        sent = start(sid)
        stream.send(sent)
        echo = stream.read(timeout=5.0)
        assert echo is not None
        assert (echo.message_id, echo.message_type, echo.sender) == (
            sent.message_id,
            "SessionStart",
            "lead",
        )
        with pytest.raises(MacpTimeoutError):
            stream.read(timeout=0.2)
        assert not stream.ended
        stream.send(proposal(sid))
        stream.send(vote(sid))
        got = [(e.message_type, e.sender) for e in stream.responses(timeout=1.0, idle_timeout=0.3)]
        assert got == [("Proposal", "lead"), ("Vote", "lead")]
        assert list(stream.responses(timeout=0.2)) == []  # ends when nothing comes
        left_open = client.open_stream(auth=ALICE, session_id=sid)  # client.close() closes it
        assert left_open.read(timeout=5.0) is not None
        during = new_threads()
        assert "macp-stream-pump" in [t.name for t in during], during
        stream.close()
        assert stream.ended and stream.read(timeout=0.1) is None
        assert client.get_session(sid).metadata.state == OPEN
    assert left_open.closed and left_open.ended
    assert wait_until(lambda: not stream_threads()), stream_threads()
    assert wait_until(lambda: not [t for t in during if t.is_alive()]), during
    assert wait_until(lambda: not new_threads()), new_threads()
    assert wait_until(lambda: local_rt.bound_stream_sessions() == 0)


def test_subscribe_without_membership_is_an_inline_error(lead: MacpClient) -> None:
    sid = open_session(lead)
    seen: list[envelope_pb2.MACPError] = []
    outsider = AuthConfig.for_dev_agent("mallory")
    with lead.open_stream(auth=outsider, on_error=seen.append) as stream:
        stream.subscribe(sid, after_sequence=0)
        with pytest.raises(MacpTimeoutError):
            stream.read(timeout=0.3)
        assert wait_until(lambda: len(seen) == 1), seen
        assert seen[0].code.startswith("FORBIDDEN")
        queued = stream.read_error(timeout=1.0)
        assert queued is not None and queued.code == seen[0].code
        assert not stream.ended  # the stream stays open and unbound
    with pytest.raises(MacpSessionNotFoundError):  # a missing session ends the stream, typed
        with lead.open_stream(session_id=new_session_id()) as missing:
            missing.read(timeout=5.0)


def test_late_subscribe_replays_in_order_then_goes_live(lead: MacpClient) -> None:
    sid = new_session_id()
    history = [start(sid), proposal(sid, sender="alice"), vote(sid, sender="alice")]
    assert lead.send(history[0]).ok
    assert lead.send(history[1], auth=ALICE).ok
    assert lead.send(history[2], auth=ALICE).ok
    with lead.open_stream(auth=ALICE) as late:
        late.subscribe(sid, after_sequence=0)
        replayed = [late.read(timeout=5.0) for _ in history]
        assert [e.message_id for e in replayed if e] == [e.message_id for e in history]
        with pytest.raises(MacpTimeoutError):
            late.read(timeout=0.2)
        live = vote(sid, sender="bob")
        assert lead.send(live, auth=BOB).ok
        echoed = late.read(timeout=5.0)
        assert echoed is not None and echoed.message_id == live.message_id
    with lead.open_stream(auth=BOB) as partial:
        partial.subscribe(sid, after_sequence=2)
        rest = [e.message_id for e in partial.responses(timeout=1.0, idle_timeout=0.3)]
        assert rest == [history[2].message_id, live.message_id]


# -- watchers --------------------------------------------------------------------------------
def test_watch_mode_registry_sees_a_registration_then_ends(lead: MacpClient) -> None:
    name = f"ext.onlocal{uuid.uuid4().hex[:8]}.v1"
    descriptor = core_pb2.ModeDescriptor(
        mode=name,
        mode_version="0.1.0",
        message_types=["SessionStart", "Note", "Commitment"],
        terminal_message_types=["Commitment"],
    )
    events: list[core_pb2.WatchModeRegistryResponse] = []
    for event in lead.watch_mode_registry(timeout=0.8):
        events.append(event)
        if len(events) == 1:  # the initial snapshot: the watch is live, now change something
            assert lead.register_ext_mode(descriptor).ok
    assert len(events) == 2, events
    assert all(e.change.registry == "modes" for e in events)
    assert name in [m.mode for m in lead.list_ext_modes().modes]


def test_watch_sessions_sees_created_and_resolved(lead: MacpClient) -> None:
    open_session(lead)  # at least one session exists, so the initial sync yields something
    sid: str | None = None
    seen: list[int] = []
    for response in lead.watch_sessions(timeout=1.0):
        if sid is None:  # the watch is live: create and resolve a session during it
            sid = open_session(lead, votes=2)
            assert lead.send(commitment(sid)).session_state == RESOLVED
        elif response.event.session.session_id == sid:
            seen.append(response.event.event_type)
            if response.event.event_type == RESOLVED_EVENT:
                break
    assert seen == [CREATED_EVENT, RESOLVED_EVENT]


# -- async twins -----------------------------------------------------------------------------
def test_async_send_nack_duplicate_and_stream(local_rt: LocalRuntime) -> None:
    async def main() -> None:
        async with AsyncMacpClient(
            target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0
        ) as client:
            sid = new_session_id()
            first = start(sid)
            ack = await client.send(first)
            assert ack.ok and ack.session_state == OPEN
            assert (await client.send(first)).duplicate
            missing = vote(new_session_id())
            with pytest.raises(MacpSessionNotFoundError) as info:
                await client.send(missing)
            assert (info.value.code, info.value.session_id, info.value.message_id) == (
                "SESSION_NOT_FOUND",
                missing.session_id,
                missing.message_id,
            )
            outsider = proposal(sid, sender="mallory")
            with pytest.raises(MacpForbiddenError):
                await client.send(outsider, auth=AuthConfig.for_dev_agent("mallory"))
            with pytest.raises(MacpIdentityMismatchError, match="for_dev_agent\\('bob'\\)"):
                await client.send(vote(sid, sender="bob"))
            assert (await client.get_session(sid)).metadata.initiator == "lead"

            stream = client.open_stream(auth=ALICE)
            await stream.subscribe(sid)
            echo = await stream.read(timeout=5.0)
            assert echo is not None and echo.message_id == first.message_id
            with pytest.raises(MacpTimeoutError):
                await stream.read(timeout=0.2)
            await stream.send(proposal(sid))
            live = await stream.read(timeout=5.0)
            assert live is not None and (live.message_type, live.sender) == ("Proposal", "alice")
            await stream.close()
            assert stream.ended and await stream.read(timeout=0.1) is None

    asyncio.run(main())


def test_async_generated_decision_session(local_rt: LocalRuntime) -> None:
    async def main() -> None:
        async with AsyncMacpClient(
            target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0
        ) as client:
            session = AsyncDecisionSession(client)
            assert (await session.start(intent="pick", participants=PARTICIPANTS, ttl_ms=60_000)).ok
            await session.propose("p1", "option A")
            await session.vote("p1", "APPROVE", auth=ALICE)
            await session.vote("p1", "APPROVE", auth=BOB)
            ack = await session.commit(
                action="decision.approved", authority_scope="team", reason="two approvals"
            )
            assert ack.session_state == RESOLVED
            metadata = (await session.metadata()).metadata
            assert metadata.state == RESOLVED and metadata.initiator == "lead"
            projection = session.decision_projection
            assert projection.is_committed and projection.vote_counts("p1")["APPROVE"] == 2

    asyncio.run(main())


# -- generated sync session ------------------------------------------------------------------
def test_generated_decision_session_end_to_end(lead: MacpClient) -> None:
    session = DecisionSession(lead, auth=LEAD)
    session.start(intent="pick a vendor", participants=PARTICIPANTS, ttl_ms=60_000)
    session.propose("p1", "vendor A", rationale="cheapest")
    session.vote("p1", "APPROVE", auth=ALICE)
    session.vote("p1", "APPROVE", auth=BOB)
    with pytest.raises(MacpIdentityMismatchError, match="for_dev_agent\\('bob'\\)"):
        session.vote("p1", "REJECT", sender="bob")  # lead's auth cannot vote as bob
    ack = session.commit(action="decision.approved", authority_scope="team", reason="2 of 3")
    assert ack.session_state == RESOLVED
    metadata = session.metadata().metadata
    assert metadata.state == RESOLVED and metadata.initiator == "lead"
    projection = session.decision_projection
    assert projection.is_committed and projection.is_positive_outcome is True
    assert [e.message_type for e in projection.transcript] == [
        "SessionStart",
        "Proposal",
        "Vote",
        "Vote",
        "Commitment",
    ]
    assert [(e.message_type, e.sender) for e in replay(lead, session.session_id)] == [
        ("SessionStart", "lead"),
        ("Proposal", "lead"),
        ("Vote", "alice"),
        ("Vote", "bob"),
        ("Commitment", "lead"),
    ]
    with session.open_stream(auth=ALICE, after_sequence=3) as tail:
        assert [e.sender for e in tail.responses(timeout=1.0, idle_timeout=0.3)] == ["bob", "lead"]
    with pytest.raises(MacpSessionNotOpenError):
        session.propose("p2", "vendor B")

    other = DecisionSession(lead, auth=LEAD)
    other.start(intent="never mind", participants=PARTICIPANTS, ttl_ms=60_000)
    assert other.cancel(reason="changed plans").ok
    assert other.metadata().metadata.state == CANCELLED
    with pytest.raises(MacpSessionNotOpenError):
        other.propose("p1", "too late")
