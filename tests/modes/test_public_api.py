"""The package's public surface: one flat import, lazily loaded, and the registry."""

from __future__ import annotations

import json
import subprocess
import sys

import macp_sdk
from macp.modes.quorum.v1 import quorum_pb2
from macp_sdk import MODE_REGISTRY, decode_envelope, describe_envelope
from macp_sdk._registry import mode_descriptor, payload_class, session_class
from macp_sdk.modes.decision import build_vote
from macp_sdk.modes.quorum import build_reject as build_quorum_reject


def test_the_seed_imports_work() -> None:
    from macp_sdk import (  # noqa: F401
        AuthConfig,
        DecisionSession,
        MacpClient,
        QuorumSession,
        TaskSession,
    )
    from macp_sdk.envelope import build_envelope, serialize_message  # noqa: F401


def test_import_is_cheap_and_lazy() -> None:
    probe = (
        "import json, sys, macp_sdk; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('macp_sdk', 'grpc')))))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True))
    assert loaded == ["macp_sdk"], loaded


def test_every_public_name_resolves() -> None:
    for name in macp_sdk.__all__:
        assert getattr(macp_sdk, name) is not None, name


def test_registry_maps_modes_to_sessions_payloads_and_descriptors() -> None:
    assert set(MODE_REGISTRY) >= {"macp.mode.decision.v1", "ext.multi_round.v1"}
    assert session_class("macp.mode.quorum.v1").__name__ == "QuorumSession"
    # Same message type name in two modes resolves per mode.
    assert payload_class("macp.mode.quorum.v1", "Reject") is quorum_pb2.RejectPayload
    assert payload_class("macp.mode.proposal.v1", "Reject") is not quorum_pb2.RejectPayload
    assert payload_class("macp.mode.task.v1", "Commitment").DESCRIPTOR.name == "CommitmentPayload"
    descriptor = mode_descriptor("macp.mode.decision.v1")
    assert list(descriptor.message_types) == [
        "SessionStart",
        "Proposal",
        "Evaluation",
        "Objection",
        "Vote",
        "Commitment",
    ]
    assert list(descriptor.terminal_message_types) == ["Commitment"]


def test_any_envelope_decodes_to_its_typed_payload() -> None:
    envelope = build_quorum_reject(session_id="s", sender="r1", request_id="req-1", reason="no")
    payload = decode_envelope(envelope)
    assert isinstance(payload, quorum_pb2.RejectPayload) and payload.reason == "no"
    vote = build_vote(session_id="s", sender="a", proposal_id="p1", vote="approve")
    assert describe_envelope(vote) == (
        'Vote from a [macp.mode.decision.v1] proposal_id: "p1" vote: "APPROVE"'
    )
    vote.payload = b"\xff\xff"
    assert "undecodable" in describe_envelope(vote)
