"""Agents built from bootstrap files (the spec's shape and 0.22.0's), in separate processes,
and the cancel callback."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from macp.v1 import envelope_pb2
from macp_sdk import MODE_REGISTRY, MacpClient
from macp_sdk.agent import BootstrapError, from_bootstrap, load_bootstrap
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig, StaticToken

from .helpers import JOIN_BOUND, no_threads_left_behind
from .scenarios import LEAD, MEMBERS, SCENARIOS

AGENT = Path(__file__).with_name("agent_process.py")
TOKENS = {m: f"token-of-{m}" for m in MEMBERS}


@pytest.fixture(scope="module")
def token_runtime() -> Iterator[LocalRuntime]:
    """A runtime that knows only static tokens: bootstrap identities must really match."""
    config = RuntimeConfig(auth_tokens=[StaticToken(t, m) for m, t in TOKENS.items()])
    with LocalRuntime(config) as rt:
        yield rt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spec_bootstrap(
    folder: Path,
    *,
    target: str,
    session_id: str,
    member: str,
    scenario: str,
    cancel_port: int | None = None,
) -> Path:
    """A bootstrap file in the shape of macp-agent-bootstrap.schema.json."""
    mode = SCENARIOS[scenario].mode
    data: dict[str, Any] = {
        "run": {"runId": f"run-{session_id}", "sessionId": session_id},
        "participant": {"participantId": member, "agentId": member},
        "runtime": {
            "address": target,
            "bearerToken": TOKENS[member],
            "tls": False,
            "allowInsecure": True,
        },
        "session": {"participants": MEMBERS},
        "execution": {"modeName": mode},
    }
    if member == LEAD:
        kickoff_type = SCENARIOS[scenario].kickoff_type
        payload_class = MODE_REGISTRY[mode].payloads[kickoff_type]
        payload = json_format.ParseDict(SCENARIOS[scenario].kickoff, payload_class())
        data["initiator"] = {
            "sessionStart": {
                "intent": f"{scenario} from a bootstrap file",
                "participants": MEMBERS,
                "ttlMs": 60_000,
                "modeVersion": "1.0.0",
                "configurationVersion": "config.default",
                "context": base64.b64encode(b"ctx:run-1").decode(),
            },
            "kickoff": {
                "messageType": kickoff_type,
                "payload": base64.b64encode(payload.SerializeToString()).decode(),
            },
        }
    if cancel_port is not None:
        data["cancelCallback"] = {"host": "127.0.0.1", "port": cancel_port, "path": "/cancel"}
    path = folder / f"{member}.json"
    path.write_text(json.dumps(data))
    return path


def _spawn(bootstrap: Path, scenario: str) -> subprocess.Popen[str]:
    env = dict(os.environ, MACP_BOOTSTRAP_FILE=str(bootstrap))
    return subprocess.Popen(
        [sys.executable, str(AGENT), scenario],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"agent process hung:\n{err}") from None
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("scenario", ["decision", "quorum", "task"])
def test_agents_in_separate_processes_from_bootstrap_files(
    scenario: str, token_runtime: LocalRuntime, tmp_path: Path, session_id: str
) -> None:
    files = {
        m: spec_bootstrap(
            tmp_path,
            target=token_runtime.target,
            session_id=session_id,
            member=m,
            scenario=scenario,
        )
        for m in MEMBERS
    }
    # Non-initiators first: they subscribe before SessionStart and retry until it exists.
    processes = [_spawn(files[m], scenario) for m in MEMBERS if m != LEAD]
    processes.append(_spawn(files[LEAD], scenario))
    results = {r["participant"]: r for r in map(_finish, processes)}

    expected_class = SCENARIOS[scenario].participant_class.__name__
    assert results == {
        m: {
            "participant": m,
            "class": expected_class,
            "state": "Committed",
            "action": SCENARIOS[scenario].commit_action,
            "saw_session_start": True,
        }
        for m in MEMBERS
    }


def test_the_cancel_callback_cancels_the_session_and_every_agent_ends(
    token_runtime: LocalRuntime, tmp_path: Path, session_id: str
) -> None:
    """A POST to the initiator's callback: it cancels the session with its own identity and
    ends; the other agents learn it from the runtime (cancellation is not on the stream)."""
    port = _free_port()
    target = token_runtime.target
    files = {
        m: spec_bootstrap(
            tmp_path,
            target=target,
            session_id=session_id,
            member=m,
            scenario="decision",
            cancel_port=port if m == LEAD else None,
        )
        for m in MEMBERS
    }
    processes = [_spawn(files[m], "idle") for m in MEMBERS]  # nobody acts: the session idles
    with MacpClient(target=target, secure=False, auth=_auth(LEAD)) as observer:
        _await_session(observer, session_id)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/cancel",
            data=json.dumps({"runId": f"run-{session_id}", "reason": "user pressed stop"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with _retrying_urlopen(request) as response:
            assert response.status == 202
        results = [_finish(p) for p in processes]
        state = observer.get_session(session_id).metadata.state
    assert state == envelope_pb2.SESSION_STATE_CANCELLED
    assert {r["participant"]: r["state"] for r in results} == dict.fromkeys(MEMBERS, "Cancelled")


def _auth(member: str) -> Any:
    from macp_sdk import AuthConfig

    return AuthConfig.for_bearer(TOKENS[member], expected_sender=member)


def _await_session(client: MacpClient, session_id: str) -> None:
    wait = threading.Event()
    for _ in range(int(JOIN_BOUND / 0.05)):
        try:
            if client.get_session(session_id).metadata.state == envelope_pb2.SESSION_STATE_OPEN:
                return
        except Exception:
            pass
        wait.wait(0.05)
    raise AssertionError("the session never opened")


def _retrying_urlopen(request: urllib.request.Request) -> Any:
    """The callback server may still be binding in the agent process."""
    wait = threading.Event()
    for _ in range(int(JOIN_BOUND / 0.05)):
        try:
            return urllib.request.urlopen(request, timeout=5)
        except ConnectionRefusedError:
            wait.wait(0.05)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError):
                raise
            wait.wait(0.05)
    raise AssertionError("the cancel callback never listened")


def test_in_process_bootstrap_starts_the_session_and_serves_the_callback(
    token_runtime: LocalRuntime, tmp_path: Path, session_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    path = spec_bootstrap(
        tmp_path,
        target=token_runtime.target,
        session_id=session_id,
        member=LEAD,
        scenario="decision",
        cancel_port=port,
    )
    monkeypatch.setenv("MACP_BOOTSTRAP_FILE", str(path))
    with no_threads_left_behind():
        lead = from_bootstrap()  # from $MACP_BOOTSTRAP_FILE
        boot = load_bootstrap()
        assert boot.initiator is not None and boot.initiator.context_id == "ctx:run-1"
        assert boot.auth is not None and boot.auth.expected_sender == LEAD
        started = threading.Event()
        lead.on("Proposal", lambda m, ctx: started.set())
        thread = threading.Thread(target=lead.run, name="agent-lead")
        thread.start()
        assert started.wait(JOIN_BOUND)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/cancel", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        thread.join(JOIN_BOUND)
        assert not thread.is_alive()
        lead.client.close()
    assert lead.terminal_result is not None and lead.terminal_result.state == "Cancelled"
    assert lead.projection.session_start is not None
    assert lead.projection.session_start.context_id == "ctx:run-1"


def test_the_flat_0_22_shape_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "flat.json"
    path.write_text(
        json.dumps(
            {
                "participant_id": "alice",
                "session_id": "s" * 22,
                "mode": "macp.mode.quorum.v1",
                "runtime_url": "127.0.0.1:1",
                "auth_token": "t",
                "participants": MEMBERS,
                "secure": False,
                "allow_insecure": True,
                "initiator": {
                    "session_start": {"intent": "i", "ttl_ms": 1000},
                    "kickoff": {"message_type": "ApprovalRequest", "payload": {"request_id": "r"}},
                },
                "cancel_callback": {"host": "127.0.0.1", "port": 9, "path": "/c"},
            }
        )
    )
    boot = load_bootstrap(path)
    assert boot.mode == "macp.mode.quorum.v1" and boot.participants == MEMBERS
    assert boot.initiator is not None and boot.initiator.participants == MEMBERS
    assert boot.initiator.kickoff_payload == {"request_id": "r"}
    assert boot.cancel_callback is not None and boot.cancel_callback.path == "/c"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["run"].pop("sessionId"), "run.sessionId: required"),
        (lambda d: d.pop("execution"), "execution.modeName: required"),
        (lambda d: d["runtime"].update(tls="yes"), "runtime.tls: expected true or false"),
        (lambda d: d["runtime"].pop("allowInsecure"), "runtime.allowInsecure is not true"),
        (lambda d: d.update(cancelCallback={"host": "h", "port": 1, "path": "x"}), "must start"),
        (lambda d: d["initiator"]["kickoff"].update(payload="%%"), "initiator.kickoff.payload"),
    ],
)
def test_a_bad_bootstrap_file_names_the_field(tmp_path: Path, change: Any, expected: str) -> None:
    path = spec_bootstrap(
        tmp_path, target="127.0.0.1:1", session_id="s" * 22, member=LEAD, scenario="decision"
    )
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(BootstrapError) as error:
        load_bootstrap(path)
    assert str(error.value).startswith(str(path)) and expected in str(error.value)


def test_no_bootstrap_path_and_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MACP_BOOTSTRAP_FILE", raising=False)
    with pytest.raises(BootstrapError, match="MACP_BOOTSTRAP_FILE"):
        load_bootstrap()


def test_not_json_is_located(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "run": }')
    with pytest.raises(BootstrapError, match=r"broken.json:2:\d+: not JSON"):
        load_bootstrap(path)
