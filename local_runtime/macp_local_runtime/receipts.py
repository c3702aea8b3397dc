"""Decision receipts this runtime issues (RFC-MACP-0013 §13, Appendix A) and its key set.

A resolved session's Commitment gets one `macp-receipt/1`: the §3 projection, its canonical
hash, the wire bytes, and, when `cryptography` is installed, an Ed25519 JWS attestation with
a key made when the runtime starts (published by GetReceiptKeys). Without `rfc8785` no hash
can be computed, so receipts are not offered at all; both packages come with the SDK's
`receipts` extra. Written independently of the SDK's receipt module so each checks the other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Final

from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError
from macp.v1 import core_pb2

from .session import RESOLVED, Session

RECEIPT_FORMAT: Final = "macp-receipt/1"
HASH_LABEL: Final = b"macp-commitment-hash/1:"
ISSUER: Final = "macp-local-runtime"
_STRING_FIELDS: Final = (
    "commitment_id",
    "action",
    "authority_scope",
    "reason",
    "mode_version",
    "policy_version",
    "configuration_version",
)


class ReceiptUnavailable(Exception):
    """No receipt for this session (not resolved by a Commitment, or not hashable)."""


def _optional(name: str) -> ModuleType | None:
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


_RFC8785 = _optional("rfc8785")
_ED25519 = _optional("cryptography.hazmat.primitives.asymmetric.ed25519")


def receipts_available() -> bool:
    return _RFC8785 is not None


def receipts_signed() -> bool:
    return _RFC8785 is not None and _ED25519 is not None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jcs(value: object) -> bytes:
    assert _RFC8785 is not None
    encoded: bytes = _RFC8785.dumps(value)
    return encoded


def _projection(wire: bytes) -> dict[str, Any]:
    payload = core_pb2.CommitmentPayload()
    try:
        payload.ParseFromString(wire)
    except DecodeError as exc:
        raise ReceiptUnavailable("the resolving Commitment does not decode") from exc
    messages = [payload, payload.supersedes] if payload.HasField("supersedes") else [payload]
    if any(len(unknown_fields.UnknownFieldSet(m)) for m in messages):
        raise ReceiptUnavailable("the Commitment carries fields outside the hashable set")
    out: dict[str, Any] = {name: getattr(payload, name) for name in _STRING_FIELDS}
    out["outcome_positive"] = payload.outcome_positive
    if payload.HasField("supersedes"):
        out["supersedes"] = {
            "session_id": payload.supersedes.session_id,
            "commitment_hash": payload.supersedes.commitment_hash,
        }
    return out


class ReceiptIssuer:
    """One per runtime: the signing key and the receipts already issued (served verbatim)."""

    def __init__(self) -> None:
        self._key: Any = None
        self.kid = ""
        if receipts_signed():
            assert _ED25519 is not None
            self._key = _ED25519.Ed25519PrivateKey.from_private_bytes(os.urandom(32))
            public = self._key.public_key().public_bytes_raw()
            self.kid = f"{ISSUER}-{hashlib.sha256(public).hexdigest()[:16]}"
        self._issued: dict[str, str] = {}
        self._lock = threading.Lock()

    def jwks_json(self) -> str:
        keys: list[dict[str, str]] = []
        if self._key is not None:
            public = self._key.public_key().public_bytes_raw()
            keys.append(
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "kid": self.kid,
                    "x": _b64url(public),
                    "alg": "EdDSA",
                    "use": "sig",
                }
            )
        return json.dumps({"keys": keys})

    def receipt_json(self, session: Session) -> str:
        """The session's receipt; the same bytes on every call. Caller holds the session lock."""
        with self._lock:
            issued = self._issued.get(session.session_id)
        if issued is not None:
            return issued
        if not receipts_available():
            raise ReceiptUnavailable("this runtime cannot hash commitments (no rfc8785)")
        if session.state != RESOLVED or session.resolution is None:
            raise ReceiptUnavailable("the session has no binding Commitment")
        text = json.dumps(self._build(session, session.resolution), separators=(",", ":"))
        with self._lock:
            return self._issued.setdefault(session.session_id, text)

    def _build(self, session: Session, wire: bytes) -> dict[str, Any]:
        commitment = _projection(wire)
        digest = hashlib.sha256(HASH_LABEL + _jcs(commitment)).hexdigest()
        ended = session.ended_at_ms or session.started_at_ms
        issued_at = datetime.fromtimestamp(ended / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        receipt: dict[str, Any] = {
            "receipt_format": RECEIPT_FORMAT,
            "session_id": session.session_id,
            "mode": session.mode,
            "commitment": commitment,
            "commitment_hash": f"sha256:{digest}",
            "issuer": ISSUER,
            "issued_at": issued_at,
            "commitment_wire_b64": base64.b64encode(wire).decode("ascii"),
        }
        attestations: list[dict[str, str]] = []
        if self._key is not None:
            header = _b64url(_jcs({"alg": "EdDSA", "kid": self.kid}))
            body = _b64url(_jcs(receipt))
            signature = self._key.sign(f"{header}.{body}".encode("ascii"))
            attestations.append({"type": "jws", "jws": f"{header}..{_b64url(signature)}"})
        receipt["attestations"] = attestations
        return receipt
