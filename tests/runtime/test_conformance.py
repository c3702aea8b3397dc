"""Replay every runtime conformance fixture over gRPC against the local runtime.

Each message travels with its own sender's credentials; the inline policy (if any) is
registered first; the SessionStart comes from the initiator, built from the fixture's
top-level fields. Fixtures are read from ../shared/conformance (never copied here).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

from .helpers import creds, envelope, new_session_id, send

# MACP_CONFORMANCE_DIR overrides ../shared/conformance (the check that a missing set fails).
CONFORMANCE = Path(
    os.environ.get("MACP_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
)
FIXTURE_DIR = CONFORMANCE / "runtime"
FIXTURES = sorted(p for p in FIXTURE_DIR.glob("*.json") if p.name != "schema.json")
MISSING = f"conformance fixtures not found in {FIXTURE_DIR} (../shared/conformance)"
# Without fixtures, one failing case stands in for them: CI must fail, never skip.
FIXTURE_PARAMS = [pytest.param(p, id=p.stem) for p in FIXTURES] or [
    pytest.param(None, id="fixtures-missing")
]

FINAL_STATES = {
    "Open": envelope_pb2.SESSION_STATE_OPEN,
    "Resolved": envelope_pb2.SESSION_STATE_RESOLVED,
    "Suspended": envelope_pb2.SESSION_STATE_SUSPENDED,
    "Cancelled": envelope_pb2.SESSION_STATE_CANCELLED,
    "Expired": envelope_pb2.SESSION_STATE_EXPIRED,
}


def payload_class(payload_type: str) -> type[Message]:
    """`macp.v1.X` or `macp.modes.<m>.v1.X` -> the generated message class."""
    package, _, name = payload_type.rpartition(".")
    if package == "macp.v1":
        module = importlib.import_module("macp.v1.core_pb2")
    else:
        short = package.split(".")[2]
        module = importlib.import_module(f"{package}.{short}_pb2")
    cls: type[Message] = getattr(module, name)
    return cls


def fill(message: Message, values: dict[str, Any]) -> Message:
    """Fixture JSON -> message: bytes fields are UTF-8 strings or `[]` (meaning empty)."""
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.type == FieldDescriptor.TYPE_BYTES:
            if isinstance(value, str):
                setattr(message, name, value.encode())
        elif isinstance(value, list):
            getattr(message, name).extend(value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            fill(getattr(message, name), value)
        else:
            setattr(message, name, value)
    return message


def register_policy(
    stub: core_pb2_grpc.MACPRuntimeServiceStub, spec: dict[str, Any], who: str
) -> None:
    descriptor = policy_pb2.PolicyDescriptor(
        policy_id=spec["policy_id"],
        mode=spec["mode"],
        description=spec.get("description", ""),
        rules=json.dumps(spec["rules"]),
        schema_version=spec["schema_version"],
    )
    response = stub.RegisterPolicy(
        policy_pb2.RegisterPolicyRequest(policy_descriptor=descriptor), metadata=creds(who)
    )
    assert response.ok, response.error


@pytest.mark.parametrize("fixture_path", FIXTURE_PARAMS)
def test_fixture(stub: core_pb2_grpc.MACPRuntimeServiceStub, fixture_path: Path | None) -> None:
    if fixture_path is None:
        pytest.fail(MISSING)
    fixture = json.loads(fixture_path.read_text())
    mode, initiator = fixture["mode"], fixture["initiator"]
    if "policy" in fixture:
        register_policy(stub, fixture["policy"], initiator)
    session_id = new_session_id()
    start = core_pb2.SessionStartPayload(
        intent=fixture.get("description", "conformance"),
        participants=fixture["participants"],
        mode_version=fixture["mode_version"],
        configuration_version=fixture["configuration_version"],
        policy_version=fixture.get("policy_version", ""),
        ttl_ms=fixture["ttl_ms"],
    )
    now_ms = time.time_ns() // 1_000_000
    ack = send(stub, envelope(mode, "SessionStart", session_id, initiator, start,
                              timestamp_ms=now_ms), initiator)
    assert ack.ok, ack.error

    for index, step in enumerate(fixture["messages"]):
        payload = fill(payload_class(step["payload_type"])(), step["payload"])
        env = envelope(mode, step["message_type"], session_id, step["sender"], payload,
                       timestamp_ms=now_ms)
        ack = send(stub, env, step["sender"])
        where = f"message {index} ({step['message_type']} from {step['sender']})"
        if step["expect"] == "accept":
            assert ack.ok and not ack.duplicate, f"{where} rejected: {ack.error}"
        else:
            assert not ack.ok, f"{where} was accepted"
            assert ack.session_state == envelope_pb2.SESSION_STATE_UNSPECIFIED
            if "expected_error_code" in step:
                assert ack.error.code == step["expected_error_code"], where

    metadata = stub.GetSession(
        core_pb2.GetSessionRequest(session_id=session_id), metadata=creds(initiator)
    ).metadata
    assert metadata.state == FINAL_STATES[fixture["expected_final_state"]]


def test_fixtures_are_present() -> None:
    assert len(FIXTURES) >= 17, MISSING


def test_unknown_credentials_never_reach_the_kernel(
    stub: core_pb2_grpc.MACPRuntimeServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        stub.GetSession(core_pb2.GetSessionRequest(session_id=new_session_id()))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
