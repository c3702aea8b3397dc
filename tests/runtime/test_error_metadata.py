"""Every MACP error answered as a gRPC status names its code in `macp-error-code` trailers.

That is runtime 0.9+ behaviour; the SDK's `macp_error_code(e)` reads it (and maps the error to
its typed refusal). Each case is checked for the status, the trailing code, and that the SDK
reads the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, core_pb2_grpc, policy_pb2
from macp_sdk.errors import macp_error_code
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig, StaticToken

from .helpers import DECISION, StreamClient, creds, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub


def trailing_code(error: grpc.RpcError) -> str | None:
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "macp-error-code":
            return value if isinstance(value, str) else value.decode()
    return None


def refused(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    error = info.value
    assert trailing_code(error) == macp_error_code(error)
    return error


def expect(call: Callable[[], object], status: grpc.StatusCode, code: str) -> None:
    error = refused(call)
    assert (error.code(), trailing_code(error)) == (status, code), error.details()


@pytest.fixture
def session_id(stub: Stub) -> str:
    sid = new_session_id()
    assert send(stub, session_start(DECISION, sid, "lead", ["alice"]), "lead").ok
    return sid


def test_unary_rpcs(stub: Stub, session_id: str) -> None:
    S = grpc.StatusCode
    missing = core_pb2.GetSessionRequest(session_id=new_session_id())
    expect(lambda: stub.GetSession(missing, metadata=creds("lead")),
           S.NOT_FOUND, "SESSION_NOT_FOUND")
    expect(lambda: stub.GetSession(missing), S.UNAUTHENTICATED, "UNAUTHENTICATED")
    known = core_pb2.GetSessionRequest(session_id=session_id)
    expect(lambda: stub.GetSession(known, metadata=creds("eve")), S.PERMISSION_DENIED, "FORBIDDEN")
    cancel = core_pb2.CancelSessionRequest(session_id=session_id)
    expect(lambda: stub.CancelSession(cancel, metadata=creds("alice")),
           S.PERMISSION_DENIED, "FORBIDDEN")
    expect(lambda: stub.Send(core_pb2.SendRequest(), metadata=creds("lead")),
           S.INVALID_ARGUMENT, "INVALID_REQUEST")
    expect(lambda: stub.Initialize(core_pb2.InitializeRequest()),
           S.INVALID_ARGUMENT, "INVALID_REQUEST")
    expect(lambda: stub.Initialize(core_pb2.InitializeRequest(supported_protocol_versions=["9"])),
           S.FAILED_PRECONDITION, "UNSUPPORTED_PROTOCOL_VERSION")
    expect(lambda: stub.GetManifest(core_pb2.GetManifestRequest(agent_id="nobody")),
           S.NOT_FOUND, "AGENT_NOT_FOUND")
    expect(lambda: stub.GetPolicy(policy_pb2.GetPolicyRequest(policy_id="nope"),
                                  metadata=creds("lead")),
           S.NOT_FOUND, "UNKNOWN_POLICY_VERSION")
    expect(lambda: stub.RegisterExtMode(core_pb2.RegisterExtModeRequest(), metadata=creds("lead")),
           S.INVALID_ARGUMENT, "INVALID_REQUEST")


def test_registry_rights_on_a_static_token_runtime() -> None:
    config = RuntimeConfig(auth_tokens=[StaticToken("tok", "agent")], sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        stub = Stub(channel)
        request = policy_pb2.UnregisterPolicyRequest(policy_id="p")
        expect(lambda: stub.UnregisterPolicy(request, metadata=creds("tok")),
               grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")
        expect(lambda: stub.UnregisterPolicy(request, metadata=creds("other")),
               grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")


@pytest.fixture
def streams(stub: Stub) -> Iterator[list[StreamClient]]:
    opened: list[StreamClient] = []
    yield opened
    for stream in opened:
        stream.cancel()


def test_stream_ending_statuses(stub: Stub, session_id: str, streams: list[StreamClient]) -> None:
    S = grpc.StatusCode
    cases: list[tuple[Callable[[StreamClient], None], grpc.StatusCode, str]] = [
        (lambda s: s.subscribe(new_session_id()), S.NOT_FOUND, "SESSION_NOT_FOUND"),
        (lambda s: s.send(session_start(DECISION, session_id, "lead", ["alice"])),
         S.ALREADY_EXISTS, "SESSION_ALREADY_EXISTS"),
        (lambda s: s.send(session_start(DECISION, "not-an-id", "lead", ["alice"])),
         S.INVALID_ARGUMENT, "INVALID_SESSION_ID"),
        (lambda s: s.send_frame(core_pb2.StreamSessionRequest()),
         S.INVALID_ARGUMENT, "INVALID_REQUEST"),
        (lambda s: s.send(envelope(DECISION, "Proposal", session_id, "eve",
                                   decision_pb2.ProposalPayload(proposal_id="p", option="x"))),
         S.UNAUTHENTICATED, "UNAUTHENTICATED"),  # sender spoof: the caller is "lead"
    ]
    for act, status, code in cases:
        stream = StreamClient(stub, "lead")
        streams.append(stream)
        act(stream)
        assert stream.wait_done() == status, code
        assert stream.final_macp_code == code, stream.final_details


def test_unauthenticated_stream_and_watch(stub: Stub) -> None:
    expect(lambda: next(iter(stub.WatchSessions(core_pb2.WatchSessionsRequest()))),
           grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
    call = stub.StreamSession(iter([core_pb2.StreamSessionRequest()]))
    expect(lambda: next(iter(call)), grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")


def test_undecodable_request_bytes_are_invalid_requests(runtime: LocalRuntime) -> None:
    corrupt = b"\x0a\xff\xff"  # field 1, length-delimited, with a length past the end
    with grpc.insecure_channel(runtime.target) as channel:
        send_bytes = channel.unary_unary("/macp.v1.MACPRuntimeService/Send")
        expect(lambda: send_bytes(corrupt, metadata=creds("lead"), timeout=10),
               grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
        stream_bytes = channel.stream_stream("/macp.v1.MACPRuntimeService/StreamSession")
        expect(lambda: list(stream_bytes(iter([corrupt]), metadata=creds("lead"), timeout=10)),
               grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
