"""The HTTP polling transport: events from a control plane's JSON endpoint drive the same
projection, typed handlers and terminal detection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import HttpTransportAdapter, TerminalResult
from macp_sdk.participants.decision import DecisionParticipant

from .helpers import JOIN_BOUND, no_threads_left_behind

SESSION = "s" * 22
MODE = "macp.mode.decision.v1"
EVENTS: list[dict[str, Any]] = [
    {
        "seq": 0,
        "message_type": "SessionStart",
        "sender": "lead",
        "payload": {"intent": "i", "participants": ["lead", "alice"], "ttl_ms": "1000"},
    },
    {
        "seq": 1,
        "message_type": "Proposal",
        "sender": "lead",
        "payload": {"proposal_id": "p1", "option": "a"},
    },
    {
        "seq": 2,
        "message_type": "Vote",
        "sender": "alice",
        "payload": {"proposal_id": "p1", "vote": "APPROVE"},
    },
    {
        "seq": 3,
        "message_type": "Commitment",
        "sender": "lead",
        "payload": json.dumps(
            {"commitment_id": "c1", "action": "approved", "outcome_positive": True}
        ),
    },
]


@pytest.fixture
def control_plane() -> Iterator[tuple[str, list[str]]]:
    """Serves EVENTS after `?after=`, two per poll, and records the Authorization headers."""
    auth_headers: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            assert path == f"/sessions/{SESSION}/events", path
            after = int(query.removeprefix("after="))
            auth_headers.append(self.headers.get("Authorization", ""))
            batch = [e for e in EVENTS if e["seq"] > after][:2]
            body = json.dumps({"events": batch}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", auth_headers
    server.shutdown()
    server.server_close()
    thread.join()


def test_polled_events_reach_typed_handlers_and_the_end(
    control_plane: tuple[str, list[str]],
) -> None:
    base_url, auth_headers = control_plane
    transport = HttpTransportAdapter(
        base_url=base_url,
        session_id=SESSION,
        participant_id="alice",
        poll_interval_ms=10,
        auth_token="cp-key",
    )
    client = MacpClient(target="127.0.0.1:1", secure=False, auth=AuthConfig.for_dev_agent("alice"))
    alice = DecisionParticipant(
        participant_id="alice", session_id=SESSION, client=client, transport=transport
    )
    options: list[str] = []
    ended: list[TerminalResult] = []
    alice.on_proposal(lambda record, ctx: options.append(record.option))
    alice.on_terminal(ended.append)
    with no_threads_left_behind():
        thread = threading.Thread(target=alice.run, name="agent-alice")
        thread.start()
        thread.join(JOIN_BOUND)
        assert not thread.is_alive()
    client.close()
    assert options == ["a"]
    assert alice.projection.votes_for("p1")["alice"].vote == "APPROVE"
    assert [r.state for r in ended] == ["Committed"]
    assert ended[0].commitment is not None and ended[0].commitment.action == "approved"
    assert set(auth_headers) == {"Bearer cp-key"} and len(auth_headers) >= 2


def test_stop_interrupts_the_poll_wait(control_plane: tuple[str, list[str]]) -> None:
    base_url, _ = control_plane
    transport = HttpTransportAdapter(
        base_url=base_url,
        session_id=SESSION,
        participant_id="x",
        poll_interval_ms=120_000,
    )
    messages = transport.start()
    received: list[str] = []
    polled = threading.Event()

    def consume() -> None:
        for message in messages:
            received.append(message.message_type)
            if len(received) == 2:
                polled.set()  # the first poll is done; the transport now waits 120 s

    thread = threading.Thread(target=consume, name="agent-poller")
    thread.start()
    assert polled.wait(JOIN_BOUND)
    transport.stop()
    thread.join(JOIN_BOUND)
    assert not thread.is_alive()
    assert received == ["SessionStart", "Proposal"]
