"""Fixtures for the core transport tests: a real gRPC server on loopback, TLS material."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from macp_sdk.auth import AuthConfig
from macp_sdk.client import MacpClient

from .fake_runtime import RunningRuntime, start_runtime


@pytest.fixture
def runtime() -> Iterator[RunningRuntime]:
    running = start_runtime()
    yield running
    running.stop()


@pytest.fixture
def client(runtime: RunningRuntime) -> Iterator[MacpClient]:
    with MacpClient(
        target=runtime.target,
        secure=False,
        auth=AuthConfig.for_dev_agent("coordinator"),
        default_timeout=5.0,
    ) as c:
        yield c


@dataclass(frozen=True)
class TlsMaterial:
    ca_cert: bytes
    server_key: bytes
    server_cert: bytes
    client_key: bytes
    client_cert: bytes


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A throwaway CA plus a server certificate for localhost/127.0.0.1 and a client one."""
    d = tmp_path_factory.mktemp("tls")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        cwd=d,
    )
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject in (("server", "/CN=localhost"), ("client", "/CN=agent-client")):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            subject,
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
            "-out",
            f"{name}.pem",
            cwd=d,
        )
    return TlsMaterial(
        ca_cert=(d / "ca.pem").read_bytes(),
        server_key=(d / "server.key").read_bytes(),
        server_cert=(d / "server.pem").read_bytes(),
        client_key=(d / "client.key").read_bytes(),
        client_cert=(d / "client.pem").read_bytes(),
    )
