"""Bounded publish/subscribe used by every server stream of the runtime.

A subscriber that falls behind its buffer is marked as lagging rather than blocking the
publisher (the reference runtime ends such a stream). Closing a subscription wakes its reader
at once, which is how streams end promptly on disconnect and on shutdown.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_CLOSED = object()


class Subscription(Generic[T]):
    def __init__(self, capacity: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self._capacity = capacity
        self._size = 0
        self._lock = threading.Lock()
        self.lagged = False
        self.closed = False

    def offer(self, item: T) -> bool:
        """Queue an item; False (and the subscription marked lagging) when the buffer is full."""
        with self._lock:
            if self.closed:
                return False
            if self._size >= self._capacity:
                self.lagged = True
                self.closed = True
                self._queue.put(_CLOSED)
                return False
            self._size += 1
        self._queue.put(item)
        return True

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self._queue.put(_CLOSED)

    def get(self, timeout: float) -> tuple[bool, T | None]:
        """(alive, item): item is None on timeout; alive is False once closed and drained."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return True, None
        if item is _CLOSED:
            return False, None
        with self._lock:
            self._size -= 1
        return True, cast(T, item)


class Fanout(Generic[T]):
    """Delivers each published item to every current subscriber, in publish order."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._subscribers: list[Subscription[T]] = []
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription[T]:
        subscription: Subscription[T] = Subscription(self._capacity)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def attach(self, subscription: Subscription[T]) -> None:
        """Add a subscription created (and possibly pre-filled) by the caller."""
        with self._lock:
            self._subscribers.append(subscription)

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        subscription.close()
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)

    def publish(self, item: T) -> None:
        # Holding the lock while offering keeps per-subscriber order equal to publish order.
        with self._lock:
            for subscription in self._subscribers:
                subscription.offer(item)
            self._subscribers = [s for s in self._subscribers if not s.closed]

    def close_all(self) -> None:
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        for subscription in subscribers:
            subscription.close()

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)
