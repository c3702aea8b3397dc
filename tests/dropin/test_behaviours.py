"""Behaviours code written for macp-sdk-python 0.22.0 relies on, against the embedded runtime.

Issue #12 lists where we behaved differently; each test here holds one of those to 0.22.0's
documented behaviour (tests/core/test_streams.py holds MacpStream.read's).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator

import grpc
import pytest
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk import (
    AuthConfig,
    DecisionProjection,
    DecisionSession,
    MacpClient,
    RetryPolicy,
    SignalWatcher,
    is_valid_session_id,
    macp_error_code,
    retry_send,
    validate_confidence,
    validate_vote,
)
from macp_sdk.envelope import build_envelope, build_session_start_payload, new_session_id
from macp_sdk.errors import (
    MacpAckError,
    MacpRetryError,
    MacpSessionError,
    MacpTransportError,
    MacpUnavailableError,
    MacpValidationError,
)
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig

LEAD = AuthConfig.for_dev_agent("lead")
ALICE = AuthConfig.for_dev_agent("alice")
PARTICIPANTS = ["lead", "alice"]


@pytest.fixture(scope="module")
def local_rt() -> Iterator[LocalRuntime]:
    config = RuntimeConfig(clock=ManualClock(), sweep_interval_s=None, shutdown_grace_s=0.2)
    with LocalRuntime(config) as rt:
        yield rt


@pytest.fixture
def lead(local_rt: LocalRuntime) -> Iterator[MacpClient]:
    with MacpClient(target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0) as c:
        yield c


def test_empty_session_id_makes_a_new_one(lead: MacpClient) -> None:
    first, second = DecisionSession(lead, session_id=""), DecisionSession(lead, session_id="")
    assert is_valid_session_id(first.session_id) and first.session_id != second.session_id
    with pytest.raises(MacpSessionError):
        DecisionSession(lead, session_id="not a session id")


def test_metadata_returns_the_get_session_response(lead: MacpClient) -> None:
    session = DecisionSession(lead)
    session.start(intent="pick", participants=PARTICIPANTS, ttl_ms=60_000)
    answer = session.metadata()
    assert isinstance(answer, core_pb2.GetSessionResponse)
    assert answer.metadata.state == envelope_pb2.SESSION_STATE_OPEN
    assert answer.metadata.session_id == session.session_id


def test_a_refused_unary_rpc_is_also_a_grpc_rpc_error(lead: MacpClient) -> None:
    """0.22.0's documented pattern: ``except grpc.RpcError: if macp_error_code(e) == ...``."""
    with pytest.raises(grpc.RpcError) as caught:
        lead.get_session(new_session_id())
    error = caught.value
    assert isinstance(error, MacpAckError)  # and still typed
    assert macp_error_code(error) == "SESSION_NOT_FOUND"
    assert error.code == "SESSION_NOT_FOUND"  # 0.22.0's attribute reading
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert isinstance(error.details(), str)
    assert ("macp-error-code", "SESSION_NOT_FOUND") in error.trailing_metadata()


def test_a_transport_failure_is_also_a_grpc_rpc_error() -> None:
    with MacpClient(target="127.0.0.1:9", secure=False, auth=LEAD, default_timeout=2.0) as c:
        with pytest.raises(grpc.RpcError) as caught:
            c.get_session(new_session_id())
    error = caught.value
    assert isinstance(error, MacpUnavailableError)
    assert error.code == "UNAVAILABLE" and error.code() is grpc.StatusCode.UNAVAILABLE
    assert error.details() == error.details
    assert macp_error_code(error) is None


class _DuckClient:
    """Any object with ``send(envelope, *, auth=None)``: no ``retry=`` keyword."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def send(
        self, envelope: envelope_pb2.Envelope, *, auth: AuthConfig | None = None
    ) -> envelope_pb2.Ack:
        self.calls.append(envelope.message_id)
        if self.failures:
            raise self.failures.pop(0)
        return envelope_pb2.Ack(ok=True, message_id=envelope.message_id)


def _internal_error_nack() -> MacpAckError:
    from macp_sdk.errors import AckFailure, ack_error

    return ack_error(AckFailure(code="INTERNAL_ERROR", message="boom"))


def _envelope() -> envelope_pb2.Envelope:
    payload = build_session_start_payload(intent="x", participants=["a"], ttl_ms=1000)
    return build_envelope(
        mode="macp.mode.decision.v1",
        message_type="SessionStart",
        session_id=new_session_id(),
        sender="a",
        payload=payload,
    )


def test_retry_send_retries_transport_errors_and_internal_error_on_a_duck_client() -> None:
    delays: list[float] = []
    policy = RetryPolicy(max_retries=3, jitter=False, sleep=delays.append)
    duck = _DuckClient([MacpTransportError("x", code="UNKNOWN"), _internal_error_nack()])
    envelope = _envelope()
    ack = retry_send(duck, envelope, policy=policy)
    assert ack.ok and duck.calls == [envelope.message_id] * 3
    assert delays == [policy.delay(0), policy.delay(1)]


def test_retry_send_gives_up_with_macp_retry_error_and_passes_other_nacks() -> None:
    policy = RetryPolicy(max_retries=2, jitter=False, sleep=lambda _: None)
    failing = _DuckClient([MacpTransportError("x", code="UNAVAILABLE") for _ in range(5)])
    with pytest.raises(MacpRetryError):
        retry_send(failing, _envelope(), policy=policy)
    assert len(failing.calls) == 3
    from macp_sdk.errors import AckFailure, ack_error

    forbidden = _DuckClient([ack_error(AckFailure(code="FORBIDDEN"))])
    with pytest.raises(MacpAckError):
        retry_send(forbidden, _envelope(), policy=policy)
    assert len(forbidden.calls) == 1


def test_auth_sender_is_the_sender_hint() -> None:
    auth = AuthConfig.for_bearer("token-1", expected_sender="svc", sender_hint="svc-hint")
    assert auth.sender == "svc-hint"
    assert AuthConfig.for_bearer("token-2", expected_sender="svc").sender == "svc"


def test_a_descriptor_without_commitment_is_refused_before_sending() -> None:
    descriptor = core_pb2.ModeDescriptor(
        mode="ext.poll.v1", mode_version="1.0.0", terminal_message_types=["Vote"]
    )
    # Nothing listens on port 9: only a client-side refusal can answer without UNAVAILABLE.
    with MacpClient(target="127.0.0.1:9", secure=False, auth=LEAD, default_timeout=2.0) as c:
        with pytest.raises(MacpValidationError, match="Commitment"):
            c.register_ext_mode(descriptor)
        descriptor.terminal_message_types.append("Commitment")
        with pytest.raises(MacpUnavailableError):
            c.register_ext_mode(descriptor)


def test_a_fresh_participant_session_logs_no_projection_anomaly(
    lead: MacpClient, local_rt: LocalRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    session = DecisionSession(lead)
    session.start(intent="pick", participants=PARTICIPANTS, ttl_ms=60_000)
    session.propose("p1", "vendor A")
    with MacpClient(target=local_rt.target, secure=False, auth=ALICE) as alice_client:
        alice = DecisionSession(alice_client, session_id=session.session_id)
        with caplog.at_level(logging.WARNING):
            alice.evaluate("p1", "APPROVE", confidence=0.9)
            alice.vote("p1", "APPROVE")
    assert not [r for r in caplog.records if "anomaly" in r.getMessage()]
    assert alice.decision_projection.anomalies == []


def test_a_projection_that_saw_the_start_still_notes_an_unknown_proposal() -> None:
    from macp.modes.decision.v1 import decision_pb2

    sid, mode = new_session_id(), "macp.mode.decision.v1"
    start = build_envelope(
        mode=mode,
        message_type="SessionStart",
        session_id=sid,
        sender="lead",
        payload=build_session_start_payload(intent="x", participants=PARTICIPANTS, ttl_ms=1000),
    )
    vote = build_envelope(
        mode=mode,
        message_type="Vote",
        session_id=sid,
        sender="alice",
        payload=decision_pb2.VotePayload(proposal_id="p9", vote="APPROVE"),
    )
    late = DecisionProjection(sid)
    late.apply_envelope(vote)  # joined after the start: a missed proposal is no anomaly
    assert late.anomalies == []
    whole = DecisionProjection(sid)
    whole.apply_all([start, vote])
    assert [a.kind for a in whole.anomalies] == ["unknown_proposal"]


def test_field_validators_normalise_and_raise_session_errors() -> None:
    assert validate_vote("approve") == "APPROVE"
    with pytest.raises(MacpSessionError):
        validate_vote("maybe")
    assert validate_confidence(0.5) == 0.5
    for bad in (math.nan, 1.5, -0.1):
        with pytest.raises(MacpSessionError):
            validate_confidence(bad)


def test_signal_watcher_signals_yields_envelopes(lead: MacpClient) -> None:
    watcher = SignalWatcher(lead, signal_type="ping")
    got: list[envelope_pb2.Envelope] = []
    done = threading.Event()

    def watch() -> None:
        try:
            got.append(watcher.next_signal(timeout=5.0))
        finally:
            done.set()

    thread = threading.Thread(target=watch)
    thread.start()
    for _ in range(200):  # signals have no backlog: send until the live watch catches one
        lead.send_signal(signal_type="ping", data=b"p", auth=ALICE)
        if done.wait(0.02):
            break
    thread.join(10.0)
    (envelope,) = got
    assert isinstance(envelope, envelope_pb2.Envelope) and envelope.message_type == "Signal"
    assert envelope.sender == "alice"


# 0.22.0's deprecation aliases (module, old name, new name); here both are plain names.
DEPRECATED = [
    ("macp_sdk", "RejectRecord", "ProposalRejectRecord"),
    ("macp_sdk", "AcceptRecord", "ProposalAcceptRecord"),
    ("macp_sdk", "SessionLifecycle", "SessionLifecycleEvent"),
    ("macp_sdk", "TaskRequestRecord", "TaskRecord"),
    ("macp_sdk.proposal", "RejectRecord", "ProposalRejectRecord"),
    ("macp_sdk.proposal", "AcceptRecord", "ProposalAcceptRecord"),
    ("macp_sdk.task", "TaskRequestRecord", "TaskRecord"),
    ("macp_sdk.watchers", "SessionLifecycle", "SessionLifecycleEvent"),
]


@pytest.mark.parametrize(("module", "old", "new"), DEPRECATED)
def test_deprecated_names_of_0_22_still_resolve(module: str, old: str, new: str) -> None:
    import importlib

    namespace = importlib.import_module(module)
    assert getattr(namespace, old) is getattr(namespace, new)
