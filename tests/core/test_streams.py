"""MacpStream and the server-streaming watches against a real gRPC server."""

from __future__ import annotations

import threading
import time

import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import envelope_pb2
from macp_sdk.auth import AuthConfig
from macp_sdk.client import MacpClient
from macp_sdk.envelope import build_envelope, new_session_id, serialize_message
from macp_sdk.errors import (
    MacpCancelledError,
    MacpNotFoundError,
    MacpRetryError,
    MacpSessionError,
    MacpTimeoutError,
    MacpTransportError,
)
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig
from macp_sdk.retry import RetryPolicy

from .fake_runtime import RunningRuntime, wait_until
from .test_client import MODE, start_envelope


def vote(sid: str, proposal: str, sender: str = "coordinator") -> envelope_pb2.Envelope:
    payload = decision_pb2.VotePayload(proposal_id=proposal, vote="APPROVE")
    return build_envelope(
        mode=MODE,
        message_type="Vote",
        session_id=sid,
        sender=sender,
        payload=serialize_message(payload),
    )


def stream_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith("macp-stream")  # grpc's own threads: see the ident check below
    ]


def test_seed_002_send_read_responses_close(client: MacpClient) -> None:
    sid = new_session_id()
    stream = client.open_stream()
    stream.send(start_envelope(sid))
    first = stream.read(timeout=5.0)
    assert first is not None and first.message_type == "SessionStart"
    assert first.sender == "coordinator"
    stream.send(vote(sid, "p1"))
    stream.send(vote(sid, "p2"))
    got = [e.message_type for e in stream.responses(timeout=0.5)]
    assert got == ["Vote", "Vote"]
    stream.close()
    assert stream.read(timeout=0.1) is None
    assert stream.ended


def test_read_raises_timeout_and_stream_stays_usable(client: MacpClient) -> None:
    """0.22.0's contract: a quiet read raises MacpTimeoutError; None means the stream ended."""
    with client.open_stream() as stream:
        with pytest.raises(MacpTimeoutError):
            stream.read(timeout=0.05)
        assert not stream.ended
        sid = new_session_id()
        stream.send(start_envelope(sid))
        assert stream.read(timeout=5.0) is not None


def test_inline_errors_go_to_callback_and_queue(client: MacpClient) -> None:
    seen: list[envelope_pb2.MACPError] = []
    sid = new_session_id()
    with client.open_stream(on_error=seen.append) as stream:
        stream.send(vote(sid, "p1"))  # unknown session -> inline error, stream stays open
        assert wait_until(lambda: len(seen) == 1)
        assert seen[0].code == "SESSION_NOT_FOUND"
        queued = stream.read_error(timeout=1.0)
        assert queued is not None and queued.code == "SESSION_NOT_FOUND"
        with pytest.raises(MacpTimeoutError):
            stream.read(timeout=0.05)
        assert not stream.ended


def test_late_subscribe_replays_history_then_goes_live(
    client: MacpClient, runtime: RunningRuntime
) -> None:
    sid = new_session_id()
    client.send(start_envelope(sid))
    client.send(vote(sid, "p1"))
    client.send(vote(sid, "p2"))
    alice = AuthConfig.for_dev_agent("alice")
    with client.open_stream(auth=alice, session_id=sid) as late:
        replay = [late.read(timeout=5.0) for _ in range(3)]
        assert [e.message_type for e in replay if e] == ["SessionStart", "Vote", "Vote"]
        client.send(vote(sid, "p3"))
        live = late.read(timeout=5.0)
        assert live is not None and live.message_type == "Vote"
    with client.open_stream(auth=alice) as partial:
        partial.subscribe(sid, after_sequence=2)
        resumed = [e.message_type for e in partial.responses(timeout=0.5)]
        assert resumed == ["Vote", "Vote"]


def test_subscribe_to_missing_session_raises_typed_error(client: MacpClient) -> None:
    with client.open_stream(session_id=new_session_id()) as stream:
        with pytest.raises(MacpNotFoundError):
            stream.read(timeout=5.0)
        assert stream.read(timeout=0.1) is None
        with pytest.raises(MacpSessionError):
            stream.send(vote(new_session_id(), "p"))


def test_send_after_close_is_refused(client: MacpClient) -> None:
    stream = client.open_stream()
    stream.close()
    stream.close()  # idempotent
    with pytest.raises(MacpSessionError, match="closed"):
        stream.send(vote(new_session_id(), "p"))


def test_no_thread_left_after_close_cancel_or_client_close(runtime: RunningRuntime) -> None:
    before = {t.ident for t in threading.enumerate()}
    with MacpClient(
        target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent("coordinator")
    ) as c:
        a = c.open_stream()
        a.send(start_envelope(new_session_id()))
        assert a.read(timeout=5.0) is not None
        b = c.open_stream()
        b.subscribe(new_session_id())  # ends with NOT_FOUND
        d = c.open_stream()  # left open: client.close() must close it
        a.close()
        b.cancel()
        assert d is not None
    assert wait_until(lambda: not stream_threads(), timeout=5.0), stream_threads()
    leftovers = [
        t
        for t in threading.enumerate()
        if t.ident not in before and not t.name.startswith("fake-runtime")
    ]
    assert wait_until(lambda: not [t for t in leftovers if t.is_alive()], timeout=5.0), leftovers


def test_watch_ends_cleanly_at_timeout(client: MacpClient) -> None:
    start = time.monotonic()
    events = list(client.watch_mode_registry(timeout=0.3))
    assert len(events) == 1 and events[0].change.registry == "modes"
    assert time.monotonic() - start < 5.0


def test_watch_break_cancels_call() -> None:
    """Breaking out of a watch cancels the call: the loop ends and the server lets go."""
    config = RuntimeConfig(sweep_interval_s=None, shutdown_grace_s=0.2)
    with (
        LocalRuntime(config) as rt,
        MacpClient(
            target=rt.target, secure=False, auth=AuthConfig.for_dev_agent("coordinator")
        ) as client,
    ):
        events: list[object] = []

        def watch_then_break() -> None:
            for event in client.watch_roots():  # no client deadline: only the break ends it
                events.append(event)
                break

        watcher = threading.Thread(target=watch_then_break, daemon=True)
        watcher.start()
        watcher.join(timeout=20)
        assert not watcher.is_alive(), "breaking out of watch_roots() hung"
        assert len(events) == 1  # WatchRoots sends one RootsChanged, then idles forever
        # The server side saw the cancellation: the stream it held open is released.
        assert wait_until(lambda: rt.open_streams() == 0, timeout=20)


def test_watch_reconnects_after_unavailable(client: MacpClient, runtime: RunningRuntime) -> None:
    runtime.runtime.roots_script = ["UNAVAILABLE"]
    events = list(client.watch_roots(timeout=0.8, reconnect=True))
    assert len(events) == 2
    assert [m for m, _ in runtime.runtime.metadata_seen].count("WatchRoots") == 2


def test_watch_without_reconnect_raises_and_reconnect_gives_up(runtime: RunningRuntime) -> None:
    policy = RetryPolicy(max_retries=1, sleep=lambda _s: None)
    with MacpClient(target=runtime.target, secure=False, retry=policy) as c:
        runtime.runtime.roots_script = ["UNAVAILABLE"]
        with pytest.raises(Exception) as info:
            list(c.watch_roots(timeout=2.0))
        assert getattr(info.value, "code", "") == "UNAVAILABLE"
        runtime.runtime.roots_script = ["DOWN"] * 5
        with pytest.raises(MacpRetryError):
            list(c.watch_roots(timeout=5.0, reconnect=True))


def test_watch_signals_sees_sent_signals(client: MacpClient) -> None:
    received: list[str] = []

    def watch() -> None:
        for item in client.watch_signals(timeout=2.0):
            received.append(item.envelope.message_type)
            return

    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(0.2)
    client.send_signal(signal_type="ping")
    thread.join(5.0)
    assert received == ["Signal"]


def test_read_after_cancel_raises_cancelled_transport_error(client: MacpClient) -> None:
    stream = client.open_stream()
    sid = new_session_id()
    stream.send(start_envelope(sid))
    assert stream.read(timeout=5.0) is not None
    stream.cancel()
    for _ in range(2):  # stays observable
        with pytest.raises(MacpTransportError) as caught:
            stream.read(timeout=1.0)
        assert isinstance(caught.value, MacpCancelledError)
        assert caught.value.code == "CANCELLED"


def test_read_after_close_is_end_of_stream_not_an_error(client: MacpClient) -> None:
    stream = client.open_stream()
    stream.close()
    assert stream.read(timeout=1.0) is None
