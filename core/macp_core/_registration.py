"""RegisterExtMode answers ok=False (not a gRPC error) when the runtime refuses a mode: turn
that into an exception so that a refused registration is never silently ignored."""

from __future__ import annotations

from macp.v1 import core_pb2

from .errors import MacpSdkError


def registered(mode: str, response: core_pb2.RegisterExtModeResponse) -> None:
    """Raises MacpSdkError naming the mode and the runtime's reason when it was refused."""
    if not response.ok:
        reason = response.error or "no reason given"
        raise MacpSdkError(f"the runtime refused to register mode {mode!r}: {reason}")
