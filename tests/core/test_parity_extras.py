"""Capability gating, typed watchers and OpenTelemetry spans (parity with macp-sdk-python 0.22).

Runs against the embedded runtime (``LocalRuntime``) over loopback, plus the in-process fake
servicer where the test must see the metadata that reached the server or script a transport
failure. Every watch has a short timeout; nothing asserts on wall-clock time.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2, policy_pb2
from macp_core import _otel
from macp_local_runtime import discovery
from macp_sdk import (
    AsyncMacpClient,
    AuthConfig,
    DecisionSession,
    MacpCapabilityError,
    MacpClient,
    MacpSdkError,
    MacpSessionNotFoundError,
    MacpTimeoutError,
    MacpUnavailableError,
    MacpValidationError,
    RetryPolicy,
)
from macp_sdk.envelope import (
    build_commitment_payload,
    build_envelope,
    build_session_start_payload,
    new_session_id,
)
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig
from macp_sdk.watchers import (
    AsyncModeRegistryWatcher,
    AsyncSessionLifecycleWatcher,
    ModeRegistryWatcher,
    PolicyWatcher,
    RootsWatcher,
    SessionLifecycleEvent,
    SessionLifecycleWatcher,
    SignalEvent,
    SignalFilter,
    SignalWatcher,
)

from .fake_runtime import RunningRuntime

MODE = "macp.mode.decision.v1"
PARTICIPANTS = ["lead", "alice", "bob"]
LEAD = AuthConfig.for_dev_agent("lead")
ALICE = AuthConfig.for_dev_agent("alice")
BOB = AuthConfig.for_dev_agent("bob")


# -- fixtures and helpers ------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_rt() -> Iterator[LocalRuntime]:
    config = RuntimeConfig(clock=ManualClock(), sweep_interval_s=None, shutdown_grace_s=0.2)
    with LocalRuntime(config) as rt:
        yield rt


@pytest.fixture
def lead(local_rt: LocalRuntime) -> Iterator[MacpClient]:
    with MacpClient(target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0) as c:
        yield c


def env(sid: str, message_type: str, payload: Any) -> envelope_pb2.Envelope:
    return build_envelope(
        mode=MODE, message_type=message_type, session_id=sid, sender="", payload=payload
    )


def start(sid: str) -> envelope_pb2.Envelope:
    payload = build_session_start_payload(
        intent="pick one", participants=PARTICIPANTS, ttl_ms=60_000
    )
    return env(sid, "SessionStart", payload)


def vote(sid: str) -> envelope_pb2.Envelope:
    return env(sid, "Vote", decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE"))


def open_session(client: MacpClient) -> str:
    sid = new_session_id()
    assert client.send(start(sid)).ok
    proposal = decision_pb2.ProposalPayload(proposal_id="p1", option="A")
    assert client.send(env(sid, "Proposal", proposal), auth=ALICE).ok
    return sid


def resolve(client: MacpClient, sid: str) -> None:
    for auth in (ALICE, BOB):
        assert client.send(vote(sid), auth=auth).ok
    commitment = build_commitment_payload(
        action="decision.approved", authority_scope="team", reason="approved"
    )
    ack = client.send(env(sid, "Commitment", commitment))
    assert ack.session_state == envelope_pb2.SESSION_STATE_RESOLVED


# -- 1. capability gating ------------------------------------------------------------------
def test_gated_calls_are_attempted_before_initialize(lead: MacpClient) -> None:
    assert lead.server_capabilities is None
    assert lead.supports("policy_registry.what_if_replay") is None
    # The runtime answers for itself: an unknown session, and its key set.
    with pytest.raises(MacpSessionNotFoundError):
        lead.what_if_replay(new_session_id(), policy_pb2.PolicyDescriptor(policy_id="p"))
    with pytest.raises(MacpSessionNotFoundError):
        lead.get_decision_receipt(new_session_id())
    assert "keys" in lead.get_receipt_keys()


def _without_governance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded runtime advertising neither what-if replay nor receipts (an older one)."""
    bare = discovery.capabilities()
    bare.policy_registry.what_if_replay = False
    bare.decision_receipt.Clear()
    monkeypatch.setattr(discovery, "capabilities", lambda: bare)


def test_gated_calls_refused_without_rpc_once_capabilities_are_known(
    lead: MacpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_governance(monkeypatch)
    lead.initialize()
    assert lead.server_capabilities is not None
    # What this runtime advertises: no what-if replay, no receipts; the rest is there.
    assert lead.supports("policy_registry.what_if_replay") is False
    assert lead.supports("decision_receipt.get_decision_receipt") is False
    assert lead.supports("policy_registry.list_changed") is True

    calls: list[str] = []

    def spy(name: str) -> Any:
        def call(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} must not reach the runtime")

        return call

    for rpc in ("WhatIfReplay", "GetDecisionReceipt", "GetReceiptKeys"):
        setattr(lead._stub, rpc, spy(rpc))
    with pytest.raises(MacpCapabilityError) as info:
        lead.what_if_replay(new_session_id(), policy_pb2.PolicyDescriptor(policy_id="p"))
    assert info.value.capability == "policy_registry.what_if_replay"
    assert info.value.operation == "what_if_replay"
    assert "policy_registry.what_if_replay" in str(info.value)
    assert isinstance(info.value, MacpSdkError)
    for call, operation in (
        (lambda: lead.get_decision_receipt(new_session_id()), "get_decision_receipt"),
        (lead.get_receipt_keys, "get_receipt_keys"),
    ):
        with pytest.raises(MacpCapabilityError) as refused:
            call()
        assert refused.value.capability == "decision_receipt.get_decision_receipt"
        assert refused.value.operation == operation
    assert calls == []


def test_an_advertised_capability_lets_the_call_through(lead: MacpClient) -> None:
    lead.initialize()
    assert lead.supports("policy_registry.what_if_replay") is True
    with pytest.raises(MacpSessionNotFoundError):  # attempted: the runtime knows no such session
        lead.what_if_replay(new_session_id(), policy_pb2.PolicyDescriptor(policy_id="p"))


def test_supports_rejects_paths_that_are_not_capability_flags(lead: MacpClient) -> None:
    for bad in ("policy_registry", "policy_registry.nope", "sessions.stream.x", "", "nope"):
        with pytest.raises(MacpValidationError):
            lead.supports(bad)


def test_async_capability_gating(local_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_governance(monkeypatch)

    async def main() -> None:
        async with AsyncMacpClient(
            target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0
        ) as client:
            assert "keys" in await client.get_receipt_keys()  # attempted
            await client.initialize()
            assert client.supports("policy_registry.what_if_replay") is False
            with pytest.raises(MacpCapabilityError):
                await client.what_if_replay(new_session_id(), policy_pb2.PolicyDescriptor())
            with pytest.raises(MacpCapabilityError):
                await client.get_decision_receipt(new_session_id())

    asyncio.run(main())


# -- 2. watchers ---------------------------------------------------------------------------
def test_lifecycle_wait_for_a_session_resolved_during_the_watch(lead: MacpClient) -> None:
    sid = open_session(lead)
    watcher = SessionLifecycleWatcher(lead)
    result: list[SessionLifecycleEvent] = []
    waiter = threading.Thread(
        target=lambda: result.append(watcher.wait_for(sid, "RESOLVED", timeout=5.0))
    )
    waiter.start()
    # Whether the watch is live before or after this, wait_for sees it: a live RESOLVED event,
    # or the initial snapshot of a session whose state is already RESOLVED.
    resolve(lead, sid)
    waiter.join(10.0)
    assert not waiter.is_alive()
    (event,) = result
    assert event.session_id == sid
    assert event.is_terminal and "RESOLVED" in (event.event_type, event.state)


def test_lifecycle_events_live_with_predicates(lead: MacpClient) -> None:
    open_session(lead)  # the initial snapshot is not empty
    watcher = SessionLifecycleWatcher(lead)
    sid: str | None = None
    seen: list[str] = []
    for event in watcher.events(timeout=3.0):
        if sid is None:  # live now: create and resolve a session
            sid = open_session(lead)
            resolve(lead, sid)
        elif event.session_id == sid:
            seen.append(event.event_type)
            if event.is_terminal:
                assert event.is_resolved and event.state == "RESOLVED"
                break
    assert seen == ["CREATED", "RESOLVED"]
    # Already resolved: the snapshot answers, whatever spelling is used.
    assert sid is not None
    again = watcher.wait_for(sid, "SESSION_STATE_RESOLVED", timeout=3.0)
    assert again.is_created and again.state == "RESOLVED"


def test_lifecycle_wait_for_times_out_and_checks_names(lead: MacpClient) -> None:
    sid = open_session(lead)
    watcher = SessionLifecycleWatcher(lead)
    with pytest.raises(MacpTimeoutError, match=sid):
        watcher.wait_for(sid, "RESOLVED", timeout=0.3)
    with pytest.raises(MacpValidationError):
        watcher.wait_for(sid, "DONE", timeout=0.3)
    assert watcher.wait_for(sid, "OPEN", timeout=3.0).state == "OPEN"


def test_mode_registry_watcher_sees_a_registration(lead: MacpClient) -> None:
    name = f"ext.parity{uuid.uuid4().hex[:8]}.v1"
    descriptor = core_pb2.ModeDescriptor(
        mode=name,
        mode_version="0.1.0",
        message_types=["SessionStart", "Note", "Commitment"],
        terminal_message_types=["Commitment"],
    )
    changes = []
    for change in ModeRegistryWatcher(lead).events(timeout=3.0):
        changes.append(change)
        if len(changes) == 1:  # the initial hint: the watch is live
            assert lead.register_ext_mode(descriptor).ok
        else:
            break
    assert len(changes) == 2 and all(c.registry == "modes" for c in changes)
    assert name in [m.mode for m in lead.list_ext_modes().modes]


def test_policy_watcher_and_idle_roots_watcher(lead: MacpClient) -> None:
    policy_id = f"policy.parity.{uuid.uuid4().hex[:8]}"
    descriptor = policy_pb2.PolicyDescriptor(
        policy_id=policy_id,
        mode="macp.mode.quorum.v1",
        schema_version=1,
        rules='{"threshold": {"type": "percentage", "value": 100}}',
    )
    assert lead.register_policy(descriptor).ok
    found = PolicyWatcher(lead).wait_for_policy(policy_id, timeout=3.0)
    assert found.mode == "macp.mode.quorum.v1"
    current = PolicyWatcher(lead).next_event(timeout=3.0)
    assert {"policy.default", policy_id} <= set(current.policy_ids)
    roots = RootsWatcher(lead)
    # The local runtime sends one roots hint, then idles until the timeout ends the watch.
    (hint,) = list(roots.events(timeout=0.3))
    assert hint.observed_at_unix_ms > 0
    with pytest.raises(MacpTimeoutError, match="roots change"):
        roots.next_event(timeout=0.2, predicate=lambda change: False)


def test_signal_watcher_filters_by_type(lead: MacpClient) -> None:
    watcher = SignalWatcher(lead, signal_type="alert")
    got: list[SignalEvent] = []
    done = threading.Event()

    def watch() -> None:
        try:
            got.append(watcher.next_event(timeout=5.0))
        finally:
            done.set()

    thread = threading.Thread(target=watch)
    thread.start()
    # Signals have no backlog, so keep sending (noise first) until the live watch catches one.
    for _ in range(200):
        lead.send_signal(signal_type="noise", data=b"n", auth=ALICE)
        lead.send_signal(signal_type="alert", data=b"a", confidence=0.9, auth=ALICE)
        if done.wait(0.02):
            break
    thread.join(10.0)
    (event,) = got
    assert event.signal_type == "alert" and event.sender == "alice"
    assert event.sender_authenticated is True
    assert event.signal is not None and event.signal.data == b"a"


def test_signal_filter_rules() -> None:
    def response(kind: str, signal_type: str, authenticated: bool) -> Any:
        payload = core_pb2.SignalPayload(signal_type=signal_type).SerializeToString()
        envelope = envelope_pb2.Envelope(message_type=kind, sender="x", payload=payload)
        return core_pb2.WatchSignalsResponse(envelope=envelope, sender_authenticated=authenticated)

    plain = SignalFilter()
    assert plain.convert(response("Progress", "", True)) is None
    assert plain.convert(core_pb2.WatchSignalsResponse()) is None
    event = plain.convert(response("Signal", "a", False))
    assert event is not None and event.signal_type == "a" and not event.sender_authenticated
    strict = SignalFilter(signal_type="a", authenticated_only=True)
    assert strict.convert(response("Signal", "a", False)) is None
    assert strict.convert(response("Signal", "b", True)) is None
    assert strict.convert(response("Signal", "a", True)) is not None
    garbled = core_pb2.WatchSignalsResponse(
        envelope=envelope_pb2.Envelope(message_type="Signal", payload=b"\xff\xff")
    )
    undecoded = plain.convert(garbled)
    assert undecoded is not None and undecoded.signal is None and undecoded.signal_type == ""


def test_async_watchers(local_rt: LocalRuntime, lead: MacpClient) -> None:
    sid = open_session(lead)
    resolve(lead, sid)

    async def main() -> None:
        async with AsyncMacpClient(target=local_rt.target, secure=False, auth=LEAD) as client:
            event = await AsyncSessionLifecycleWatcher(client).wait_for(sid, timeout=3.0)
            assert event.session_id == sid and event.is_terminal
            change = await AsyncModeRegistryWatcher(client).next_event(timeout=3.0)
            assert change.registry == "modes"
            handled: list[str] = []

            async def handler(e: Any) -> None:
                handled.append(e.session_id)

            count = await AsyncSessionLifecycleWatcher(client).watch(
                handler, timeout=0.5, predicate=lambda e: e.session_id == sid
            )
            assert count == 1 and handled == [sid]

    asyncio.run(main())


# -- 3. OpenTelemetry ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def spans() -> Iterator[Any]:
    """An in-memory exporter on the global tracer provider (set once per process)."""
    trace = pytest.importorskip("opentelemetry.trace")
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _otel._reset()
    yield exporter
    exporter.shutdown()


def send_spans(exporter: Any) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("send")]


def test_send_span_attributes_and_status(spans: Any, lead: MacpClient) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    spans.clear()
    sid = new_session_id()
    first = start(sid)
    lead.send(first)
    lead.send(first)  # duplicate
    missing = vote(new_session_id())
    with pytest.raises(MacpSessionNotFoundError):
        lead.send(missing)
    lead.send_signal(signal_type="ping", data=b"secret-data")
    ok, dup, nack, signal = send_spans(spans)

    assert ok.name == f"send {MODE}" and ok.kind is SpanKind.CLIENT
    attributes = dict(ok.attributes)
    assert attributes["macp.mode.id"] == MODE
    assert attributes["macp.message.type"] == "SessionStart"
    assert attributes["macp.session.id"] == sid
    assert attributes["macp.message.id"] == first.message_id
    assert attributes["macp.envelope.outcome"] == "accepted"
    assert attributes["rpc.method"] == "Send"
    assert ok.status.status_code is StatusCode.UNSET
    assert dup.attributes["macp.envelope.outcome"] == "duplicate"
    assert dup.status.status_code is StatusCode.UNSET

    assert nack.status.status_code is StatusCode.ERROR
    assert nack.status.description == "SESSION_NOT_FOUND"
    assert nack.attributes["error.type"] == "SESSION_NOT_FOUND"
    assert nack.attributes["macp.message.id"] == missing.message_id
    assert not nack.events  # no exception recorded: its text might quote the message

    assert signal.name == "send" and "macp.mode.id" not in signal.attributes
    assert signal.attributes["macp.sender.id"] == "lead"
    for span in (ok, dup, nack, signal):  # identifiers only: no payload, no token
        values = [str(v) for v in span.attributes.values()]
        assert not any("secret-data" in v or "Bearer" in v for v in values)
        assert set(span.attributes) <= {
            "rpc.system",
            "rpc.service",
            "rpc.method",
            "macp.operation.name",
            "macp.message.type",
            "macp.message.id",
            "macp.mode.id",
            "macp.session.id",
            "macp.sender.id",
            "macp.version",
            "macp.envelope.outcome",
            "macp.send.attempts",
            "error.type",
        }


def test_session_and_async_sends_are_traced(
    spans: Any, lead: MacpClient, local_rt: LocalRuntime
) -> None:
    spans.clear()
    session = DecisionSession(lead, auth=LEAD)
    session.start(intent="pick", participants=PARTICIPANTS, ttl_ms=60_000)
    session.propose("p1", "option A")

    async def main() -> None:
        async with AsyncMacpClient(target=local_rt.target, secure=False, auth=LEAD) as client:
            await client.send(start(new_session_id()))

    asyncio.run(main())
    types = [s.attributes["macp.message.type"] for s in send_spans(spans)]
    assert types == ["SessionStart", "Proposal", "SessionStart"]
    assert {s.name for s in send_spans(spans)} == {f"send {MODE}"}


def test_trace_context_reaches_the_wire_and_follows_retries(
    spans: Any, runtime: RunningRuntime, client: MacpClient
) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import StatusCode

    spans.clear()
    runtime.runtime.send_script = ["UNAVAILABLE"]
    retry = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.01)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("orchestrator") as parent:
        client.send(start(new_session_id()), retry=retry)
        client.list_sessions()  # every RPC carries the current context, not only Send
    (send,) = send_spans(spans)
    assert send.parent is not None and send.parent.span_id == parent.get_span_context().span_id
    assert send.attributes["macp.send.attempts"] == 2
    assert send.status.status_code is StatusCode.UNSET  # the retry succeeded
    trace_id = f"{send.context.trace_id:032x}"
    expected = f"00-{trace_id}-{send.context.span_id:016x}-{send.context.trace_flags:02x}"
    sent = [md for method, md in runtime.runtime.metadata_seen if method == "Send"]
    assert len(sent) == 2
    for md in sent:  # both attempts carry the send span as parent
        assert md["traceparent"] == expected
    listed = [md for method, md in runtime.runtime.metadata_seen if method == "ListSessions"]
    assert listed and listed[-1]["traceparent"].split("-")[1] == trace_id
    assert "baggage" not in sent[0]

    spans.clear()
    dead = MacpClient(target="127.0.0.1:1", secure=False, auth=LEAD, default_timeout=2.0)
    with dead, pytest.raises(MacpUnavailableError):
        dead.send(start(new_session_id()))
    (failed,) = send_spans(spans)
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "UNAVAILABLE"


def test_inject_trace_context_unit(spans: Any) -> None:
    from opentelemetry import trace

    base = (("authorization", "Bearer t"),)
    assert _otel.inject_trace_context(base) == base  # no current span: nothing added
    with trace.get_tracer("test").start_as_current_span("outer") as span:
        context = span.get_span_context()
        injected = _otel.inject_trace_context(base)
        assert injected[0] == base[0] and len(injected) == 2
        key, value = injected[1]
        assert key == "traceparent"
        ids = f"{context.trace_id:032x}-{context.span_id:016x}"
        assert value == f"00-{ids}-{context.trace_flags:02x}"
        assert _otel.inject_trace_context(injected) == injected  # never doubled


def test_without_opentelemetry_nothing_changes(
    monkeypatch: pytest.MonkeyPatch, runtime: RunningRuntime, client: MacpClient
) -> None:
    for name in [m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import now fails
    _otel._reset()
    try:
        assert not _otel.tracing_available()
        base = (("authorization", "Bearer t"),)
        assert _otel.inject_trace_context(base) is base
        with _otel.send_span(start(new_session_id())) as span:
            assert not span.recording
        assert client.send(start(new_session_id())).ok
        (md,) = [md for method, md in runtime.runtime.metadata_seen if method == "Send"]
        assert "traceparent" not in md
    finally:
        monkeypatch.undo()
        _otel._reset()
