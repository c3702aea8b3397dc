"""The canonical commitment hash (RFC-MACP-0013 §3-§6).

`sha256:<hex>` of `macp-commitment-hash/1:` followed by the RFC 8785 (JCS) form of the
CommitmentPayload's §3 projection: its nine frozen fields, `supersedes` only when set. A
payload carrying anything outside that set (a newer schema's field, or unknown wire data) is
not hashable under this label and is refused, never hashed without it (§5).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final, Literal

from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError, Message
from macp.v1 import core_pb2

from ._extras import rfc8785
from .errors import MacpSessionError

LABEL: Final = "macp-commitment-hash/1"

#: §6.1's three outcomes.
VerifyOutcome = Literal["match", "mismatch", "cannot_verify"]

_STRING_FIELDS: Final = (
    "commitment_id",
    "action",
    "authority_scope",
    "reason",
    "mode_version",
    "policy_version",
    "configuration_version",
)
_PAYLOAD_FIELDS: Final = frozenset({*_STRING_FIELDS, "outcome_positive", "supersedes"})
_REF_FIELDS: Final = frozenset({"session_id", "commitment_hash"})
_HASH: Final = re.compile(r"sha256:[0-9a-f]{64}")


def _check_hashable(message: Message, frozen: frozenset[str], what: str) -> None:
    declared = {f.name for f in message.DESCRIPTOR.fields}
    extra = sorted(declared - frozen)
    found_unknown = unknown_fields.UnknownFieldSet(message)
    unknown = sorted({found_unknown[i].field_number for i in range(len(found_unknown))})
    if extra or unknown:
        found = ", ".join([*extra, *(f"field number {n}" for n in unknown)])
        raise MacpSessionError(
            f"{what} carries {found} outside the RFC-MACP-0013 §5 frozen field set and is not "
            f"hashable under {LABEL!r}"
        )


def projection(payload: core_pb2.CommitmentPayload) -> dict[str, object]:
    """The §3 projection as a JSON object (snake_case members)."""
    _check_hashable(payload, _PAYLOAD_FIELDS, "CommitmentPayload")
    out: dict[str, object] = {name: getattr(payload, name) for name in _STRING_FIELDS}
    out["outcome_positive"] = payload.outcome_positive
    if payload.HasField("supersedes"):  # set-but-empty still counts (§3 rule 3)
        _check_hashable(payload.supersedes, _REF_FIELDS, "CommitmentPayload.supersedes")
        out["supersedes"] = {
            "session_id": payload.supersedes.session_id,
            "commitment_hash": payload.supersedes.commitment_hash,
        }
    return out


def canonical_projection(payload: core_pb2.CommitmentPayload) -> bytes:
    """The JCS bytes of the §3 projection (the hash preimage without its label)."""
    encoded: bytes = rfc8785().dumps(projection(payload))
    return encoded


def commitment_hash(payload: core_pb2.CommitmentPayload) -> str:
    """`sha256:<64 hex>` of the payload. Any payload hashes, valid or not (§6)."""
    preimage = LABEL.encode("ascii") + b":" + canonical_projection(payload)
    return "sha256:" + hashlib.sha256(preimage).hexdigest()


def is_canonical_commitment_hash(value: str) -> bool:
    """Exactly `sha256:` and 64 lower-case hex digits."""
    return isinstance(value, str) and _HASH.fullmatch(value) is not None


def verify_commitment_hash(wire: bytes, claimed_hash: str) -> VerifyOutcome:
    """Check `claimed_hash` against a CommitmentPayload's wire bytes (§6.1): exact string
    comparison; `cannot_verify` when the bytes do not parse or are not hashable."""
    payload = core_pb2.CommitmentPayload()
    try:
        payload.ParseFromString(wire)
        actual = commitment_hash(payload)
    except (DecodeError, MacpSessionError):
        return "cannot_verify"
    return "match" if claimed_hash == actual else "mismatch"
