"""A new RPC reaches both clients by regeneration alone, typed (mypy --strict on a caller)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from codegen_helpers import run_cli
from mypy import api as mypy_api

from .workspace import CORE, REPO, edit

NEW_MESSAGES = """
message PingRequest {
  string note = 1 [(macp.sdk.v1.field) = {no_default: true}];
  int32 count = 2;
  repeated string tags = 3;
}

message PingResponse {
  string echo = 1;
}

// The MACP runtime"""

NEW_RPCS = """service MACPRuntimeService {
  // Echoes a note.
  rpc Ping(PingRequest) returns (PingResponse) {
    option (macp.sdk.v1.rpc) = {auth_required: true, positional: ["note"]};
  }
  // Echoes notes as they come.
  rpc WatchPings(PingRequest) returns (stream PingResponse);
"""

GOOD = """
from collections.abc import AsyncIterator, Iterator

from macp.v1 import core_pb2
from macp_sdk import AsyncMacpClient, MacpClient


def call(client: MacpClient) -> core_pb2.PingResponse:
    return client.ping("hi", count=2, tags=["a"], timeout=1.0)


def watch(client: MacpClient) -> Iterator[core_pb2.PingResponse]:
    return client.watch_pings(note="hi", reconnect=True)


async def acall(client: AsyncMacpClient) -> str:
    response = await client.ping("hi")
    return response.echo


def awatch(client: AsyncMacpClient) -> AsyncIterator[core_pb2.PingResponse]:
    return client.watch_pings(note="hi")
"""

BAD = """
from macp_sdk import AsyncMacpClient, MacpClient


def call(client: MacpClient) -> None:
    client.ping(3)


async def acall(client: AsyncMacpClient) -> None:
    await client.ping("hi", count="two")
"""

SIGNATURE = """
import inspect, sys
sys.path.insert(0, sys.argv[1])
from macp_sdk import AsyncMacpClient, MacpClient
print(inspect.signature(MacpClient.ping))
print(inspect.iscoroutinefunction(AsyncMacpClient.ping))
"""


def test_a_new_rpc_is_typed_on_both_clients(scratch_project: Path) -> None:
    edit(scratch_project, CORE, "\n// The MACP runtime", NEW_MESSAGES)
    edit(scratch_project, CORE, "service MACPRuntimeService {\n", NEW_RPCS)
    result = run_cli("generate", "--project-root", str(scratch_project))
    assert result.status == 0, result.err
    output = scratch_project / "generated"

    shown = subprocess.run(
        [sys.executable, "-c", SIGNATURE, str(output)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert shown == [
        "(self, note: 'str', *, count: 'int' = 0, tags: 'Sequence[str]' = (), "
        "auth: 'AuthConfig | None' = None, timeout: 'TimeoutValue' = None) "
        "-> 'core_pb2.PingResponse'",
        "True",
    ]

    (scratch_project / "good.py").write_text(GOOD)
    (scratch_project / "bad.py").write_text(BAD)
    config = scratch_project / "mypy.ini"
    paths = [REPO / "core", output]
    config.write_text(
        "[mypy]\nstrict = True\npython_version = 3.11\nexplicit_package_bases = True\n"
        f"mypy_path = {':'.join(str(p) for p in paths)}\n"
        f"cache_dir = {scratch_project / '.mypy_cache'}\n"
    )
    stdout, stderr, _ = mypy_api.run(
        [
            "--config-file",
            str(config),
            str(scratch_project / "good.py"),
            str(scratch_project / "bad.py"),
        ]
    )
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if "good.py" in e], stdout + stderr
    bad = sorted(
        (int(m["line"]), m["msg"])
        for e in errors
        if (m := re.search(r"bad\.py:(?P<line>\d+): error: (?P<msg>.*)", e))
    )
    assert [line for line, _ in bad] == [6, 10], stdout + stderr
    assert 'Argument 1 to "ping" of "MacpClient" has incompatible type "int"' in bad[0][1]
    assert 'Argument "count" to "ping" of "AsyncMacpClient"' in bad[1][1]
