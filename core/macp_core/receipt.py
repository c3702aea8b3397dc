"""Decision receipts, `macp-receipt/1` (RFC-MACP-0013 Appendix A).

A receipt records one binding Commitment so that anyone can check it offline. Integrity (the
recorded commitment has the recorded hash) needs no key; authenticity (an Ed25519 JWS over
the receipt body, detached payload) needs a trusted key. Receipts are plain dicts with the
schema's snake_case members, so `json.load` output can be verified directly.

Hashing needs `rfc8785`, signatures `cryptography`: both come with the `receipts` extra and
are imported only when used.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, NotRequired, TypedDict, cast

from macp.v1 import core_pb2

from ._extras import MacpMissingExtraError as MacpMissingExtraError  # raised without the extra
from ._extras import ed25519, rfc8785
from ._renamed import renamed_keywords
from .commitment_hash import commitment_hash, verify_commitment_hash
from .commitment_hash import projection as _projection
from .errors import MacpSdkError

RECEIPT_FORMAT: Final = "macp-receipt/1"


class SupersedesRef(TypedDict):
    session_id: str
    commitment_hash: str


class ReceiptCommitment(TypedDict):
    """The §3 projection of a CommitmentPayload, as a receipt records it."""

    commitment_id: str
    action: str
    authority_scope: str
    reason: str
    mode_version: str
    policy_version: str
    configuration_version: str
    outcome_positive: bool
    supersedes: NotRequired[SupersedesRef]


class SemanticsRev(TypedDict):
    implementation: str
    rev: int


class TranscriptDigest(TypedDict):
    digest_alg: str
    digest: str
    message_count: NotRequired[int]


class JwsAttestation(TypedDict):
    type: Literal["jws"]
    jws: str  # compact JWS, detached payload: <header>..<signature>


class VendorAttestation(TypedDict):
    type: Literal["vendor"]
    format: str
    binds: Literal["commitment_hash", "receipt", "other"]
    value: str


ReceiptAttestation = JwsAttestation | VendorAttestation


class DecisionReceipt(TypedDict):
    """A `macp-receipt/1` receipt (Appendix A.2)."""

    receipt_format: str
    session_id: str
    mode: str
    commitment: ReceiptCommitment
    commitment_hash: str
    commitment_wire_b64: NotRequired[str]
    semantics_rev: NotRequired[SemanticsRev]
    transcript: NotRequired[TranscriptDigest]
    issuer: str
    issued_at: str
    attestations: list[ReceiptAttestation]


class ReceiptKeySet(TypedDict):
    """A JWK Set (RFC 7517) of receipt verification keys, as GetReceiptKeys returns it."""

    keys: list[dict[str, Any]]


ReceiptIntegrity = Literal["match", "mismatch", "cannot_verify"] | None
AttestationOutcome = Literal["valid", "invalid", "unknown_key", "unsupported"]
ReceiptVerdict = Literal["attested", "integrity_only", "unverified", "refused"]


class ReceiptVerification(TypedDict):
    """What `verify_receipt` found, in the spec vectors' `expected` shape."""

    integrity: ReceiptIntegrity
    attestations: list[AttestationOutcome]  # one per attestation; [] unless integrity matched
    verdict: ReceiptVerdict


@dataclass(frozen=True, slots=True)
class ReceiptSigner:
    """Signs receipts as `kid`: give a 32-byte Ed25519 seed (`private_key`) or a `sign`
    callback returning the 64-byte signature (a key held elsewhere, e.g. an HSM)."""

    kid: str
    private_key: bytes | None = None
    sign: Callable[[bytes], bytes] | None = None

    def __post_init__(self) -> None:
        if (self.private_key is None) == (self.sign is None):
            raise MacpSdkError("ReceiptSigner: give exactly one of private_key or sign")

    def public_jwk(self) -> dict[str, str]:
        """The public JWK of `private_key` (an OKP/Ed25519 verification key)."""
        if self.private_key is None:
            raise MacpSdkError("ReceiptSigner.public_jwk needs private_key")
        key = ed25519().Ed25519PrivateKey.from_private_bytes(self.private_key)
        raw = key.public_key().public_bytes_raw()
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": self.kid,
            "x": _b64url(raw),
            "alg": "EdDSA",
            "use": "sig",
        }


# --- encodings -----------------------------------------------------------------------

_B64: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _from_b64(text: object) -> bytes | None:
    """Strict standard base64 with padding."""
    if not isinstance(text, str) or not _B64.fullmatch(text):
        return None
    return base64.b64decode(text)


def _from_b64url(text: object) -> bytes | None:
    """Strict unpadded base64url, non-empty."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _no_floats(value: object) -> None:
    # A receipt body holds strings, booleans and safe integers only; a float has no single
    # JCS form across verifiers, so a body with one cannot be signed or checked.
    if isinstance(value, float):
        raise MacpSdkError("a receipt body cannot contain a number with a fraction")
    if isinstance(value, Mapping):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list):
        for item in value:
            _no_floats(item)


def _receipt_body(receipt: Mapping[str, Any]) -> bytes:
    """The receipt without `attestations`, in RFC 8785 form (A.2)."""
    body = {key: value for key, value in receipt.items() if key != "attestations"}
    _no_floats(body)
    try:
        encoded: bytes = rfc8785().dumps(body)
    except ValueError as exc:  # rfc8785.CanonicalizationError: out-of-range int, bad key
        raise MacpSdkError(f"a receipt body has no canonical form: {exc}") from exc
    return encoded


# --- projection ----------------------------------------------------------------------

_STRING_FIELDS: Final = (
    "commitment_id",
    "action",
    "authority_scope",
    "reason",
    "mode_version",
    "policy_version",
    "configuration_version",
)
_COMMITMENT_MEMBERS: Final = frozenset({*_STRING_FIELDS, "outcome_positive", "supersedes"})
_SUPERSEDES_MEMBERS: Final = frozenset({"session_id", "commitment_hash"})


def _read_commitment(value: object) -> core_pb2.CommitmentPayload | None:
    """A receipt's `commitment` as a payload; None unless it is a complete, well-typed §3
    projection (unknown, missing or mistyped members are outside what the hash covers)."""
    if not isinstance(value, Mapping) or not set(value) <= _COMMITMENT_MEMBERS:
        return None
    if not all(isinstance(value.get(name), str) for name in _STRING_FIELDS):
        return None
    if not isinstance(value.get("outcome_positive"), bool):
        return None
    payload = core_pb2.CommitmentPayload(
        outcome_positive=value["outcome_positive"],
        **{name: value[name] for name in _STRING_FIELDS},
    )
    if "supersedes" in value:
        ref = value["supersedes"]
        if not isinstance(ref, Mapping) or set(ref) != _SUPERSEDES_MEMBERS:
            return None
        if not all(isinstance(ref[name], str) for name in _SUPERSEDES_MEMBERS):
            return None
        payload.supersedes.SetInParent()
        payload.supersedes.session_id = ref["session_id"]
        payload.supersedes.commitment_hash = ref["commitment_hash"]
    return payload


@renamed_keywords(projection_="projection")
def commitment_from_projection(projection: Mapping[str, Any]) -> core_pb2.CommitmentPayload:
    """A snake_case §3 projection (a receipt's `commitment`) as a CommitmentPayload.

    The parameter has 0.22.0's name; ``projection_=`` still works (deprecated)."""
    payload = _read_commitment(projection)
    if payload is None:
        raise MacpSdkError("commitment_from_projection: not a complete RFC-MACP-0013 §3 projection")
    return payload


# --- build ---------------------------------------------------------------------------

_SAFE_INT: Final = 2**53 - 1


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise MacpSdkError(f"build_receipt: {name} must be a non-empty string")
    return value


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _SAFE_INT:
        raise MacpSdkError(f"build_receipt: {name} must be a non-negative safe integer")
    return value


def build_receipt(
    commitment: core_pb2.CommitmentPayload,
    *,
    session_id: str,
    mode: str,
    issuer: str,
    issued_at: str,
    signer: ReceiptSigner | None = None,
    semantics_rev: Mapping[str, Any] | None = None,
    transcript: Mapping[str, Any] | None = None,
    commitment_wire: bytes | None = None,
) -> DecisionReceipt:
    """A receipt for `commitment`; with `signer`, one EdDSA JWS attestation over its body.

    Ed25519 is deterministic: the same inputs give the same receipt. `commitment_wire`, when
    given, must be the wire form of `commitment` (so no receipt is issued that its own
    verifier would reject).
    """
    digest = commitment_hash(commitment)
    receipt: dict[str, Any] = {
        "receipt_format": RECEIPT_FORMAT,
        "session_id": _text(session_id, "session_id"),
        "mode": _text(mode, "mode"),
        "commitment": _projection(commitment),
        "commitment_hash": digest,
    }
    if semantics_rev is not None:
        receipt["semantics_rev"] = {
            "implementation": _text(
                semantics_rev.get("implementation"), "semantics_rev.implementation"
            ),
            "rev": _count(semantics_rev.get("rev"), "semantics_rev.rev"),
        }
    receipt["issuer"] = _text(issuer, "issuer")
    receipt["issued_at"] = _text(issued_at, "issued_at")
    if commitment_wire is not None:
        if not isinstance(commitment_wire, bytes | bytearray) or (
            verify_commitment_hash(bytes(commitment_wire), digest) != "match"
        ):
            raise MacpSdkError("build_receipt: commitment_wire is not the wire form of commitment")
        receipt["commitment_wire_b64"] = base64.b64encode(commitment_wire).decode("ascii")
    if transcript is not None:
        record: dict[str, Any] = {
            "digest_alg": _text(transcript.get("digest_alg"), "transcript.digest_alg"),
            "digest": _text(transcript.get("digest"), "transcript.digest"),
        }
        if "message_count" in transcript:
            record["message_count"] = _count(
                transcript["message_count"], "transcript.message_count"
            )
        receipt["transcript"] = record
    receipt["attestations"] = [] if signer is None else [_attest(receipt, signer)]
    return cast(DecisionReceipt, receipt)


def _attest(receipt: Mapping[str, Any], signer: ReceiptSigner) -> JwsAttestation:
    kid = _text(signer.kid, "signer.kid")
    header = _b64url(rfc8785().dumps({"alg": "EdDSA", "kid": kid}))
    signing_input = f"{header}.{_b64url(_receipt_body(receipt))}".encode("ascii")
    if signer.private_key is not None:
        if not isinstance(signer.private_key, bytes) or len(signer.private_key) != 32:
            raise MacpSdkError("build_receipt: signer.private_key must be a 32-byte Ed25519 seed")
        key = ed25519().Ed25519PrivateKey.from_private_bytes(signer.private_key)
        signature = key.sign(signing_input)
    else:
        assert signer.sign is not None  # __post_init__: exactly one is set
        signature = signer.sign(signing_input)
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise MacpSdkError("build_receipt: signer.sign must return a 64-byte signature")
    return {"type": "jws", "jws": f"{header}..{_b64url(signature)}"}


# --- verify --------------------------------------------------------------------------


def _integrity(receipt: Mapping[str, Any]) -> Literal["match", "mismatch", "cannot_verify"]:
    payload = _read_commitment(receipt.get("commitment"))
    if payload is None:
        return "cannot_verify"
    claimed = receipt.get("commitment_hash")
    if not isinstance(claimed, str) or commitment_hash(payload) != claimed:
        return "mismatch"
    if "commitment_wire_b64" in receipt:
        wire = _from_b64(receipt["commitment_wire_b64"])
        if wire is None:
            return "cannot_verify"
        outcome = verify_commitment_hash(wire, claimed)
        if outcome != "match":
            return outcome
        decoded = core_pb2.CommitmentPayload.FromString(wire)
        if _projection(decoded) != _projection(payload):
            return "mismatch"
    return "match"


def _check_jws(attestation: object, body: str, keys: Mapping[str, Any]) -> AttestationOutcome:
    if not isinstance(attestation, Mapping) or attestation.get("type") != "jws":
        return "unsupported"  # vendor attestations and unknown types
    jws = attestation.get("jws")
    parts = jws.split(".") if isinstance(jws, str) else []
    if len(parts) != 3 or parts[1] != "":
        return "invalid"
    header_bytes, signature = _from_b64url(parts[0]), _from_b64url(parts[2])
    if header_bytes is None or signature is None:
        return "invalid"
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except ValueError:
        return "invalid"
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        return "unsupported"
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        return "unknown_key"
    public = _from_b64url(keys[kid])
    if public is None or len(public) != 32 or len(signature) != 64:
        return "invalid"
    from cryptography.exceptions import InvalidSignature

    try:
        ed25519().Ed25519PublicKey.from_public_bytes(public).verify(
            signature, f"{parts[0]}.{body}".encode("ascii")
        )
    except (InvalidSignature, ValueError):
        return "invalid"
    return "valid"


def verify_receipt(receipt: object, trusted_keys: Mapping[str, str]) -> ReceiptVerification:
    """Verify a receipt (Appendix A.4); malformed input gives an outcome, never an exception.

    `trusted_keys` maps a `kid` to an Ed25519 public key as a JWK `x` (base64url); build it
    with `trusted_keys_from_jwks`.
    """
    if not isinstance(receipt, dict) or receipt.get("receipt_format") != RECEIPT_FORMAT:
        return {"integrity": None, "attestations": [], "verdict": "refused"}
    integrity = _integrity(receipt)
    if integrity != "match":
        return {"integrity": integrity, "attestations": [], "verdict": "unverified"}
    try:
        body: str | None = _b64url(_receipt_body(receipt))
    except MacpSdkError:
        body = None  # no canonical body: no signature over it can be valid
    keys = trusted_keys if isinstance(trusted_keys, Mapping) else {}
    raw = receipt.get("attestations")
    outcomes: list[AttestationOutcome] = []
    for attestation in raw if isinstance(raw, list) else []:
        if body is None:
            is_jws = isinstance(attestation, Mapping) and attestation.get("type") == "jws"
            outcomes.append("invalid" if is_jws else "unsupported")
        else:
            outcomes.append(_check_jws(attestation, body, keys))
    verdict: ReceiptVerdict = "attested" if "valid" in outcomes else "integrity_only"
    return {"integrity": "match", "attestations": outcomes, "verdict": verdict}


_PRIVATE_MEMBERS: Final = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def _verification_key(key: object) -> tuple[str, str] | None:
    if not isinstance(key, Mapping):
        return None
    kid, x = key.get("kid"), key.get("x")
    usable = (
        key.get("kty") == "OKP"
        and key.get("crv") == "Ed25519"
        and isinstance(kid, str)
        and kid != ""
        and isinstance(x, str)
        and x != ""
        and key.get("alg", "EdDSA") == "EdDSA"
        and key.get("use", "sig") == "sig"
        and not any(member in key for member in _PRIVATE_MEMBERS)
    )
    return (cast(str, kid), cast(str, x)) if usable else None


def trusted_keys_from_jwks(jwks: object) -> dict[str, str]:
    """`kid` -> `x` of the Ed25519 verification keys of a JWK Set (e.g. GetReceiptKeys').

    Other keys are skipped, a key with a private member too (§13 item 8), and a `kid` that
    occurs twice names no single key, so it is dropped. Never raises: anything that is not a
    key set gives `{}`. Trusting a runtime's keys means trusting its word for its receipts.
    """
    raw = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(raw, list):
        return {}
    trusted: dict[str, str] = {}
    seen: set[str] = set()
    repeated: set[str] = set()
    for key in raw:
        kid = key.get("kid") if isinstance(key, Mapping) else None
        if isinstance(kid, str):
            (repeated if kid in seen else seen).add(kid)
        found = _verification_key(key)
        if found is not None:
            trusted[found[0]] = found[1]
    for kid in repeated:
        trusted.pop(kid, None)
    return trusted


# --- what the receipt RPCs return ----------------------------------------------------


def _strict_json(raw: str, what: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(raw, parse_constant=refuse)
    except (ValueError, RecursionError) as exc:
        raise MacpSdkError(f"{what} is not valid JSON: {exc}") from exc
    return value


@dataclass(frozen=True, slots=True)
class DecisionReceiptResult:
    """GetDecisionReceipt's answer: `receipt` parsed (for `verify_receipt`) and `raw`, the
    runtime's JSON verbatim (what to store or forward: an attested receipt is served
    byte-identical on every call)."""

    receipt: dict[str, Any]
    raw: str

    @classmethod
    def from_proto(cls, response: core_pb2.GetDecisionReceiptResponse) -> DecisionReceiptResult:
        receipt = _strict_json(response.receipt_json, "GetDecisionReceipt receipt_json")
        if not isinstance(receipt, dict):
            raise MacpSdkError("GetDecisionReceipt receipt_json is not a JSON object")
        return cls(receipt=receipt, raw=response.receipt_json)


def receipt_keys_from_proto(response: core_pb2.GetReceiptKeysResponse) -> ReceiptKeySet:
    """GetReceiptKeys' `jwks_json` as a key set (an object with a `keys` list)."""
    jwks = _strict_json(response.jwks_json, "GetReceiptKeys jwks_json")
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise MacpSdkError("GetReceiptKeys jwks_json is not a JWK Set (no keys list)")
    return cast(ReceiptKeySet, jwks)
