"""MacpClient against a real gRPC server on loopback: auth, NACKs, duplicates, retry, TLS."""

from __future__ import annotations

import logging

import grpc
import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk.auth import AuthConfig
from macp_sdk.client import UNBOUNDED, MacpClient
from macp_sdk.envelope import (
    build_envelope,
    build_session_start_payload,
    new_session_id,
    serialize_message,
)
from macp_sdk.errors import (
    MacpAckError,
    MacpIdentityMismatchError,
    MacpNotFoundError,
    MacpPermissionDeniedError,
    MacpPolicyDeniedError,
    MacpRetryError,
    MacpSessionAlreadyExistsError,
    MacpSessionError,
    MacpSessionNotFoundError,
    MacpSessionNotOpenError,
    MacpUnavailableError,
    MacpUnimplementedError,
    MacpValidationError,
)
from macp_sdk.retry import RetryPolicy

from .fake_runtime import RunningRuntime, start_runtime

MODE = "macp.mode.decision.v1"


def start_envelope(session_id: str, *, sender: str = "coordinator", message_id: str | None = None):  # type: ignore[no-untyped-def]
    payload = build_session_start_payload(
        intent="pick", participants=["coordinator", "alice"], ttl_ms=60_000
    )
    return build_envelope(
        mode=MODE,
        message_type="SessionStart",
        session_id=session_id,
        sender=sender,
        payload=serialize_message(payload),
        message_id=message_id,
    )


def vote_envelope(session_id: str, sender: str = "coordinator") -> envelope_pb2.Envelope:
    payload = decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE")
    return build_envelope(
        mode=MODE,
        message_type="Vote",
        session_id=session_id,
        sender=sender,
        payload=serialize_message(payload),
    )


def test_seed_constructor_sends_bearer_metadata(
    client: MacpClient, runtime: RunningRuntime
) -> None:
    sid = new_session_id()
    ack = client.send(start_envelope(sid))
    assert ack.ok and ack.session_state == envelope_pb2.SESSION_STATE_OPEN
    method, md = runtime.runtime.metadata_seen[-1]
    assert method == "Send"
    assert md["authorization"] == "Bearer coordinator"


def test_per_call_auth_overrides_client_auth(client: MacpClient, runtime: RunningRuntime) -> None:
    client.list_modes(auth=AuthConfig.for_bearer("tok-xyz", expected_sender="svc"))
    assert runtime.runtime.metadata_seen[-1][1]["authorization"] == "Bearer tok-xyz"


def test_optional_auth_rpcs_work_without_credentials(runtime: RunningRuntime) -> None:
    with MacpClient(target=runtime.target, secure=False) as anon:
        assert anon.initialize().selected_protocol_version == "1.0"
        assert anon.server_capabilities is not None and anon.server_capabilities.sessions.stream
        assert "authorization" not in runtime.runtime.metadata_seen[-1][1]
        with pytest.raises(MacpSessionError, match="needs credentials"):
            anon.get_session(new_session_id())


def test_nack_maps_to_typed_error_with_ids(client: MacpClient) -> None:
    env = vote_envelope(new_session_id())
    with pytest.raises(MacpSessionNotFoundError) as info:
        client.send(env)
    err = info.value
    assert isinstance(err, MacpAckError)
    assert err.code == "SESSION_NOT_FOUND"
    assert err.session_id == env.session_id and err.message_id == env.message_id
    assert err.message_type == "Vote" and err.mode == MODE


def test_raise_on_nack_false_returns_the_ack(client: MacpClient) -> None:
    ack = client.send(vote_envelope(new_session_id()), raise_on_nack=False)
    assert not ack.ok and ack.error.code == "SESSION_NOT_FOUND"


def test_duplicate_ack_is_success_and_existing_session_is_typed(client: MacpClient) -> None:
    sid = new_session_id()
    env = start_envelope(sid)
    assert client.send(env).ok
    again = client.send(env)
    assert again.duplicate
    with pytest.raises(MacpSessionAlreadyExistsError):
        client.send(start_envelope(sid))


def test_duplicate_message_code_counts_as_success(
    client: MacpClient, runtime: RunningRuntime
) -> None:
    runtime.runtime.send_script = ["DUPLICATE_MESSAGE"]
    ack = client.send(vote_envelope(new_session_id()))
    assert ack.error.code == "DUPLICATE_MESSAGE"


def test_policy_denied_carries_reasons(client: MacpClient, runtime: RunningRuntime) -> None:
    sid = new_session_id()
    client.send(start_envelope(sid))
    runtime.runtime.deny_commitments = ["quorum not met"]
    commit = build_envelope(
        mode=MODE,
        message_type="Commitment",
        session_id=sid,
        sender="coordinator",
        payload=core_pb2.CommitmentPayload(commitment_id="c1", action="decision.approved"),
    )
    with pytest.raises(MacpPolicyDeniedError) as info:
        client.send(commit)
    assert info.value.reasons == ["quorum not met"]
    assert "quorum not met" in str(info.value)


def test_session_not_open_after_commitment(client: MacpClient) -> None:
    sid = new_session_id()
    client.send(start_envelope(sid))
    commit = build_envelope(
        mode=MODE,
        message_type="Commitment",
        session_id=sid,
        payload=core_pb2.CommitmentPayload(action="decision.approved"),
    )
    assert client.send(commit).session_state == envelope_pb2.SESSION_STATE_RESOLVED
    with pytest.raises(MacpSessionNotOpenError):
        client.send(vote_envelope(sid))


def test_identity_guard_names_the_auth_to_pass(client: MacpClient, runtime: RunningRuntime) -> None:
    before = len(runtime.runtime.send_attempts)
    with pytest.raises(MacpIdentityMismatchError) as info:
        client.send(vote_envelope(new_session_id(), sender="alice"))
    text = str(info.value)
    assert "AuthConfig.for_dev_agent('alice')" in text and "'coordinator'" in text
    assert len(runtime.runtime.send_attempts) == before  # nothing went on the wire


def test_retry_resends_same_message_id(runtime: RunningRuntime) -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=3, backoff_base=0.1, sleep=sleeps.append, rng=lambda: 1.0)
    runtime.runtime.send_script = ["UNAVAILABLE", "RATE_LIMITED"]
    with MacpClient(
        target=runtime.target,
        secure=False,
        retry=policy,
        auth=AuthConfig.for_dev_agent("coordinator"),
    ) as c:
        env = start_envelope(new_session_id())
        assert c.send(env).ok
    assert runtime.runtime.send_attempts == [env.message_id] * 3
    assert sleeps == [0.1, 0.2]


def test_retry_gives_up_with_retry_error(client: MacpClient, runtime: RunningRuntime) -> None:
    runtime.runtime.send_script = ["UNAVAILABLE"] * 5
    policy = RetryPolicy(max_retries=2, sleep=lambda _s: None)
    with pytest.raises(MacpRetryError) as info:
        client.send(start_envelope(new_session_id()), retry=policy)
    assert info.value.attempts == 3
    assert isinstance(info.value.last_error, MacpUnavailableError)


def test_no_retry_by_default_and_non_retryable_codes_fail_fast(
    client: MacpClient, runtime: RunningRuntime
) -> None:
    runtime.runtime.send_script = ["UNAVAILABLE"]
    with pytest.raises(MacpUnavailableError):
        client.send(start_envelope(new_session_id()))
    runtime.runtime.send_script = ["FORBIDDEN"]
    with pytest.raises(MacpAckError) as info:
        client.send(start_envelope(new_session_id()), retry=RetryPolicy(sleep=lambda _s: None))
    assert info.value.code == "FORBIDDEN"


def test_grpc_statuses_map_to_named_errors(client: MacpClient) -> None:
    with pytest.raises(MacpNotFoundError) as info:
        client.get_session(new_session_id())
    assert info.value.code == "NOT_FOUND"
    sid = new_session_id()
    client.send(start_envelope(sid))
    with pytest.raises(MacpPermissionDeniedError) as denied:
        client.get_session(sid, auth=AuthConfig.for_dev_agent("mallory"))
    assert denied.value.macp_code == "FORBIDDEN"
    with pytest.raises(MacpUnimplementedError):
        client.get_receipt_keys()


def test_lifecycle_rpcs_and_pagination(client: MacpClient) -> None:
    sids = [new_session_id() for _ in range(3)]
    for sid in sids:
        client.send(start_envelope(sid))
    assert client.get_session(sids[0]).metadata.initiator == "coordinator"
    assert (
        client.suspend_session(sids[0], reason="wait").session_state
        == envelope_pb2.SESSION_STATE_SUSPENDED
    )
    assert client.resume_session(sids[0]).session_state == envelope_pb2.SESSION_STATE_OPEN
    assert (
        client.cancel_session(sids[0], reason="done").session_state
        == envelope_pb2.SESSION_STATE_CANCELLED
    )
    assert {m.session_id for m in client.list_sessions(page_size=2)} == set(sids)
    page, token = client.list_sessions_page(page_size=2)
    assert len(page) == 2 and token
    assert client.get_manifest().manifest.agent_id == "macp-runtime"
    assert client.list_policies().descriptors == []


def test_timeouts_validate_and_unbounded_is_accepted(client: MacpClient) -> None:
    assert client.list_modes(timeout=UNBOUNDED).modes
    assert client.list_modes(timeout=2.5).modes
    with pytest.raises(MacpValidationError):
        client.list_modes(timeout=-1)


def test_signal_and_progress_helpers(client: MacpClient) -> None:
    assert client.send_signal(signal_type="heartbeat", data=b"x").ok
    assert client.send_progress(progress_token="t", progress=1, total=2).ok
    with pytest.raises(MacpValidationError, match="mode"):
        client.send_progress(progress_token="t", progress=1, total=2, session_id=new_session_id())


def test_plaintext_logs_one_warning(
    runtime: RunningRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="macp_sdk")
    with MacpClient(target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent("a")) as c:
        c.list_modes()
        c.list_modes()
    warnings = [r for r in caplog.records if "plaintext" in r.getMessage()]
    assert len(warnings) == 1


def test_token_never_in_repr_logs_or_errors(
    runtime: RunningRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="macp_sdk")
    secret = "s3cr3t-token-value"
    auth = AuthConfig.for_bearer(secret, expected_sender="svc")
    with MacpClient(target=runtime.target, secure=False, auth=auth) as c:
        assert secret not in repr(auth) and secret not in str(auth) and secret not in repr(c)
        with pytest.raises(MacpIdentityMismatchError) as info:
            c.send(vote_envelope(new_session_id(), sender="other"))
        assert secret not in str(info.value)
        ack = c.send(vote_envelope(new_session_id(), sender="svc"), raise_on_nack=False)
        assert not ack.ok
    assert secret not in caplog.text


def test_tls_with_custom_roots(tls) -> None:  # type: ignore[no-untyped-def]
    creds = grpc.ssl_server_credentials([(tls.server_key, tls.server_cert)])
    running = start_runtime(creds)
    try:
        target = f"localhost:{running.port}"
        with MacpClient(
            target=target,
            root_certificates=tls.ca_cert,
            auth=AuthConfig.for_dev_agent("coordinator"),
            default_timeout=5,
        ) as c:
            assert c.secure
            assert c.send(start_envelope(new_session_id())).ok
        # Without the CA the handshake fails: TLS really is on.
        with MacpClient(target=target, auth=AuthConfig.for_dev_agent("x"), default_timeout=2) as c:
            with pytest.raises(MacpUnavailableError):
                c.list_modes()
    finally:
        running.stop()


def test_mutual_tls_and_channel_options(tls) -> None:  # type: ignore[no-untyped-def]
    creds = grpc.ssl_server_credentials(
        [(tls.server_key, tls.server_cert)], root_certificates=tls.ca_cert, require_client_auth=True
    )
    running = start_runtime(creds)
    try:
        target = f"localhost:{running.port}"
        with MacpClient(
            target=target,
            root_certificates=tls.ca_cert,
            private_key=tls.client_key,
            certificate_chain=tls.client_cert,
            auth=AuthConfig.for_dev_agent("coordinator"),
            channel_options=[("grpc.max_receive_message_length", 8 * 1024 * 1024)],
            default_timeout=5,
        ) as c:
            assert c.list_modes().modes
        with MacpClient(target=target, root_certificates=tls.ca_cert, default_timeout=2) as c:
            with pytest.raises(MacpUnavailableError):
                c.list_modes()
    finally:
        running.stop()


def test_certificates_require_tls_and_both_halves(runtime: RunningRuntime, tls) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MacpValidationError):
        MacpClient(target=runtime.target, secure=False, root_certificates=tls.ca_cert)
    with pytest.raises(MacpValidationError):
        MacpClient(target=runtime.target, private_key=tls.client_key)
