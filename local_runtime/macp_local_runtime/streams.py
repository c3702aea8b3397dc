"""Session broadcast: which StreamSession outputs are bound to which session.

Bindings are keyed by session id, not by session object, because a stream binds before its
first envelope is processed (a SessionStart sent on the stream must echo back to it).
"""

from __future__ import annotations

import threading

from macp.v1 import core_pb2, envelope_pb2

from .fanout import Subscription

StreamOutput = Subscription[core_pb2.StreamSessionResponse]


class StreamHub:
    def __init__(self) -> None:
        self._bound: dict[str, list[StreamOutput]] = {}
        self._lock = threading.Lock()

    def bind(self, session_id: str, output: StreamOutput) -> None:
        with self._lock:
            self._bound.setdefault(session_id, []).append(output)

    def unbind(self, session_id: str, output: StreamOutput) -> None:
        with self._lock:
            outputs = self._bound.get(session_id)
            if outputs is None:
                return
            if output in outputs:
                outputs.remove(output)
            if not outputs:
                del self._bound[session_id]

    def broadcast(self, session_id: str, envelope: envelope_pb2.Envelope) -> None:
        """Callers hold the session lock, so every stream sees acceptance order."""
        with self._lock:
            outputs = list(self._bound.get(session_id, ()))
        response = core_pb2.StreamSessionResponse(envelope=envelope)
        for output in outputs:
            output.offer(response)

    def bound_sessions(self) -> int:
        with self._lock:
            return len(self._bound)
