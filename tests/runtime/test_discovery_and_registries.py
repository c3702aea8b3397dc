"""Initialize, discovery constants, ext modes (passthrough), policies, watchers."""

from __future__ import annotations

import json
import queue
import threading
import time

import grpc
import pytest
from macp.modes.multi_round.v1 import multi_round_pb2
from macp.modes.quorum.v1 import quorum_pb2
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

from .helpers import commitment, creds, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
STANDARD = ["macp.mode.decision.v1", "macp.mode.proposal.v1", "macp.mode.task.v1",
            "macp.mode.handoff.v1", "macp.mode.quorum.v1"]
EXT = "ext.example.v1"


def test_initialize_negotiates_version(stub: Stub) -> None:
    response = stub.Initialize(core_pb2.InitializeRequest(supported_protocol_versions=["1.0"]))
    assert response.selected_protocol_version == "1.0"
    assert response.supported_modes == sorted([*STANDARD, "ext.multi_round.v1"])
    assert response.capabilities.sessions.stream and not response.capabilities.roots.list_changed
    for versions, code in (([], grpc.StatusCode.INVALID_ARGUMENT),
                           (["2.0"], grpc.StatusCode.FAILED_PRECONDITION)):
        with pytest.raises(grpc.RpcError) as error:
            stub.Initialize(core_pb2.InitializeRequest(supported_protocol_versions=versions))
        assert error.value.code() == code


def test_discovery_constants(stub: Stub) -> None:
    modes = stub.ListModes(core_pb2.ListModesRequest()).modes
    assert [m.mode for m in modes] == STANDARD
    assert all(m.mode_version == "1.0.0" and list(m.terminal_message_types) == ["Commitment"]
               for m in modes)
    assert [m.mode for m in stub.ListExtModes(core_pb2.ListExtModesRequest()).modes] == [
        "ext.multi_round.v1"
    ]
    manifest = stub.GetManifest(core_pb2.GetManifestRequest()).manifest
    assert manifest.agent_id == "macp-runtime" and len(manifest.supported_modes) == 6
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetManifest(core_pb2.GetManifestRequest(agent_id="someone-else"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert list(stub.ListRoots(core_pb2.ListRootsRequest()).roots) == []


def test_governance_rpcs_are_advertised_and_answer(stub: Stub) -> None:
    # Full behaviour: tests/governance/test_on_local_runtime.py.
    capabilities = stub.Initialize(
        core_pb2.InitializeRequest(supported_protocol_versions=["1.0"]), timeout=5
    ).capabilities
    assert capabilities.policy_registry.what_if_replay
    assert capabilities.decision_receipt.get_decision_receipt
    keys = stub.GetReceiptKeys(core_pb2.GetReceiptKeysRequest(), timeout=5)
    assert '"keys"' in keys.jwks_json
    with pytest.raises(grpc.RpcError) as missing:
        stub.GetDecisionReceipt(
            core_pb2.GetDecisionReceiptRequest(session_id="nope"), metadata=creds("x"), timeout=5
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as no_candidate:
        stub.WhatIfReplay(policy_pb2.WhatIfReplayRequest(), metadata=creds("x"), timeout=5)
    assert no_candidate.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_ext_mode_lifecycle_and_passthrough(stub: Stub) -> None:
    watch = stub.WatchModeRegistry(core_pb2.WatchModeRegistryRequest(), timeout=10)
    assert next(watch).change.registry == "modes"
    descriptor = core_pb2.ModeDescriptor(
        mode=EXT, mode_version="0.1.0", message_types=["SessionStart", "Note", "Commitment"],
        terminal_message_types=["Commitment"],
    )
    request = core_pb2.RegisterExtModeRequest(mode_descriptor=descriptor)
    assert stub.RegisterExtMode(request, metadata=creds("admin")).ok
    again = stub.RegisterExtMode(request, metadata=creds("admin"))
    assert not again.ok and "already" in again.error
    assert next(watch).change.registry == "modes"
    watch.cancel()
    reserved = core_pb2.ModeDescriptor()
    reserved.CopyFrom(descriptor)
    reserved.mode = "macp.mode.custom.v1"
    assert not stub.RegisterExtMode(core_pb2.RegisterExtModeRequest(mode_descriptor=reserved),
                                    metadata=creds("admin")).ok
    assert EXT in [m.mode for m in stub.ListExtModes(core_pb2.ListExtModesRequest()).modes]

    session_id = new_session_id()
    # Non-strict: no participants or mode_version needed (the descriptor version is bound).
    start = core_pb2.SessionStartPayload(ttl_ms=1_000, configuration_version="cfg-1")
    assert send(stub, envelope(EXT, "SessionStart", session_id, "lead", start), "lead").ok
    assert send(stub, envelope(EXT, "Note", session_id, "anyone", b"hello"), "anyone").ok
    assert send(stub, envelope(EXT, "Other", session_id, "lead", b"x"), "lead"
                ).error.code == "INVALID_ENVELOPE"
    done = commitment("example.done", True)
    done.mode_version = "0.1.0"
    assert send(stub, envelope(EXT, "Commitment", session_id, "anyone", done), "anyone"
                ).error.code == "FORBIDDEN"
    assert send(stub, envelope(EXT, "Commitment", session_id, "lead", done), "lead"
                ).session_state == envelope_pb2.SESSION_STATE_RESOLVED

    promoted = stub.PromoteMode(core_pb2.PromoteModeRequest(mode=EXT, promoted_mode_name=""),
                                metadata=creds("admin"))
    assert promoted.ok and promoted.mode == EXT
    assert EXT in [m.mode for m in stub.ListModes(core_pb2.ListModesRequest()).modes]
    refused = stub.UnregisterExtMode(core_pb2.UnregisterExtModeRequest(mode=EXT),
                                     metadata=creds("admin"))
    assert not refused.ok  # standards-track now


def test_multi_round_accepts_json_and_protobuf_contributions(stub: Stub) -> None:
    mode, session_id = "ext.multi_round.v1", new_session_id()
    assert send(stub, session_start(mode, session_id, "lead", ["a", "b"]), "lead").ok
    assert send(stub, envelope(mode, "Contribute", session_id, "a",
                               json.dumps({"value": "x"}).encode()), "a").ok
    assert send(stub, envelope(mode, "Contribute", session_id, "b",
                               multi_round_pb2.ContributePayload(value="x")), "b").ok
    converged = commitment("multi_round.converged", True)
    assert send(stub, envelope(mode, "Commitment", session_id, "lead", converged), "lead").ok


def test_policy_registry_and_quorum_threshold(stub: Stub) -> None:
    policies = stub.ListPolicies(policy_pb2.ListPoliciesRequest(), metadata=creds("a"))
    assert [p.policy_id for p in policies.descriptors] == ["policy.default"]
    watch = stub.WatchPolicies(policy_pb2.WatchPoliciesRequest(), timeout=10)
    assert len(next(watch).descriptors) == 1
    strict = policy_pb2.PolicyDescriptor(
        policy_id="policy.quorum.all", mode="macp.mode.quorum.v1", schema_version=1,
        rules=json.dumps({"threshold": {"type": "percentage", "value": 100}}),
    )
    register = policy_pb2.RegisterPolicyRequest(policy_descriptor=strict)
    assert stub.RegisterPolicy(register, metadata=creds("a")).ok
    assert len(next(watch).descriptors) == 2
    watch.cancel()
    bad = policy_pb2.PolicyDescriptor(policy_id="policy.bad", schema_version=1,
                                      rules=json.dumps({"voting": {"algorithm": "weighted"}}))
    assert not stub.RegisterPolicy(policy_pb2.RegisterPolicyRequest(policy_descriptor=bad),
                                   metadata=creds("a")).ok
    got = stub.GetPolicy(policy_pb2.GetPolicyRequest(policy_id="policy.quorum.all"),
                         metadata=creds("a")).policy_descriptor
    assert json.loads(got.rules) == {"threshold": {"type": "percentage", "value": 100}}

    mode, session_id = "macp.mode.quorum.v1", new_session_id()
    wrong = session_start("macp.mode.decision.v1", session_id, "lead", ["a"],
                          policy_version="policy.quorum.all")
    assert send(stub, wrong, "lead").error.code == "INVALID_POLICY_DEFINITION"
    unknown = session_start(mode, session_id, "lead", ["a"], policy_version="policy.nope")
    assert send(stub, unknown, "lead").error.code == "UNKNOWN_POLICY_VERSION"
    start = session_start(mode, session_id, "lead", ["a", "b"], policy_version="policy.quorum.all")
    assert send(stub, start, "lead").ok
    request = quorum_pb2.ApprovalRequestPayload(request_id="r", action="go", required_approvals=1)
    assert send(stub, envelope(mode, "ApprovalRequest", session_id, "lead", request), "lead").ok
    assert send(stub, envelope(mode, "Approve", session_id, "a",
                               quorum_pb2.ApprovePayload(request_id="r")), "a").ok
    # required_approvals=1 is met, but the policy's 100% threshold is not: not ready yet.
    approve = commitment("quorum.approved", True, policy_version="policy.quorum.all")
    assert send(stub, envelope(mode, "Commitment", session_id, "lead", approve), "lead"
                ).error.code == "INVALID_ENVELOPE"
    assert send(stub, envelope(mode, "Reject", session_id, "b",
                               quorum_pb2.RejectPayload(request_id="r")), "b").ok
    denied = send(stub, envelope(mode, "Commitment", session_id, "lead", approve), "lead")
    assert denied.error.code == "POLICY_DENIED"
    assert json.loads(denied.error.details)["reasons"]
    decline = commitment("quorum.rejected", False, policy_version="policy.quorum.all")
    assert send(stub, envelope(mode, "Commitment", session_id, "lead", decline), "lead").ok


def test_watch_sessions_and_signals(stub: Stub) -> None:
    first = new_session_id()
    assert send(stub, session_start("macp.mode.decision.v1", first, "lead", ["a"]), "lead").ok
    sessions = stub.WatchSessions(core_pb2.WatchSessionsRequest(), metadata=creds("x"), timeout=10)
    signals = stub.WatchSignals(core_pb2.WatchSignalsRequest(), metadata=creds("x"), timeout=10)
    initial = next(sessions).event
    assert (initial.event_type, initial.session.session_id) == (
        core_pb2.SessionLifecycleEvent.EVENT_TYPE_CREATED, first
    )
    stub.CancelSession(core_pb2.CancelSessionRequest(session_id=first), metadata=creds("lead"))
    assert next(sessions).event.event_type == core_pb2.SessionLifecycleEvent.EVENT_TYPE_CANCELLED
    # WatchSignals has no initial message and no replay: wait until it is surely subscribed.
    received: queue.Queue[core_pb2.WatchSignalsResponse] = queue.Queue()

    def collect() -> None:
        try:
            for response in signals:
                received.put(response)
        except grpc.RpcError:
            pass  # cancelled at the end of the test

    threading.Thread(target=collect, daemon=True).start()
    while received.empty():
        warmup = envelope("", "Signal", "", "a", core_pb2.SignalPayload(signal_type="warmup"))
        ack = send(stub, warmup, "a")
        assert ack.ok and ack.session_state == envelope_pb2.SESSION_STATE_OPEN
        time.sleep(0.02)
    signal = envelope("", "Signal", "", "a", core_pb2.SignalPayload(signal_type="heartbeat"))
    assert send(stub, signal, "a").ok
    while (got := received.get(timeout=10)).envelope.message_id != signal.message_id:
        assert got.envelope.message_type == "Signal"
    assert got.sender_authenticated
    scoped = envelope("", "Signal", first, "a", core_pb2.SignalPayload(signal_type="x"))
    assert send(stub, scoped, "a").error.code == "INVALID_ENVELOPE"
    sessions.cancel()
    signals.cancel()


def test_list_sessions_pages(stub: Stub) -> None:
    ids = sorted(new_session_id() for _ in range(5))
    for session_id in ids:
        assert send(stub, session_start("macp.mode.decision.v1", session_id, "l", ["a"]), "l").ok
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListSessions(core_pb2.ListSessionsRequest(page_size=2, page_token=token),
                                 metadata=creds("anyone"))
        seen += [s.session_id for s in page.sessions]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
