"""Client-side checks of RPC requests, named by `(macp.sdk.v1.rpc).request_check`.

Each raises MacpValidationError for a request the runtime would refuse, so the caller gets
the reason (and what to change) instead of a bare status. 0.22.0 ran the same checks.
"""

from __future__ import annotations

from macp.v1 import core_pb2

from .errors import MacpValidationError

COMMITMENT = "Commitment"  # the core message type that resolves a session


def check_mode_descriptor(request: core_pb2.RegisterExtModeRequest) -> None:
    """A mode must list Commitment among its terminal message types: the runtime refuses a
    mode whose sessions could never be committed."""
    terminal = list(request.mode_descriptor.terminal_message_types)
    if COMMITMENT not in terminal:
        raise MacpValidationError(
            "mode_descriptor.terminal_message_types",
            terminal,
            f"a list that includes {COMMITMENT!r} (add it to the descriptor)",
        )
