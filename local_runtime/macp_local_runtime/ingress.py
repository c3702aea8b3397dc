"""Checks every envelope passes before the kernel sees it (§1.3, §3.1 "server gates")."""

from __future__ import annotations

from macp.v1 import envelope_pb2

from .auth import Identity
from .errors import MacpError
from .limits import RateLimiter

SUPPORTED_VERSION = "1.0"
AMBIENT_TYPES = ("Signal", "Progress")


def check_header(envelope: envelope_pb2.Envelope) -> None:
    if envelope.macp_version != SUPPORTED_VERSION:
        raise MacpError("InvalidMacpVersion", f"macp_version must be {SUPPORTED_VERSION}")
    if not envelope.message_type or not envelope.message_id:
        raise MacpError("InvalidEnvelope", "message_type and message_id are required")


def check_shape(envelope: envelope_pb2.Envelope) -> None:
    """Header checks plus the Signal / Progress / session-message scoping rules."""
    check_header(envelope)
    has_session, has_mode = bool(envelope.session_id), bool(envelope.mode)
    if envelope.message_type == "Signal":
        if has_session or has_mode:
            raise MacpError("InvalidEnvelope", "a Signal has no session_id or mode")
    elif envelope.message_type == "Progress":
        if has_session != has_mode:
            raise MacpError("InvalidEnvelope", "Progress is ambient or fully session-scoped")
    elif not has_session or not has_mode:
        raise MacpError("InvalidEnvelope", "session messages need session_id and mode")


def check_rights(
    identity: Identity, envelope: envelope_pb2.Envelope, limiter: RateLimiter | None
) -> None:
    """can_start_sessions, allowed_modes, then the rate limit, in the reference's order."""
    is_start = envelope.message_type == "SessionStart"
    if is_start and not identity.can_start_sessions:
        raise MacpError("Forbidden", "identity may not start sessions")
    if not identity.may_use_mode(envelope.mode):
        raise MacpError("Forbidden", f"identity may not use mode {envelope.mode!r}")
    if limiter is not None:
        limiter.admit(identity.sender, is_start)
