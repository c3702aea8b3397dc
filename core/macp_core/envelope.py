"""Envelopes, ids, timestamps, core payload builders and the client-side checks they run.

Everything here is pure (no I/O) so the sync and async clients, the sessions and the
generated builders produce byte-identical envelopes. Checks raise
:class:`~macp_sdk.errors.MacpValidationError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message
from macp.v1 import core_pb2, envelope_pb2

from ._renamed import renamed_keywords
from .constants import (
    DEFAULT_CONFIGURATION_VERSION as DEFAULT_CONFIGURATION_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    DEFAULT_MODE_VERSION as DEFAULT_MODE_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    DEFAULT_POLICY_VERSION as DEFAULT_POLICY_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    MACP_VERSION as MACP_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    MAX_PARTICIPANTS,
    MAX_TTL_MS,
    MIN_TTL_MS,
)
from .errors import MacpValidationError

# --- ids and time ------------------------------------------------------------------------

# One id per envelope puts id making on the send path. Formatting ids a batch at a time from
# one os.urandom read costs a small fraction of one `str(uuid.uuid4())`: one syscall per
# batch, the version and variant bits set for the whole batch at once, and the text laid out
# by strided copies (one per hex digit position, over the whole batch) instead of slicing
# and joining each id. A child process after fork must not hand out its parent's unused
# ids, so the pool is emptied there.
_ID_BATCH = 512
_VERSION_4 = bytes((byte & 0x0F) | 0x40 for byte in range(256))  # byte 6: version nibble 4
_VARIANT_RFC = bytes((byte & 0x3F) | 0x80 for byte in range(256))  # byte 8: variant 10xx
_ID_WIDTH = 37  # 36 characters and a space between ids
# Where the k-th hex digit of an id goes in its 8-4-4-4-12 text.
_DIGIT_AT = tuple(at for at in range(36) if at not in (8, 13, 18, 23))
_id_pool: list[str] = []


def _fill_id_pool() -> None:
    raw = bytearray(os.urandom(16 * _ID_BATCH))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC)
    digits = raw.hex().encode("ascii")  # 32 digits per id
    text = bytearray(b"-" * (_ID_WIDTH * _ID_BATCH))  # the hyphens are already in place
    for digit, at in enumerate(_DIGIT_AT):
        text[at::_ID_WIDTH] = digits[digit::32]
    text[36::_ID_WIDTH] = b" " * _ID_BATCH
    _id_pool.extend(text.decode("ascii").split())


os.register_at_fork(after_in_child=_id_pool.clear)


def new_message_id() -> str:
    """A lowercase UUID v4 string, as ``str(uuid.uuid4())`` (from os.urandom too).

    ``list.pop`` is atomic, so threads never share an id.
    """
    try:
        return _id_pool.pop()
    except IndexError:
        _fill_id_pool()
        return _id_pool.pop()


def new_session_id() -> str:
    """A lowercase UUID v4, the session id shape every runtime accepts."""
    return new_message_id()


def new_commitment_id() -> str:
    return new_message_id()


def now_unix_ms() -> int:
    return time.time_ns() // 1_000_000


# --- checks ------------------------------------------------------------------------------

_UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_LOWER_UUID_V4_V7 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
_COMMITMENT_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def is_valid_session_id(session_id: str) -> bool:
    """True for a lowercase UUID v4/v7, or 22-128 base64url characters (not UUID-shaped)."""
    if _UUID_SHAPE.match(session_id):
        return bool(_LOWER_UUID_V4_V7.match(session_id))
    return bool(_BASE64URL.match(session_id))


@renamed_keywords(session_id="sid")
def validate_session_id(sid: str) -> str:
    """``sid`` if it is a valid session id, else MacpValidationError (a MacpSessionError).

    The parameter has 0.22.0's name; ``session_id=`` still works (deprecated)."""
    if not isinstance(sid, str) or not is_valid_session_id(sid):
        raise MacpValidationError(
            "session_id",
            sid,
            "a lowercase UUID v4 or v7, or 22-128 base64url characters",
            hint="new_session_id() makes one",
        )
    return sid


def validate_required(field: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MacpValidationError(field, value, "a non-empty string")
    return value


def validate_ttl_ms(ttl_ms: int) -> int:
    if (
        isinstance(ttl_ms, bool)
        or not isinstance(ttl_ms, int)
        or not (MIN_TTL_MS <= ttl_ms <= MAX_TTL_MS)
    ):
        raise MacpValidationError(
            "ttl_ms", ttl_ms, f"an integer in [{MIN_TTL_MS}, {MAX_TTL_MS}] milliseconds"
        )
    return ttl_ms


def validate_max_suspend_ms(max_suspend_ms: int) -> int:
    if (
        isinstance(max_suspend_ms, bool)
        or not isinstance(max_suspend_ms, int)
        or (max_suspend_ms < 0)
    ):
        raise MacpValidationError(
            "max_suspend_ms", max_suspend_ms, "an integer >= 0 (0 = runtime default)"
        )
    return max_suspend_ms


def validate_participants(participants: Sequence[str], *, allow_empty: bool = False) -> list[str]:
    if isinstance(participants, str):
        raise MacpValidationError("participants", participants, "a sequence of ids, not a string")
    items = list(participants)
    if not items and not allow_empty:
        raise MacpValidationError("participants", items, "at least one participant id")
    if len(items) > MAX_PARTICIPANTS:
        raise MacpValidationError(
            "participants", f"<{len(items)} ids>", f"at most {MAX_PARTICIPANTS} participants"
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise MacpValidationError("participants", item, "non-empty participant ids")
        if item in seen:
            raise MacpValidationError("participants", item, "each participant listed once")
        seen.add(item)
    return items


def validate_unit_interval(field: str, value: float) -> float:
    """A finite number in [0, 1] (confidence and similar)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MacpValidationError(field, value, "a finite number in [0, 1]")
    if not 0.0 <= float(value) <= 1.0:
        raise MacpValidationError(field, value, "a finite number in [0, 1]")
    return float(value)


@renamed_keywords(commitment_hash="value")
def validate_commitment_hash(value: str) -> str:
    """``value`` if it has the shape of a canonical commitment hash (``sha256:`` and 64
    lowercase hex digits), else MacpValidationError. ``commitment_hash=`` still works
    (deprecated)."""
    if not isinstance(value, str) or not _COMMITMENT_HASH.match(value):
        raise MacpValidationError(
            "commitment_hash", value, "'sha256:' followed by 64 lowercase hex digits"
        )
    return value


def validate_progress_scope(session_id: str, mode: str) -> None:
    """Progress is either ambient (no session, no mode) or fully session-scoped."""
    has_session, has_mode = bool(session_id), bool(mode.strip())
    if has_session and not has_mode:
        raise MacpValidationError(
            "mode", mode, "a mode id when session_id is set (leave both empty for ambient progress)"
        )
    if has_mode and not has_session:
        raise MacpValidationError(
            "session_id",
            session_id,
            "a session id when mode is set (leave both empty for ambient progress)",
        )


# --- outcomes ----------------------------------------------------------------------------

NEGATIVE_ACTION_SUFFIXES: tuple[str, ...] = ("rejected", "failed", "declined")


def infer_outcome_positive(action: str) -> bool:
    """Whether a Commitment ``action`` reports a positive outcome.

    Actions ending in ``rejected``, ``failed`` or ``declined`` (any case, e.g.
    ``decision.rejected``) are negative; everything else is positive. The runtime requires
    modes with negative outcomes to say so explicitly, which this does for the caller.
    """
    lowered = action.strip().lower()
    return not lowered.endswith(NEGATIVE_ACTION_SUFFIXES)


# --- payload builders --------------------------------------------------------------------


def build_root(uri: str, name: str = "") -> core_pb2.Root:
    return core_pb2.Root(uri=validate_required("uri", uri), name=name)


RootLike = core_pb2.Root | str | tuple[str, str]


def _roots(roots: Iterable[RootLike] | None) -> list[core_pb2.Root]:
    out: list[core_pb2.Root] = []
    for item in roots or ():
        if isinstance(item, core_pb2.Root):
            out.append(item)
        elif isinstance(item, str):
            out.append(build_root(item))
        else:
            out.append(build_root(*item))
    return out


def build_session_start_payload(
    *,
    intent: str,
    participants: Sequence[str],
    ttl_ms: int,
    mode_version: str = DEFAULT_MODE_VERSION,
    configuration_version: str = DEFAULT_CONFIGURATION_VERSION,
    policy_version: str = DEFAULT_POLICY_VERSION,
    context_id: str = "",
    extensions: Mapping[str, bytes] | None = None,
    roots: Iterable[RootLike] | None = None,
    max_suspend_ms: int = 0,
    allow_empty_participants: bool = False,
) -> core_pb2.SessionStartPayload:
    """A SessionStart payload; ``intent`` may be empty, everything else is checked."""
    members = validate_participants(participants, allow_empty=allow_empty_participants)
    validate_required("mode_version", mode_version)
    validate_required("configuration_version", configuration_version)
    for key, value in (extensions or {}).items():
        if not isinstance(key, str) or not key:
            raise MacpValidationError("extensions", key, "non-empty string keys")
        if not isinstance(value, bytes):
            raise MacpValidationError(f"extensions[{key!r}]", value, "bytes values")
    return core_pb2.SessionStartPayload(
        intent=intent,
        participants=members,
        mode_version=mode_version,
        configuration_version=configuration_version,
        policy_version=policy_version,
        ttl_ms=validate_ttl_ms(ttl_ms),
        roots=_roots(roots),
        context_id=context_id,
        extensions=dict(extensions or {}),
        max_suspend_ms=validate_max_suspend_ms(max_suspend_ms),
    )


def build_commitment_ref(*, session_id: str, commitment_hash: str) -> core_pb2.CommitmentRef:
    """Reference to an earlier commitment (in another session) that a new one supersedes."""
    return core_pb2.CommitmentRef(
        session_id=validate_required("supersedes.session_id", session_id),
        commitment_hash=validate_commitment_hash(commitment_hash),
    )


CommitmentRefLike = core_pb2.CommitmentRef | tuple[str, str]


def as_commitment_ref(ref: CommitmentRefLike) -> core_pb2.CommitmentRef:
    """Accept a CommitmentRef or a ``(session_id, commitment_hash)`` pair; validate either."""
    if isinstance(ref, core_pb2.CommitmentRef):
        return build_commitment_ref(session_id=ref.session_id, commitment_hash=ref.commitment_hash)
    session_id, commitment_hash = ref
    return build_commitment_ref(session_id=session_id, commitment_hash=commitment_hash)


def build_commitment_payload(
    *,
    action: str,
    authority_scope: str,
    reason: str,
    commitment_id: str | None = None,
    mode_version: str = DEFAULT_MODE_VERSION,
    configuration_version: str = DEFAULT_CONFIGURATION_VERSION,
    policy_version: str = DEFAULT_POLICY_VERSION,
    outcome_positive: bool | None = None,
    supersedes: CommitmentRefLike | None = None,
) -> core_pb2.CommitmentPayload:
    """A Commitment payload. ``outcome_positive=None`` infers it from the action's suffix."""
    validate_required("action", action)
    payload = core_pb2.CommitmentPayload(
        commitment_id=commitment_id or new_commitment_id(),
        action=action,
        authority_scope=authority_scope,
        reason=reason,
        mode_version=mode_version,
        policy_version=policy_version,
        configuration_version=configuration_version,
        outcome_positive=(
            infer_outcome_positive(action) if outcome_positive is None else outcome_positive
        ),
    )
    if supersedes is not None:
        payload.supersedes.CopyFrom(as_commitment_ref(supersedes))
    return payload


def build_signal_payload(
    *,
    signal_type: str,
    data: bytes = b"",
    confidence: float = 0.0,
    correlation_session_id: str = "",
) -> core_pb2.SignalPayload:
    if data and not signal_type.strip():
        raise MacpValidationError("signal_type", signal_type, "a non-empty type when data is set")
    return core_pb2.SignalPayload(
        signal_type=signal_type,
        data=data,
        confidence=validate_unit_interval("confidence", confidence),
        correlation_session_id=correlation_session_id,
    )


def build_progress_payload(
    *,
    progress_token: str,
    progress: float,
    total: float,
    message: str = "",
    target_message_id: str = "",
) -> core_pb2.ProgressPayload:
    for name, value in (("progress", progress), ("total", total)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise MacpValidationError(name, value, "a finite number")
    return core_pb2.ProgressPayload(
        progress_token=progress_token,
        progress=float(progress),
        total=float(total),
        message=message,
        target_message_id=target_message_id,
    )


# --- serialization and the envelope ------------------------------------------------------


# Payload classes whose bytes need no map ordering (no map field anywhere inside): plain
# SerializeToString gives the same bytes and skips the keyword-argument parsing, a visible
# share of a send. Filled on first sight of each class.
_NO_MAPS: dict[type, bool] = {}


def _has_maps(descriptor: Any, seen: set[str]) -> bool:
    # Any: the stubs type DESCRIPTOR as the pure-Python or the upb class, both alike here.
    for field in descriptor.fields:
        inner = field.message_type
        if inner is None or inner.full_name in seen:
            continue
        if inner.GetOptions().map_entry:
            return True
        seen.add(inner.full_name)
        if _has_maps(inner, seen):
            return True
    return False


def serialize_message(message: Message) -> bytes:
    """Deterministic protobuf bytes (map entries in key order), so equal payloads are equal."""
    plain = _NO_MAPS.get(type(message))
    if plain is None:
        if not isinstance(message, Message):
            raise TypeError(f"expected a protobuf message, got {type(message).__name__}")
        plain = _NO_MAPS[type(message)] = not _has_maps(message.DESCRIPTOR, set())
    return message.SerializeToString() if plain else message.SerializeToString(deterministic=True)


def build_envelope(
    *,
    mode: str,
    message_type: str,
    session_id: str,
    payload: bytes | Message,
    sender: str = "",
    message_id: str | None = None,
    macp_version: str = MACP_VERSION,
    timestamp_unix_ms: int | None = None,
) -> envelope_pb2.Envelope:
    """One envelope. ``payload`` may be bytes or a protobuf message (serialized for you).

    ``message_id`` defaults to a new UUID and ``timestamp_unix_ms`` to now; an explicit value
    (including 0) is kept, which makes envelopes reproducible in tests.
    """
    if not isinstance(message_type, str) or not message_type.strip():
        validate_required("message_type", message_type)  # raises, naming the field
    return envelope_pb2.Envelope(
        macp_version=macp_version,
        mode=mode,
        message_type=message_type,
        message_id=message_id or new_message_id(),
        session_id=session_id,
        sender=sender,
        timestamp_unix_ms=(
            time.time_ns() // 1_000_000 if timestamp_unix_ms is None else timestamp_unix_ms
        ),
        payload=payload if isinstance(payload, bytes) else serialize_message(payload),
    )


def build_signal_envelope(
    *,
    signal_type: str,
    data: bytes = b"",
    confidence: float = 0.0,
    correlation_session_id: str = "",
    sender: str = "",
    message_id: str | None = None,
) -> envelope_pb2.Envelope:
    """An ambient Signal: empty mode and session id, as the protocol requires."""
    payload = build_signal_payload(
        signal_type=signal_type,
        data=data,
        confidence=confidence,
        correlation_session_id=correlation_session_id,
    )
    return build_envelope(
        mode="",
        message_type="Signal",
        session_id="",
        payload=payload,
        sender=sender,
        message_id=message_id,
    )


def build_progress_envelope(
    *,
    progress_token: str,
    progress: float,
    total: float,
    message: str = "",
    target_message_id: str = "",
    session_id: str = "",
    mode: str = "",
    sender: str = "",
    message_id: str | None = None,
) -> envelope_pb2.Envelope:
    validate_progress_scope(session_id, mode)
    payload = build_progress_payload(
        progress_token=progress_token,
        progress=progress,
        total=total,
        message=message,
        target_message_id=target_message_id,
    )
    return build_envelope(
        mode=mode,
        message_type="Progress",
        session_id=session_id,
        payload=payload,
        sender=sender,
        message_id=message_id,
    )
