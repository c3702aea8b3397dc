"""How many long-lived streams may be open at once, and closing them all on shutdown.

Streams on the asyncio server cost no thread, but each holds a queue and two coroutines; the
cap keeps a flood of idle streams from exhausting memory. Beyond it a new stream is answered
RESOURCE_EXHAUSTED at once, and the streams already open are unaffected.
"""

from __future__ import annotations

import threading
from typing import Any

from .fanout import Subscription

DEFAULT_MAX_STREAMS = 4096


class StreamGuard:
    def __init__(self, limit: int = DEFAULT_MAX_STREAMS) -> None:
        if limit <= 0:
            raise ValueError("the stream limit must be positive")
        self.limit = limit
        self._open: set[Subscription[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def open(self, output: Subscription[Any]) -> bool:
        """Admit a stream (False when at the limit or shutting down)."""
        with self._lock:
            if self._closed or len(self._open) >= self.limit:
                return False
            self._open.add(output)
            return True

    def release(self, output: Subscription[Any]) -> None:
        with self._lock:
            self._open.discard(output)

    def count(self) -> int:
        with self._lock:
            return len(self._open)

    def close_all(self) -> None:
        """Refuse new streams and end the open ones (their queued items still flush)."""
        with self._lock:
            self._closed = True
            outputs = list(self._open)
        for output in outputs:
            output.close()
