"""Property-based fuzzing of Send and StreamSession (hypothesis).

Random envelopes (well-formed or not, for live and unknown sessions, any mode or type, any
payload bytes) and random raw bytes go to both RPCs. The property: the runtime stays up, and
every answer is a defined Ack (ok, or an error with a registry code) or a defined gRPC status
- never UNKNOWN, which is what an exception escaping a handler becomes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
from macp_local_runtime.errors import VARIANTS
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig

from .helpers import DECISION, creds, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
ACK_CODES = {code for code, _ in VARIANTS.values()}
INLINE_PREFIXES = (*VARIANTS, "FORBIDDEN:")
# What a stream may end with: OK and the stream-ending classes of §5. Undecodable bytes are
# INVALID_ARGUMENT too (grpc.aio alone would answer UNKNOWN: see handlers.py).
STREAM_STATUSES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
RAW_STATUSES = STREAM_STATUSES
SEND = "/macp.v1.MACPRuntimeService/Send"
STREAM = "/macp.v1.MACPRuntimeService/StreamSession"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIVE_SESSION = str(uuid.uuid4())


@pytest.fixture(scope="module")
def fuzz_runtime() -> Iterator[tuple[LocalRuntime, grpc.Channel]]:
    config = RuntimeConfig(max_payload_bytes=512, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        start = session_start(DECISION, LIVE_SESSION, "lead", ["alice", "fuzzer"])
        assert send(Stub(channel), start, "lead").ok
        yield runtime, channel


def serialized(message: object) -> bytes:
    assert hasattr(message, "SerializeToString")
    data: bytes = message.SerializeToString()
    return data


texts = st.text(max_size=12)
payloads = st.one_of(
    st.binary(max_size=96),
    st.builds(
        lambda p, o: serialized(decision_pb2.ProposalPayload(proposal_id=p, option=o)),
        texts,
        texts,
    ),
    st.builds(
        lambda parts, ttl, version: serialized(
            core_pb2.SessionStartPayload(
                participants=parts, ttl_ms=ttl, mode_version=version, configuration_version="c"
            )
        ),
        st.lists(st.sampled_from(["alice", "fuzzer", "", " "]), max_size=3),
        st.integers(min_value=-5, max_value=90_000_000),
        st.sampled_from(["1.0.0", "", "2"]),
    ),
    st.just(b"x" * 600),  # over the payload limit
)
envelopes = st.builds(
    envelope_pb2.Envelope,
    macp_version=st.sampled_from(["1.0", "1.0", "", "2.0"]),
    mode=st.sampled_from([DECISION, "macp.mode.task.v1", "ext.multi_round.v1", "", "x.y"]),
    message_type=st.one_of(
        st.sampled_from(
            ["SessionStart", "Proposal", "Vote", "Commitment", "Signal", "Progress", "Bogus"]
        ),
        texts,
    ),
    message_id=st.one_of(st.just(""), st.uuids().map(str), texts),
    session_id=st.one_of(
        st.just(LIVE_SESSION), st.just(""), st.uuids(version=4).map(str), texts
    ),
    sender=st.sampled_from(["", "fuzzer", "lead", "mallory"]),
    timestamp_unix_ms=st.integers(min_value=0, max_value=2**40),
    payload=payloads,
)
callers = st.sampled_from(["fuzzer", "lead", "mallory", ""])


def metadata(caller: str) -> tuple[tuple[str, str], ...]:
    return creds(caller) if caller else ()


def check_ack(ack: envelope_pb2.Ack) -> None:
    if ack.ok:
        assert not ack.error.code
    else:
        assert ack.error.code in ACK_CODES, ack.error
        assert ack.session_state == envelope_pb2.SESSION_STATE_UNSPECIFIED


def check_alive(channel: grpc.Channel) -> None:
    request = core_pb2.InitializeRequest(supported_protocol_versions=["1.0"])
    assert Stub(channel).Initialize(request, timeout=10).selected_protocol_version == "1.0"


@FUZZ
@given(envelope=envelopes, caller=callers)
def test_send_answers_every_envelope_with_a_defined_ack(
    fuzz_runtime: tuple[LocalRuntime, grpc.Channel],
    envelope: envelope_pb2.Envelope,
    caller: str,
) -> None:
    _, channel = fuzz_runtime
    response = Stub(channel).Send(
        core_pb2.SendRequest(envelope=envelope), metadata=metadata(caller), timeout=10
    )
    check_ack(response.ack)
    check_alive(channel)


frames = st.one_of(
    st.builds(lambda e: core_pb2.StreamSessionRequest(envelope=e), envelopes),
    st.builds(
        lambda sid, after: core_pb2.StreamSessionRequest(
            subscribe_session_id=sid, after_sequence=after
        ),
        st.one_of(st.just(LIVE_SESSION), st.uuids().map(str), texts),
        st.integers(min_value=0, max_value=5),
    ),
    st.builds(
        lambda e: core_pb2.StreamSessionRequest(envelope=e, subscribe_session_id=LIVE_SESSION),
        envelopes,
    ),
    st.just(core_pb2.StreamSessionRequest()),
)


@FUZZ
@given(sequence=st.lists(frames, min_size=1, max_size=4), caller=callers)
def test_stream_session_answers_every_frame_sequence_with_defined_outcomes(
    fuzz_runtime: tuple[LocalRuntime, grpc.Channel],
    sequence: list[core_pb2.StreamSessionRequest],
    caller: str,
) -> None:
    _, channel = fuzz_runtime
    call = Stub(channel).StreamSession(iter(sequence), metadata=metadata(caller), timeout=10)
    status = grpc.StatusCode.OK
    try:
        for response in call:
            if response.HasField("error"):
                assert response.error.code.startswith(INLINE_PREFIXES), response.error
                assert response.error.message_id == ""
            else:
                assert response.HasField("envelope")
    except grpc.RpcError as error:
        status = error.code()
    assert status in STREAM_STATUSES, (status, call)
    check_alive(channel)


@FUZZ
@given(data=st.binary(max_size=200), caller=callers)
def test_random_bytes_on_both_rpcs(
    fuzz_runtime: tuple[LocalRuntime, grpc.Channel], data: bytes, caller: str
) -> None:
    _, channel = fuzz_runtime
    unary = channel.unary_unary(SEND)
    try:
        raw = unary(data, metadata=metadata(caller), timeout=10)
        check_ack(core_pb2.SendResponse.FromString(raw).ack)
    except grpc.RpcError as error:
        assert error.code() in RAW_STATUSES, error
    check_alive(channel)
    streaming = channel.stream_stream(STREAM)
    try:
        for raw in streaming(iter([data, data[::-1]]), metadata=metadata(caller), timeout=10):
            response = core_pb2.StreamSessionResponse.FromString(raw)
            assert response.HasField("error") or response.HasField("envelope")
    except grpc.RpcError as error:
        assert error.code() in RAW_STATUSES, error


def test_the_runtime_is_still_serving_after_fuzzing(
    fuzz_runtime: tuple[LocalRuntime, grpc.Channel],
) -> None:
    runtime, channel = fuzz_runtime
    check_alive(channel)
    fresh = session_start(DECISION, str(uuid.uuid4()), "lead", ["alice"])
    assert send(Stub(channel), fresh, "lead").ok
    # Every fuzzed stream ended, and the runtime let go of each one.
    for _ in range(500):
        if runtime.open_streams() == 0:
            break
        time.sleep(0.02)
    assert runtime.open_streams() == 0
