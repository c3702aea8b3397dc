"""Client-side checks under macp-sdk-python 0.22.0's names (`macp_sdk.validation`).

Most checks live beside the builders that run them (`envelope`, `commitment_hash`); this
module adds the few 0.22.0 offered on their own and gathers the rest at 0.22.0's path. Mode
field checks (`validate_vote`, ...) are generated from the protos into `macp_sdk.<mode>` and
offered by `macp_sdk.validation` too. Every check raises MacpValidationError, a
MacpSessionError (0.22.0's type) and a ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence

from .commitment_hash import is_canonical_commitment_hash
from .constants import MAX_PARTICIPANTS
from .envelope import (
    validate_commitment_hash,
    validate_max_suspend_ms,
    validate_participants,
    validate_progress_scope,
    validate_required,
    validate_session_id,
    validate_ttl_ms,
)
from .errors import MacpValidationError

__all__ = [
    "is_canonical_commitment_hash",
    "validate_commitment_hash",
    "validate_max_suspend_ms",
    "validate_participant_count",
    "validate_participants",
    "validate_progress_scope",
    "validate_required_field",
    "validate_session_id",
    "validate_session_start",
    "validate_signal_type",
    "validate_ttl_ms",
]


def validate_required_field(field_name: str, value: str) -> str:
    """The value, unless it is empty or whitespace only."""
    return validate_required(field_name, value)


def validate_participant_count(count: int) -> int:
    """At most MAX_PARTICIPANTS participants per session (the runtime's limit)."""
    if count > MAX_PARTICIPANTS:
        raise MacpValidationError(
            "participants", f"<{count} ids>", f"at most {MAX_PARTICIPANTS} participants"
        )
    return count


def validate_signal_type(signal_type: str, data: bytes | None = None) -> str:
    """A Signal that carries data must name its type (the runtime cannot route it otherwise)."""
    if data and not signal_type.strip():
        raise MacpValidationError("signal_type", signal_type, "a non-empty type when data is set")
    return signal_type


def validate_session_start(
    *,
    intent: str,
    participants: Sequence[str],
    ttl_ms: int,
    mode_version: str,
    configuration_version: str,
    allow_empty_participants: bool = False,
) -> None:
    """The SessionStart checks `build_session_start_payload` runs; `intent` may be empty
    (RFC-MACP-0001 §7.1 does not require one)."""
    del intent
    validate_participants(participants, allow_empty=allow_empty_participants)
    validate_ttl_ms(ttl_ms)
    validate_required("mode_version", mode_version)
    validate_required("configuration_version", configuration_version)
