"""Session broadcast: which StreamSession outputs are bound to which session.

Bindings are keyed by session id, not by session object, because a stream binds before its
first envelope is processed (a SessionStart sent on the stream must echo back to it). Each
binding remembers the stream's authenticated identity, and every broadcast is filtered by the
session's audience: a stream whose caller is not the initiator, a declared participant or an
observer receives nothing, whatever it sent on the stream (the reference leaks here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from macp.v1 import core_pb2, envelope_pb2

from .auth import Identity
from .fanout import Subscription

StreamOutput = Subscription[core_pb2.StreamSessionResponse]
Audience = Callable[[Identity], bool]


class StreamHub:
    def __init__(self) -> None:
        self._bound: dict[str, list[tuple[StreamOutput, Identity]]] = {}
        self._lock = threading.Lock()

    def bind(self, session_id: str, output: StreamOutput, identity: Identity) -> None:
        with self._lock:
            self._bound.setdefault(session_id, []).append((output, identity))

    def unbind(self, session_id: str, output: StreamOutput) -> None:
        with self._lock:
            bindings = self._bound.get(session_id)
            if bindings is None:
                return
            bindings[:] = [b for b in bindings if b[0] is not output]
            if not bindings:
                del self._bound[session_id]

    def broadcast(
        self, session_id: str, envelope: envelope_pb2.Envelope, audience: Audience
    ) -> None:
        """Callers hold the session lock, so every stream sees acceptance order."""
        with self._lock:
            bindings = list(self._bound.get(session_id, ()))
        response = core_pb2.StreamSessionResponse(envelope=envelope)
        for output, identity in bindings:
            if audience(identity):
                output.offer(response)

    def bound_sessions(self) -> int:
        with self._lock:
            return len(self._bound)
