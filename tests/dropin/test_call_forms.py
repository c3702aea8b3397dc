"""Calls written the way macp-sdk-python 0.22.0's users write them, and their effect.

Issue #12's small API gaps: 0.22.0's parameter names, its positional payload builder at
`macp_sdk.envelope`, `cancel_session(cancelled_by=)`, `open_stream(timeout=)`, streams built
from a stub, error constructors and the names its modules happened to import. Transport
behaviour runs against the embedded runtime on loopback. Each test also holds the form this
SDK offered before (the renamed keywords keep working, with a DeprecationWarning).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator

import grpc
import grpc.aio
import pytest
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
from macp_sdk import (
    AckFailure,
    AsyncMacpClient,
    AuthConfig,
    DecisionSession,
    MacpAckError,
    MacpCancelledError,
    MacpClient,
    MacpRetryError,
    MacpSessionError,
    MacpTimeoutError,
    MacpTransportError,
    MacpUnavailableError,
    MultiRoundSession,
    build_contribute_payload,
    commitment_from_projection,
    commitment_hash,
    macp_error_code,
    validate_commitment_hash,
    validate_session_id,
)
from macp_sdk.envelope import build_envelope, new_session_id
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig

LEAD = AuthConfig.for_dev_agent("lead")
ALICE = AuthConfig.for_dev_agent("alice")
PARTICIPANTS = ["lead", "alice"]
GOOD_HASH = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def local_rt() -> Iterator[LocalRuntime]:
    config = RuntimeConfig(clock=ManualClock(), sweep_interval_s=None, shutdown_grace_s=0.2)
    with LocalRuntime(config) as rt:
        yield rt


@pytest.fixture
def lead(local_rt: LocalRuntime) -> Iterator[MacpClient]:
    with MacpClient(target=local_rt.target, secure=False, auth=LEAD, default_timeout=5.0) as c:
        yield c


def _started(client: MacpClient) -> DecisionSession:
    session = DecisionSession(client)
    session.start(intent="pick", participants=PARTICIPANTS, ttl_ms=60_000)
    return session


# --- parameter names ----------------------------------------------------------------------
def test_validators_take_0_22_parameter_names() -> None:
    sid = new_session_id()
    assert validate_session_id(sid=sid) == sid
    assert validate_commitment_hash(value=GOOD_HASH) == GOOD_HASH
    with pytest.raises(MacpSessionError):  # 0.22.0's exception type for a bad id
        validate_session_id(sid="Not-A-Session-Id")
    with pytest.raises(MacpSessionError):
        validate_commitment_hash(value="sha256:XYZ")


def test_the_earlier_keywords_still_work_with_a_deprecation_warning() -> None:
    sid = new_session_id()
    with pytest.warns(DeprecationWarning, match="sid="):
        assert validate_session_id(session_id=sid) == sid
    with pytest.warns(DeprecationWarning, match="value="):
        assert validate_commitment_hash(commitment_hash=GOOD_HASH) == GOOD_HASH
    with pytest.raises(TypeError, match="both"):
        validate_session_id(sid=sid, session_id=sid)  # type: ignore[call-arg]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # positional and new-name calls never warn
        validate_session_id(sid)
        validate_session_id(sid=sid)


def test_macp_error_code_takes_rpc_error_on_a_refused_rpc(lead: MacpClient) -> None:
    """0.22.0's documented pattern, with its keyword: ``macp_error_code(rpc_error=e)``."""
    with pytest.raises(grpc.RpcError) as caught:
        lead.get_session(new_session_id())
    assert macp_error_code(rpc_error=caught.value) == "SESSION_NOT_FOUND"
    with pytest.warns(DeprecationWarning):
        assert macp_error_code(err=caught.value) == "SESSION_NOT_FOUND"  # type: ignore[call-arg]


def test_commitment_from_projection_takes_projection() -> None:
    payload = core_pb2.CommitmentPayload(
        commitment_id="c1",
        action="decision.selected",
        authority_scope="team",
        reason="majority",
        mode_version="1.0.0",
        policy_version="policy.default",
        configuration_version="config.default",
        outcome_positive=True,
    )
    from macp_sdk.commitment_hash import canonical_projection

    projection = json.loads(canonical_projection(payload))  # a receipt's `commitment`
    rebuilt = commitment_from_projection(projection=projection)
    assert rebuilt == payload
    assert commitment_hash(rebuilt) == commitment_hash(payload)
    with pytest.warns(DeprecationWarning):
        assert commitment_from_projection(projection_=projection) == payload  # type: ignore[call-arg]


# --- build_contribute_payload ------------------------------------------------------------
def test_build_contribute_payload_positional_from_envelope_is_accepted(lead: MacpClient) -> None:
    """0.22.0: ``from macp_sdk.envelope import build_contribute_payload`` and a positional
    value, sent in an envelope the user builds."""
    from macp_sdk.envelope import build_contribute_payload as from_envelope

    assert from_envelope is build_contribute_payload
    session = MultiRoundSession(lead)
    session.start(intent="converge", participants=PARTICIPANTS, ttl_ms=60_000)
    envelope = build_envelope(
        mode=MultiRoundSession.MODE,
        message_type="Contribute",
        session_id=session.session_id,
        sender="lead",
        payload=from_envelope("v2"),
    )
    ack = lead.send(envelope)
    assert ack.ok
    assert from_envelope("v2") == build_contribute_payload(value="v2")  # ours still works
    with pytest.raises(MacpSessionError):  # the generated check: value is required
        from_envelope("")


def test_importing_macp_sdk_envelope_does_not_import_the_modes() -> None:
    """The generated names 0.22.0 had in `envelope` and `base_session` load on first use."""
    code = (
        "import sys, macp_sdk.envelope as e, macp_sdk.base_session as b\n"
        "heavy = ('macp_sdk.modes.multi_round', 'macp_sdk._registry')\n"
        "print(*(m in sys.modules for m in heavy))\n"
        "e.build_contribute_payload, b.MODE_DECISION\n"
        "print(*(m in sys.modules for m in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["False False", "True True"]


# --- client keywords ----------------------------------------------------------------------
def test_cancel_session_accepts_cancelled_by_and_the_runtime_takes_the_caller(
    local_rt: LocalRuntime, lead: MacpClient
) -> None:
    """``cancelled_by`` has no wire field (0.22.0 sent it only if the request had one): it is
    accepted and not sent; who cancels is the authenticated caller."""
    session = _started(lead)
    with MacpClient(target=local_rt.target, secure=False, auth=ALICE) as alice:
        with pytest.raises(MacpAckError) as refused:  # naming the initiator proves nothing
            alice.cancel_session(session.session_id, reason="stop", cancelled_by="lead")
    assert refused.value.code == "FORBIDDEN"
    ack = lead.cancel_session(session.session_id, reason="done", cancelled_by="someone-else")
    assert ack.ok
    state = lead.get_session(session.session_id).metadata.state
    assert state == envelope_pb2.SESSION_STATE_CANCELLED


def test_async_cancel_session_accepts_cancelled_by(
    local_rt: LocalRuntime, lead: MacpClient
) -> None:
    session = _started(lead)

    async def cancel() -> envelope_pb2.Ack:
        async with AsyncMacpClient(target=local_rt.target, secure=False, auth=LEAD) as client:
            return await client.cancel_session(
                session.session_id, reason="done", cancelled_by="lead"
            )

    assert asyncio.run(cancel()).ok
    state = lead.get_session(session.session_id).metadata.state
    assert state == envelope_pb2.SESSION_STATE_CANCELLED


def test_open_stream_timeout_bounds_the_whole_stream(lead: MacpClient) -> None:
    """0.22.0's ``open_stream(timeout=)``: the call's deadline. A read past it raises
    MacpTimeoutError (DEADLINE_EXCEEDED) and the stream has ended."""
    session = _started(lead)
    stream = lead.open_stream(timeout=0.5)
    stream.send_subscribe(session.session_id)
    first = stream.read(timeout=5.0)
    assert first is not None and first.message_type == "SessionStart"
    with pytest.raises(MacpTimeoutError) as caught:
        while True:  # nothing else arrives: the deadline ends the call
            stream.read()
    assert caught.value.code == "DEADLINE_EXCEEDED"
    assert stream.ended and stream.read(timeout=1.0) is None
    stream.close()


def test_open_stream_without_timeout_outlives_a_read_timeout(lead: MacpClient) -> None:
    session = _started(lead)
    with lead.open_stream() as stream:
        stream.send_subscribe(session.session_id)
        assert stream.read(timeout=5.0) is not None
        with pytest.raises(MacpTimeoutError):
            stream.read(timeout=0.2)
        assert not stream.ended  # a read timeout leaves the stream open


def test_async_open_stream_timeout_bounds_the_whole_stream(
    local_rt: LocalRuntime, lead: MacpClient
) -> None:
    session = _started(lead)

    async def run() -> tuple[str, str, bool]:
        async with AsyncMacpClient(target=local_rt.target, secure=False, auth=LEAD) as client:
            stream = client.open_stream(timeout=0.5)
            await stream.send_subscribe(session.session_id)
            first = await stream.read(timeout=5.0)
            with pytest.raises(MacpTimeoutError) as caught:
                while True:
                    await stream.read()
            ended = stream.ended and await stream.read(timeout=1.0) is None
            await stream.close()
            assert first is not None
            return first.message_type, str(caught.value.code), ended

    assert asyncio.run(run()) == ("SessionStart", "DEADLINE_EXCEEDED", True)


# --- streams built from a stub ------------------------------------------------------------
def test_macp_stream_built_from_a_stub_as_in_0_22(local_rt: LocalRuntime, lead: MacpClient) -> None:
    from macp_sdk.client import MacpStream
    from macp_sdk.client import macp_error_code as client_macp_error_code

    assert client_macp_error_code is macp_error_code
    session = _started(lead)
    channel = grpc.insecure_channel(local_rt.target)
    stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
    stream = MacpStream(stub=stub, metadata=LEAD.metadata(), timeout=None)
    stream.send_subscribe(session.session_id)
    first = stream.read(timeout=5.0)
    assert first is not None and first.message_type == "SessionStart"
    assert first.session_id == session.session_id
    stream.close()
    # Without the credential the runtime refuses the call itself, raised as a typed error.
    anonymous = MacpStream(stub)
    with pytest.raises(grpc.RpcError) as caught:
        anonymous.read(timeout=5.0)
    assert macp_error_code(caught.value) == "UNAUTHENTICATED"
    anonymous.close()
    channel.close()


def test_async_macp_stream_built_from_a_stub_as_in_0_22(
    local_rt: LocalRuntime, lead: MacpClient
) -> None:
    from macp_sdk.async_client import AsyncMacpStream

    session = _started(lead)

    async def run() -> tuple[str, str]:
        async with grpc.aio.insecure_channel(local_rt.target) as channel:
            stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
            async with AsyncMacpStream(stub=stub, metadata=LEAD.metadata()) as stream:
                await stream.send_subscribe(session.session_id)
                first = await stream.read(timeout=5.0)
                assert first is not None
                return first.message_type, first.session_id

    assert asyncio.run(run()) == ("SessionStart", session.session_id)


def test_async_stream_cancel_works_without_await_as_in_0_22(
    local_rt: LocalRuntime, lead: MacpClient
) -> None:
    """0.22.0's ``AsyncMacpStream.cancel()`` was a plain method: calling it without ``await``
    aborts the call here too, and the next read raises MacpCancelledError."""
    session = _started(lead)

    async def run() -> tuple[str, bool]:
        async with AsyncMacpClient(target=local_rt.target, secure=False, auth=LEAD) as client:
            stream = client.open_stream()
            await stream.send_subscribe(session.session_id)
            first = await stream.read(timeout=5.0)
            stream.cancel()  # no await, as 0.22.0's users wrote it
            with pytest.raises(MacpCancelledError) as caught:
                await stream.read(timeout=5.0)
            await stream.cancel()  # and awaiting it (ours) still works
            assert first is not None
            return str(caught.value.code), stream.ended

    assert asyncio.run(run()) == ("CANCELLED", True)


def test_a_stream_from_an_opened_call_takes_no_call_options(local_rt: LocalRuntime) -> None:
    from macp_sdk.client import MacpStream

    with grpc.insecure_channel(local_rt.target) as channel:
        stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        with pytest.raises(TypeError, match="from a stub"):
            MacpStream(lambda frames: stub.StreamSession(frames), timeout=1.0)


# --- error constructors -------------------------------------------------------------------
def test_macp_ack_error_built_with_macp_code() -> None:
    """0.22.0: ``MacpAckError(failure, macp_code=...)`` where the registry code differs from
    the failure's (REGISTRY_READ_ONLY behind FAILED_PRECONDITION)."""
    error = MacpAckError(
        AckFailure(code="FAILED_PRECONDITION", message="read-only"),
        mode="",
        message_type="",
        macp_code="REGISTRY_READ_ONLY",
    )
    assert error.failure.code == "FAILED_PRECONDITION"
    assert error.macp_code == "REGISTRY_READ_ONLY"
    with pytest.raises(grpc.RpcError) as caught:
        raise error
    assert macp_error_code(caught.value) == "REGISTRY_READ_ONLY"
    plain = MacpAckError(AckFailure(code="SESSION_NOT_OPEN"))  # our form, unchanged
    assert plain.macp_code == "SESSION_NOT_OPEN" and macp_error_code(plain) == "SESSION_NOT_OPEN"


def test_macp_retry_error_built_with_code() -> None:
    error = MacpRetryError("gave up", code="UNAVAILABLE", macp_code=None)
    assert isinstance(error, MacpTransportError)
    assert error.code == "UNAVAILABLE" and error.code() is grpc.StatusCode.UNAVAILABLE
    assert error.attempts == 0 and error.last_error is None
    assert str(MacpRetryError("no code", code=None).code) == ""
    last = MacpUnavailableError("down", code="UNAVAILABLE")
    ours = MacpRetryError("gave up", attempts=3, last_error=last)  # our form, unchanged
    assert ours.code == "UNAVAILABLE" and ours.attempts == 3 and ours.last_error is last


# --- names 0.22.0's modules imported --------------------------------------------------------
def test_incidental_module_names() -> None:
    import macp_sdk.base_session as base_session
    import macp_sdk.watchers as watchers

    assert base_session.MODE_DECISION == DecisionSession.MODE
    assert base_session.MODE_MULTI_ROUND == MultiRoundSession.MODE
    assert watchers.TYPE_CHECKING is False
    with pytest.raises(AttributeError):
        base_session.MODE_NOT_A_MODE  # noqa: B018
