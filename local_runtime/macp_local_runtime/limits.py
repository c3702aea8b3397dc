"""Per-sender sliding-window rate limits and the payload size limit (§1.1, §1.3)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from .clock import Clock
from .errors import MacpError

_WINDOW_MS = 60_000


@dataclass(frozen=True)
class RateLimits:
    """Per-sender limits per sliding minute (the reference defaults are 60 and 600)."""

    session_starts_per_minute: int = 60
    messages_per_minute: int = 600


class SlidingWindowLimiter:
    """Admits at most `limit` events per sender per minute; rejected attempts are not counted."""

    def __init__(self, limit: int, clock: Clock) -> None:
        if limit <= 0:
            raise ValueError("a rate limit must be positive")
        self._limit = limit
        self._clock = clock
        self._events: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def admit(self, sender: str) -> None:
        now = self._clock.now_ms()
        with self._lock:
            window = self._events.setdefault(sender, deque())
            while window and window[0] <= now - _WINDOW_MS:
                window.popleft()
            if len(window) >= self._limit:
                raise MacpError("RateLimited", f"more than {self._limit} per minute")
            window.append(now)


class RateLimiter:
    """The two reference windows: SessionStart, and every other Send/stream envelope."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self._starts = SlidingWindowLimiter(limits.session_starts_per_minute, clock)
        self._messages = SlidingWindowLimiter(limits.messages_per_minute, clock)

    def admit(self, sender: str, is_session_start: bool) -> None:
        (self._starts if is_session_start else self._messages).admit(sender)


def check_payload_size(payload: bytes, max_payload_bytes: int) -> None:
    if len(payload) > max_payload_bytes:
        raise MacpError("PayloadTooLarge", f"payload is {len(payload)} bytes")
