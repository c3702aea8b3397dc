"""Where a participant's messages come from.

- :class:`GrpcTransportAdapter`: a ``StreamSession`` subscribed with history replay, so a
  participant that attaches late (or before the session exists) misses nothing.
- :class:`HttpTransportAdapter`: polls ``GET {base}/sessions/{id}/events?after={seq}``.

Both wait on a ``threading.Event``, never ``time.sleep``: ``stop()``/``cancel()`` from any
thread wake a blocked ``start()`` at once.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any, Protocol

from macp.v1 import envelope_pb2

from .._logging import get_logger
from .._requests import Deadline, TimeoutValue, resolve_stream_timeout
from ..auth import AuthConfig
from ..errors import (
    MacpAckError,
    MacpCancelledError,
    MacpNotFoundError,
    MacpSdkError,
    MacpSessionNotFoundError,
    MacpTimeoutError,
    MacpTransportError,
)
from ..retry import RetryPolicy
from ..session_client import SessionClient
from ..streams import MacpStream
from .decoding import envelope_to_message
from .types import SESSION_CANCELLED, SESSION_EVICTED, SESSION_EXPIRED, IncomingMessage

logger = get_logger("agent")

# Subscribing before the initiator's SessionStart reached the runtime gives SESSION_NOT_FOUND;
# that startup race is retried for up to ~10 s by default.
DEFAULT_SUBSCRIBE_RETRY = RetryPolicy(max_retries=12, backoff_base=0.05, backoff_max=1.0)
# Cancellation and expiry are not delivered on a session stream; when the stream has been
# quiet this long, GetSession tells whether the session ended.
DEFAULT_SESSION_CHECK_INTERVAL = 2.0
# gRPC statuses worth reconnecting for (resuming after the last delivered envelope).
RECONNECT_CODES = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED"})

_ENDED_STATES = {
    envelope_pb2.SESSION_STATE_CANCELLED: SESSION_CANCELLED,
    envelope_pb2.SESSION_STATE_EXPIRED: SESSION_EXPIRED,
}


class TransportAdapter(Protocol):
    """Delivers a session's messages to a participant."""

    def start(self) -> Iterator[IncomingMessage]: ...

    def stop(self) -> None: ...


def bounded(wait: float | None, deadline: Deadline) -> float | None:
    """``wait`` cut to what is left of ``deadline`` (None: no bound on either)."""
    remaining = deadline.remaining()
    if remaining is None:
        return wait
    return remaining if wait is None else min(wait, remaining)


def stream_deadline_error(timeout: float | None) -> MacpTimeoutError:
    """0.22.0's ``timeout=`` was the stream's gRPC deadline: it ends with DEADLINE_EXCEEDED."""
    return MacpTimeoutError(
        f"the session stream reached its timeout of {timeout}s",
        code="DEADLINE_EXCEEDED",
        operation="StreamSession",
    )


def backoff_delay(policy: RetryPolicy, attempt: int) -> float:
    delay = float(min(policy.backoff_base * (2**attempt), policy.backoff_max))
    return delay * (0.5 + random.random() / 2) if policy.jitter else delay


def ended_event(state: int) -> IncomingMessage | None:
    """The synthetic lifecycle message for a session state that ends it, else None."""
    kind = _ENDED_STATES.get(state)  # type: ignore[call-overload]
    return None if kind is None else IncomingMessage(message_type=kind, sender="", payload={})


def evicted_event(delivered: int) -> IncomingMessage | None:
    """GetSession said NOT_FOUND: after envelopes were delivered, the session is gone."""
    if delivered == 0:
        return None  # not started yet: the subscription's own retry handles that
    return IncomingMessage(message_type=SESSION_EVICTED, sender="", payload={})


def session_missing(exc: MacpSdkError) -> bool:
    """The runtime has no such session. A runtime that names the refusal sends
    ``macp-error-code: SESSION_NOT_FOUND`` (:class:`MacpSessionNotFoundError`); one that does
    not answers a bare gRPC NOT_FOUND (:class:`MacpNotFoundError`)."""
    return isinstance(exc, MacpSessionNotFoundError | MacpNotFoundError)


def grpc_status(exc: MacpSdkError) -> str:
    """The gRPC status name a failed call ended with ("" if it was not a gRPC status)."""
    if isinstance(exc, MacpTransportError):
        return exc.code
    if isinstance(exc, MacpAckError):
        return exc.grpc_code  # a status that carried a MACP code (e.g. RATE_LIMITED)
    return ""


def should_retry(exc: MacpSdkError, delivered: int, attempt: int, policy: RetryPolicy) -> bool:
    if attempt >= policy.max_retries:
        return False
    if session_missing(exc):
        return delivered == 0  # once anything arrived, the session demonstrably exists
    return grpc_status(exc) in RECONNECT_CODES


class GrpcTransportAdapter:
    """Subscribes to one session over ``StreamSession`` and yields its accepted envelopes.

    The resume cursor (``last_sequence``) counts envelopes handed to the consumer; a
    reconnect subscribes after it, so nothing is replayed twice or skipped.
    ``session_check_interval=None`` disables the GetSession liveness check. ``timeout``
    (0.22.0's) bounds the whole subscription, from ``start()``: reads and retry waits are cut
    to it, and reaching it raises :class:`MacpTimeoutError` (``DEADLINE_EXCEEDED``);
    ``None`` or ``UNBOUNDED`` (the default) means no bound.
    """

    def __init__(
        self,
        client: SessionClient,
        session_id: str,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        subscribe_retry: RetryPolicy | None = None,
        session_check_interval: float | None = DEFAULT_SESSION_CHECK_INTERVAL,
    ) -> None:
        self._client = client
        self._session_id = session_id
        self._auth = auth
        self._timeout = resolve_stream_timeout(timeout)
        self._deadline = Deadline(None)
        self._retry = subscribe_retry or DEFAULT_SUBSCRIBE_RETRY
        self._check_interval = session_check_interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stream: MacpStream | None = None
        self._delivered = 0
        self._seq = 0
        self._attempts = 0
        self._retrying = threading.Event()

    @property
    def last_sequence(self) -> int:
        """How many envelopes were handed to the consumer (the resume cursor)."""
        return self._delivered

    @property
    def subscribe_attempts(self) -> int:
        """How many subscribes were sent (more than one: the session was not there yet, or
        the stream was reconnected)."""
        return self._attempts

    @property
    def retrying(self) -> bool:
        """True while waiting to resubscribe (e.g. the session does not exist yet)."""
        return self._retrying.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def start(self) -> Iterator[IncomingMessage]:
        self._deadline = Deadline(self._timeout)
        attempt = 0
        while not self._stop.is_set():
            if self._deadline.expired():
                raise stream_deadline_error(self._timeout)
            stream = self._open()
            if stream is None:
                return
            try:
                self._attempts += 1
                stream.subscribe(self._session_id, self._delivered)
                for message in self._drain(stream):
                    attempt = 0
                    yield message
                return
            except MacpSdkError as exc:
                if self._stop.is_set():
                    return  # our own cancel surfaced as an error (or hit a cancelled stream)
                if not should_retry(exc, self._delivered, attempt, self._retry):
                    raise
                delay = backoff_delay(self._retry, attempt)
                logger.debug(
                    "session %s stream: %s, resubscribing in %.2fs",
                    self._session_id,
                    exc,
                    delay,
                )
                attempt += 1
                self._retrying.set()
                try:
                    if self._stop.wait(bounded(delay, self._deadline)):
                        return
                finally:
                    self._retrying.clear()
            finally:
                self._release(stream)

    def _open(self) -> MacpStream | None:
        with self._lock:
            if self._stop.is_set():
                return None
            self._stream = self._client.open_stream(auth=self._auth)
            return self._stream

    def _release(self, stream: MacpStream) -> None:
        with self._lock:
            if self._stream is stream:
                self._stream = None
        stream.close(grace=0.5)

    def _drain(self, stream: MacpStream) -> Iterator[IncomingMessage]:
        while not self._stop.is_set():
            try:
                envelope = stream.read(timeout=bounded(self._check_interval, self._deadline))
            except MacpTimeoutError:
                if self._deadline.expired():
                    raise stream_deadline_error(self._timeout) from None
                envelope = None  # a quiet interval: time to ask whether the session ended
            except MacpCancelledError:
                if self._stop.is_set():
                    return  # stop() cancelled the stream under this read
                raise
            if envelope is None:
                if stream.ended or self._stop.is_set():
                    return
                ended = self._session_ended()
                if ended is not None:
                    yield ended
                    return
                continue
            if envelope.session_id != self._session_id:
                continue
            self._seq += 1
            yield envelope_to_message(envelope, seq=self._seq)
            self._delivered += 1

    def _session_ended(self) -> IncomingMessage | None:
        try:
            response = self._client.get_session(self._session_id, auth=self._auth)
        except MacpSdkError as exc:
            if session_missing(exc):
                return evicted_event(self._delivered)
            logger.debug("liveness check of %s failed: %s", self._session_id, exc)
            return None
        return ended_event(response.metadata.state)

    def stop(self) -> None:
        """Stop delivering; a blocked ``start()`` returns (the stream is half-closed)."""
        self.cancel()

    def cancel(self) -> None:
        """Abort now, from any thread: wakes a blocked read or a retry wait."""
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()


class HttpTransportAdapter:
    """Polls an HTTP endpoint that returns a JSON array of events (or ``{"events": [...]}``)
    at ``GET {base_url}/sessions/{session_id}/events?after={last_seq}``."""

    def __init__(
        self,
        *,
        base_url: str,
        session_id: str,
        participant_id: str,
        poll_interval_ms: int = 1000,
        auth_token: str | None = None,
        request_timeout: float = 5.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._session_id = session_id
        self._participant_id = participant_id
        self._poll_interval = poll_interval_ms / 1000.0
        self._auth_token = auth_token
        self._request_timeout = request_timeout
        self._stop = threading.Event()
        self._last_seq = -1

    def start(self) -> Iterator[IncomingMessage]:
        url = f"{self._base_url}/sessions/{self._session_id}/events"
        # Lower case: header names are case-insensitive (urllib capitalizes them).
        headers = {"accept": "application/json"}
        if self._auth_token:
            headers["Authorization"] = f"Bearer {self._auth_token}"
        while not self._stop.is_set():
            try:
                events = self._poll(url, headers)
            except (OSError, ValueError, urllib.error.URLError) as exc:
                logger.debug("http poll of %s failed: %s", url, exc)
                events = []
            for item in events:
                if self._stop.is_set():
                    return
                seq = item.get("seq", self._last_seq + 1)
                if isinstance(seq, int) and seq > self._last_seq:
                    self._last_seq = seq
                yield IncomingMessage(
                    message_type=str(item.get("message_type", "")),
                    sender=str(item.get("sender", "")),
                    payload=_payload_of(item.get("payload", {})),
                    proposal_id=item.get("proposal_id"),
                    seq=seq if isinstance(seq, int) else None,
                )
            if self._stop.wait(self._poll_interval):
                return

    def _poll(self, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        request = urllib.request.Request(f"{url}?after={self._last_seq}", headers=headers)
        with urllib.request.urlopen(request, timeout=self._request_timeout) as response:
            data = json.loads(response.read().decode())
        events = data.get("events") if isinstance(data, dict) else data
        return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []

    def stop(self) -> None:
        self._stop.set()

    cancel = stop


def _payload_of(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        try:
            decoded = json.loads(value)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}
