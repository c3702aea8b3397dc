"""The `macp-local-runtime` command and the pytest fixture."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import grpc
from macp.v1 import core_pb2, core_pb2_grpc
from macp_sdk.local_runtime import LocalRuntime

pytest_plugins = ["macp_sdk.local_runtime.pytest_plugin"]


def test_command_prints_its_address_and_stops_on_sigterm() -> None:
    command = [
        sys.executable, "-m", "macp_local_runtime", "--listen", "127.0.0.1:0", "--allow-insecure"
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("macp-local-runtime listening on 127.0.0.1:")
            target = line.split()[3]
            with grpc.insecure_channel(target) as channel:
                stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
                modes = stub.ListModes(core_pb2.ListModesRequest(), timeout=10).modes
                assert len(modes) == 5
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
            assert "stopped" in process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()


def test_pytest_fixture_serves_a_runtime(macp_runtime: LocalRuntime) -> None:
    assert macp_runtime.target.startswith("127.0.0.1:")
    with grpc.insecure_channel(macp_runtime.target) as channel:
        stub = core_pb2_grpc.MACPRuntimeServiceStub(channel)
        assert stub.ListRoots(core_pb2.ListRootsRequest(), timeout=10).roots == []
