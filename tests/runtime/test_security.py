"""Startup security like the reference (§1.2, §1.3): TLS, mTLS, static tokens, explicit opt-in.

The command is run as its own process with flags and the reference's environment variables;
certificates are made in the test (certs.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from macp.v1 import core_pb2, core_pb2_grpc
from macp_local_runtime.server import InsecureConfigError
from macp_local_runtime.settings import SettingsError, config_from
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig, StaticToken

from .certs import Pki, make_pki
from .helpers import DECISION, new_session_id, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def pem_files(pki: Pki, tmp_path: Path) -> dict[str, str]:
    files = {
        "ca": pki.ca_cert,
        "cert": pki.server_cert,
        "key": pki.server_key,
    }
    paths = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.pem"
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MACP_")}
    return {**base, "PYTHONPATH": os.pathsep.join(sys.path), **extra}


@contextmanager
def command(args: list[str], env: Mapping[str, str]) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-m", "macp_local_runtime", "--listen", "127.0.0.1:0", *args]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(env)
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def refused(args: list[str], env: Mapping[str, str]) -> str:
    with command(args, env) as process:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 2, err
        return err


def listening_target(process: subprocess.Popen[str]) -> tuple[str, str]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("macp-local-runtime listening on 127.0.0.1:"), line
    return line.split()[3], line


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return err


def send_as(stub: Stub, token: str) -> core_pb2.SendResponse:
    start = session_start(DECISION, new_session_id(), "", ["alice"])
    response: core_pb2.SendResponse = stub.Send(
        core_pb2.SendRequest(envelope=start),
        metadata=(("authorization", f"Bearer {token}"),),
        timeout=10,
    )
    return response


# -- the command ----------------------------------------------------------------------------
def test_command_refuses_plaintext_without_the_opt_in() -> None:
    assert "TLS is required unless" in refused([], {})
    assert "TLS is required unless" in refused([], {"MACP_ALLOW_INSECURE": "0"})


def test_command_refuses_dev_auth_even_with_tls(pem_files: dict[str, str]) -> None:
    env = {"MACP_TLS_CERT_PATH": pem_files["cert"], "MACP_TLS_KEY_PATH": pem_files["key"]}
    assert "no auth configured" in refused([], env)


def test_command_reports_bad_settings_with_their_source(tmp_path: Path) -> None:
    err = refused([], {"MACP_ALLOW_INSECURE": "1", "MACP_AUTH_TOKENS_JSON": "[{"})
    assert "MACP_AUTH_TOKENS_JSON:1:3: invalid JSON" in err
    err = refused(["--allow-insecure", "--max-payload-bytes", "0"], {})
    assert "--max-payload-bytes: expected a positive integer" in err
    missing = str(tmp_path / "absent.pem")
    err = refused([], {"MACP_TLS_CERT_PATH": missing, "MACP_TLS_KEY_PATH": missing})
    assert "MACP_TLS_CERT_PATH: cannot read" in err


def test_command_with_the_env_opt_in_warns_and_serves() -> None:
    with command([], {"MACP_ALLOW_INSECURE": "1"}) as process:
        target, line = listening_target(process)
        assert "(plaintext, dev-mode auth)" in line
        with grpc.insecure_channel(target) as channel:
            assert send_as(Stub(channel), "anybody").ack.ok  # dev mode: the token is the sender
        err = stop(process)
    assert "warning: serving plaintext" in err and "warning: dev-mode auth" in err


def test_command_serves_tls_with_static_tokens_from_env(
    pki: Pki, pem_files: dict[str, str]
) -> None:
    tokens = {"tokens": [{"token": "tok-lead", "sender": "lead"}, {"token": "a.b", "sender": "x"}]}
    env = {
        "MACP_TLS_CERT_PATH": pem_files["cert"],
        "MACP_TLS_KEY_PATH": pem_files["key"],
        "MACP_AUTH_TOKENS_JSON": json.dumps(tokens),
    }
    with command([], env) as process:
        target, line = listening_target(process)
        assert "(TLS, static tokens)" in line
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca_cert)
        with grpc.secure_channel(target, credentials) as channel:
            stub = Stub(channel)
            assert send_as(stub, "tok-lead").ack.ok
            for unknown in ("anybody", "a.b"):  # unknown, and listed but containing "."
                ack = send_as(stub, unknown).ack
                assert (ack.ok, ack.error.code) == (False, "UNAUTHENTICATED"), unknown
        with grpc.insecure_channel(target) as channel:  # plaintext is not served
            with pytest.raises(grpc.RpcError) as info:
                send_as(Stub(channel), "tok-lead")
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        err = stop(process)
    assert "warning" not in err


# -- in process -----------------------------------------------------------------------------
def test_mutual_tls_requires_a_client_certificate(pki: Pki) -> None:
    config = RuntimeConfig(
        tls_cert_chain=pki.server_cert,
        tls_private_key=pki.server_key,
        tls_client_ca=pki.ca_cert,
        auth_tokens=[StaticToken(token="tok-lead", sender="lead")],
        allow_insecure=False,
        sweep_interval_s=None,
    )
    with LocalRuntime(config) as runtime:
        anonymous = grpc.ssl_channel_credentials(root_certificates=pki.ca_cert)
        with grpc.secure_channel(runtime.target, anonymous) as channel:
            with pytest.raises(grpc.RpcError) as info:
                send_as(Stub(channel), "tok-lead")
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        client = grpc.ssl_channel_credentials(
            root_certificates=pki.ca_cert,
            private_key=pki.client_key,
            certificate_chain=pki.client_cert,
        )
        with grpc.secure_channel(runtime.target, client) as channel:
            assert send_as(Stub(channel), "tok-lead").ack.ok


def test_in_process_runtime_without_the_opt_in_needs_tls_and_tokens(pki: Pki) -> None:
    with pytest.raises(InsecureConfigError, match="TLS is required"):
        LocalRuntime(RuntimeConfig(allow_insecure=False)).start()
    tls_only = RuntimeConfig(
        allow_insecure=False, tls_cert_chain=pki.server_cert, tls_private_key=pki.server_key
    )
    with pytest.raises(InsecureConfigError, match="no auth configured"):
        LocalRuntime(tls_only).start()
    with pytest.raises(InsecureConfigError, match="both a certificate chain and a private key"):
        LocalRuntime(RuntimeConfig(tls_cert_chain=pki.server_cert)).start()


# -- settings -------------------------------------------------------------------------------
def test_settings_follow_the_reference_variables(tmp_path: Path) -> None:
    listed = tmp_path / "tokens.json"
    listed.write_text(json.dumps([{"token": "from-file", "sender": "f"}]))
    env = {
        "MACP_BIND_ADDR": "127.0.0.1:6000",
        "MACP_ALLOW_INSECURE": "1",
        "MACP_AUTH_TOKENS_FILE": str(listed),
        "MACP_MESSAGE_LIMIT_PER_MINUTE": "7",
        "MACP_SESSION_RETENTION_SECS": "5",
    }
    config = config_from([], env)
    assert (config.listen, config.allow_insecure) == ("127.0.0.1:6000", True)
    assert [t.token for t in config.auth_tokens or ()] == ["from-file"]
    assert config.rate_limits is not None and config.rate_limits.messages_per_minute == 7
    assert config.rate_limits.session_starts_per_minute == 60
    assert config.session_retention_ms == 5000
    # JSON wins over FILE, and a flag wins over its variable.
    env["MACP_AUTH_TOKENS_JSON"] = json.dumps({"tokens": [{"token": "inline", "sender": "i"}]})
    config = config_from(["--listen", "127.0.0.1:7000", "--max-streams", "9"], env)
    assert [t.token for t in config.auth_tokens or ()] == ["inline"]
    assert (config.listen, config.max_streams) == ("127.0.0.1:7000", 9)
    assert config_from([], {}).rate_limits is None and not config_from([], {}).allow_insecure


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MACP_BIND_ADDR": "nowhere"}, "MACP_BIND_ADDR: expected HOST:PORT"),
        ({"MACP_MAX_PAYLOAD_BYTES": "lots"}, "MACP_MAX_PAYLOAD_BYTES: expected a positive"),
        ({"MACP_SESSION_START_LIMIT_PER_MINUTE": "0"}, "MACP_SESSION_START_LIMIT_PER_MINUTE"),
        ({"MACP_AUTH_TOKENS_JSON": "{}"}, "expected a list of tokens"),
        ({"MACP_AUTH_TOKENS_JSON": '[{"token": "t"}]'}, "tokens[0]: 'token' and 'sender'"),
        ({"MACP_AUTH_TOKENS_JSON": '[{"token": "t", "sender": "s", "admin": 1}]'}, "admin"),
        ({"MACP_AUTH_ISSUER": "https://issuer"}, "JWT auth is not supported"),
        ({"MACP_STREAM_IDLE_TIMEOUT_SECS": "-1"}, "expected a positive number"),
    ],
)
def test_settings_errors_name_their_source(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=None) as info:
        config_from([], env)
    assert message in str(info.value)
