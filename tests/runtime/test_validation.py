"""Ids and credentials are validated as the reference does: whole-string matches only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from macp.v1 import core_pb2, core_pb2_grpc
from macp_local_runtime.session_id import is_valid_session_id
from macp_sdk.errors import macp_error_code
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig, StaticToken

from .helpers import DECISION, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
UUID4 = "3f1c2b9e-8d7a-4c6b-9e5f-1a2b3c4d5e6f"
UUID7 = "01890a5d-ac96-774b-bcce-b302099a8057"
B64 = "AbCdEfGhIjKlMnOpQrStUv"  # 22 base64url characters


@pytest.mark.parametrize("session_id", [UUID4, UUID7, B64, B64 + "-_x"])
def test_valid_session_ids(session_id: str) -> None:
    assert is_valid_session_id(session_id)


@pytest.mark.parametrize(
    "session_id",
    [
        UUID4 + "\n",  # `$` would match before a trailing newline
        B64 + "\n",
        "\n" + B64,
        UUID4.upper(),
        "3f1c2b9e-8d7a-1c6b-9e5f-1a2b3c4d5e6f",  # a v1 UUID
        B64[:-1],  # 21 characters
        B64 + "=",
        "",
    ],
)
def test_invalid_session_ids(session_id: str) -> None:
    assert not is_valid_session_id(session_id)


def test_a_session_id_with_a_trailing_newline_is_refused_over_grpc(stub: Stub) -> None:
    for session_id in (str(uuid.uuid4()) + "\n", B64 + "\n"):
        ack = send(stub, session_start(DECISION, session_id, "lead", ["alice"]), "lead")
        assert (ack.ok, ack.error.code) == (False, "INVALID_SESSION_ID")


@pytest.fixture
def static_stub() -> Iterator[Stub]:
    tokens = [StaticToken(token="tok-lead", sender="lead"), StaticToken("a.b", sender="dot")]
    config = RuntimeConfig(auth_tokens=tokens, sweep_interval_s=None)
    with LocalRuntime(config) as runtime, grpc.insecure_channel(runtime.target) as channel:
        yield Stub(channel)


def test_the_static_resolver_ignores_tokens_containing_a_dot(static_stub: Stub) -> None:
    start = session_start(DECISION, new_session_id(), "", ["alice"])
    assert send(static_stub, start, "tok-lead").ok
    ack = send(static_stub, session_start(DECISION, new_session_id(), "", ["alice"]), "a.b")
    assert (ack.ok, ack.error.code) == (False, "UNAUTHENTICATED")
    with pytest.raises(grpc.RpcError) as info:
        static_stub.GetSession(
            core_pb2.GetSessionRequest(session_id=start.session_id),
            metadata=(("authorization", "Bearer a.b"),),
        )
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert macp_error_code(info.value) == "UNAUTHENTICATED"


def test_dev_mode_accepts_any_bearer_value_verbatim(stub: Stub) -> None:
    start = session_start(DECISION, new_session_id(), "", ["alice"])
    assert send(stub, start, "agent.with.dots").ok
    metadata = stub.GetSession(
        core_pb2.GetSessionRequest(session_id=start.session_id),
        metadata=(("authorization", "Bearer agent.with.dots"),),
    ).metadata
    assert metadata.initiator == "agent.with.dots"


@pytest.mark.parametrize(
    "header",
    [("authorization", "bearer lead"), ("authorization", "Bearer "), ("authorization", "lead")],
)
def test_the_bearer_prefix_is_exact(stub: Stub, header: tuple[str, str]) -> None:
    start = session_start(DECISION, new_session_id(), "", ["alice"])
    response = stub.Send(core_pb2.SendRequest(envelope=start), metadata=(header,), timeout=10)
    assert (response.ack.ok, response.ack.error.code) == (False, "UNAUTHENTICATED")
