"""Bounded publish/subscribe used by every server stream of the runtime.

Publishers may run on any thread (the gRPC event loop, the sweeper, an in-process caller);
the one reader of a subscription is a coroutine on the runtime's event loop. A subscriber
that falls behind its buffer is marked as lagging rather than blocking the publisher (the
reference runtime ends such a stream). Closing a subscription wakes its reader at once, which
is how streams end promptly on disconnect and on shutdown.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscription(Generic[T]):
    def __init__(self, capacity: int) -> None:
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._lock = threading.Lock()
        # Bound to the reader's loop on its first wait; offers from other threads wake it
        # through call_soon_threadsafe.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None
        self.lagged = False
        self.closed = False

    def offer(self, item: T) -> bool:
        """Queue an item; False (and the subscription marked lagging) when the buffer is full."""
        with self._lock:
            if self.closed:
                return False
            if len(self._items) >= self._capacity:
                self.lagged = True
                self.closed = True
            else:
                self._items.append(item)
        self._wake()
        return not self.lagged

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self._wake()

    def _wake(self) -> None:
        loop, ready = self._loop, self._ready
        if loop is None or ready is None:
            return
        try:
            loop.call_soon_threadsafe(ready.set)
        except RuntimeError:  # the loop already closed: nobody is waiting any more
            pass

    def _take(self) -> tuple[bool, T | None]:
        with self._lock:
            if self._items:
                return True, self._items.popleft()
            if self.closed:
                return False, None
            if self._ready is not None:
                self._ready.clear()
            return True, None

    async def get(self, timeout: float | None = None) -> tuple[bool, T | None]:
        """(alive, item): item is None on timeout; alive is False once closed and drained."""
        alive, item = self._take()
        if item is not None or not alive:
            return alive, item
        if self._ready is None:
            with self._lock:
                self._loop = asyncio.get_running_loop()
                self._ready = asyncio.Event()
            alive, item = self._take()  # an offer may have raced the binding
            if item is not None or not alive:
                return alive, item
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return True, None
        return self._take()

    def pending(self) -> int:
        with self._lock:
            return len(self._items)


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
