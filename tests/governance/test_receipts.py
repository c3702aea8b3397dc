"""Receipts and commitment hashes (core): build, verify, tamper, keys, missing extras."""

from __future__ import annotations

import base64
import builtins
import copy
import hashlib
import json
from typing import Any

import pytest
from macp.v1 import core_pb2
from macp_sdk.commitment_hash import (
    canonical_projection,
    commitment_hash,
    is_canonical_commitment_hash,
    verify_commitment_hash,
)
from macp_sdk.errors import MacpSdkError, MacpSessionError
from macp_sdk.receipt import (
    DecisionReceiptResult,
    MacpMissingExtraError,
    ReceiptSigner,
    build_receipt,
    commitment_from_projection,
    receipt_keys_from_proto,
    trusted_keys_from_jwks,
    verify_receipt,
)

SEED = bytes(range(32))
SIGNER = ReceiptSigner(kid="k1", private_key=SEED)
KEYS = trusted_keys_from_jwks({"keys": [SIGNER.public_jwk()]})


def _commitment(**changes: Any) -> core_pb2.CommitmentPayload:
    fields: dict[str, Any] = {
        "commitment_id": "c-1",
        "action": "decision.selected",
        "authority_scope": "scope",
        "reason": 'naïve "quoted" \n reason ✓ 😀',
        "mode_version": "1.0.0",
        "policy_version": "policy.default",
        "configuration_version": "config.default",
        "outcome_positive": True,
    }
    fields.update(changes)
    return core_pb2.CommitmentPayload(**fields)


def _receipt(**kwargs: Any) -> dict[str, Any]:
    commitment = kwargs.pop("commitment", _commitment())
    facts: dict[str, Any] = {
        "session_id": "s-1",
        "mode": "macp.mode.decision.v1",
        "issuer": "test",
        "issued_at": "2026-01-01T00:00:00Z",
    }
    return dict(build_receipt(commitment, **{**facts, **kwargs}))


def test_the_hash_is_the_labelled_sha256_of_the_sorted_projection() -> None:
    payload = _commitment()
    projection = json.loads(canonical_projection(payload))
    assert list(projection) == sorted(projection)  # JCS orders members
    assert "supersedes" not in projection
    expected = hashlib.sha256(b"macp-commitment-hash/1:" + canonical_projection(payload))
    assert commitment_hash(payload) == "sha256:" + expected.hexdigest()
    assert is_canonical_commitment_hash(commitment_hash(payload))
    assert not is_canonical_commitment_hash(commitment_hash(payload).upper())


def test_an_empty_supersedes_is_part_of_the_projection() -> None:
    plain = _commitment()
    empty_ref = _commitment()
    empty_ref.supersedes.SetInParent()
    assert commitment_hash(plain) != commitment_hash(empty_ref)
    assert json.loads(canonical_projection(empty_ref))["supersedes"] == {
        "commitment_hash": "",
        "session_id": "",
    }


def test_wire_verification_outcomes() -> None:
    payload = _commitment()
    wire = payload.SerializeToString()
    digest = commitment_hash(payload)
    assert verify_commitment_hash(wire, digest) == "match"
    assert verify_commitment_hash(wire, digest.upper()) == "mismatch"
    assert verify_commitment_hash(b"\xff\xff", digest) == "cannot_verify"
    # An unknown field (number 99) is outside the frozen set: not hashable.
    assert verify_commitment_hash(wire + b"\x9a\x06\x01x", digest) == "cannot_verify"
    unknown = core_pb2.CommitmentPayload.FromString(wire + b"\x9a\x06\x01x")
    with pytest.raises(MacpSessionError, match="frozen field set"):
        commitment_hash(unknown)


def test_a_signed_receipt_is_attested_and_deterministic() -> None:
    receipt = _receipt(signer=SIGNER, commitment_wire=_commitment().SerializeToString())
    assert receipt == _receipt(signer=SIGNER, commitment_wire=_commitment().SerializeToString())
    assert verify_receipt(receipt, KEYS) == {
        "integrity": "match",
        "attestations": ["valid"],
        "verdict": "attested",
    }
    assert verify_receipt(receipt, {})["verdict"] == "integrity_only"
    assert verify_receipt(receipt, {})["attestations"] == ["unknown_key"]
    unsigned = _receipt()
    assert verify_receipt(unsigned, KEYS) == {
        "integrity": "match",
        "attestations": [],
        "verdict": "integrity_only",
    }


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda r: r["commitment"].update(reason="other"), ("mismatch", "unverified")),
        (lambda r: r["commitment"].update(extra="x"), ("cannot_verify", "unverified")),
        (lambda r: r["commitment"].pop("action"), ("cannot_verify", "unverified")),
        (lambda r: r.update(commitment_hash="sha256:" + "0" * 64), ("mismatch", "unverified")),
        (lambda r: r.update(commitment_wire_b64="@@"), ("cannot_verify", "unverified")),
        (lambda r: r.update(issuer="someone else"), ("match", "integrity_only")),
        (lambda r: r.update(receipt_format="macp-receipt/2"), (None, "refused")),
    ],
)
def test_tampering_is_detected(tamper: Any, expected: tuple[str | None, str]) -> None:
    receipt = copy.deepcopy(
        _receipt(signer=SIGNER, commitment_wire=_commitment().SerializeToString())
    )
    tamper(receipt)
    outcome = verify_receipt(receipt, KEYS)
    assert (outcome["integrity"], outcome["verdict"]) == expected


def test_attestation_outcomes() -> None:
    receipt = _receipt(signer=SIGNER)
    jws = receipt["attestations"][0]["jws"]
    header, _, signature = jws.split(".")
    receipt["attestations"] = [
        {"type": "vendor", "format": "x", "binds": "receipt", "value": "v"},
        {"type": "jws", "jws": header + ".payload." + signature},
        {
            "type": "jws",
            "jws": base64.urlsafe_b64encode(b'{"alg":"ES256"}').decode().rstrip("=")
            + ".."
            + signature,
        },
        {"type": "jws", "jws": jws},
    ]
    outcome = verify_receipt(receipt, KEYS)
    assert outcome["attestations"] == ["unsupported", "invalid", "unsupported", "valid"]
    assert outcome["verdict"] == "attested"
    assert verify_receipt("not a receipt", KEYS)["verdict"] == "refused"


def test_trusted_keys_keep_only_unambiguous_ed25519_public_keys() -> None:
    good = SIGNER.public_jwk()
    keys = trusted_keys_from_jwks(
        {
            "keys": [
                good,
                {**good, "kid": "private", "d": "secret"},
                {**good, "kid": "rsa", "kty": "RSA"},
                {**good, "kid": "dup"},
                {**good, "kid": "dup"},
            ]
        }
    )
    assert keys == {"k1": good["x"]}
    assert trusted_keys_from_jwks("nope") == {}


def test_build_refuses_bad_arguments() -> None:
    with pytest.raises(MacpSdkError, match="session_id"):
        _receipt(session_id="")
    with pytest.raises(MacpSdkError, match="commitment_wire"):
        _receipt(commitment_wire=_commitment(reason="x").SerializeToString())
    with pytest.raises(MacpSdkError, match="exactly one"):
        ReceiptSigner(kid="k")
    bad_sign = ReceiptSigner(kid="k", sign=lambda data: b"short")
    with pytest.raises(MacpSdkError, match="64-byte"):
        _receipt(signer=bad_sign)


def test_projection_round_trip_and_rpc_parsing() -> None:
    receipt = _receipt()
    assert commitment_from_projection(receipt["commitment"]) == _commitment()
    with pytest.raises(MacpSdkError):
        commitment_from_projection({"action": "x"})
    raw = json.dumps(receipt)
    parsed = DecisionReceiptResult.from_proto(core_pb2.GetDecisionReceiptResponse(receipt_json=raw))
    assert parsed.receipt == receipt and parsed.raw == raw
    with pytest.raises(MacpSdkError, match="not valid JSON"):
        DecisionReceiptResult.from_proto(core_pb2.GetDecisionReceiptResponse(receipt_json="NaN"))
    with pytest.raises(MacpSdkError, match="no keys list"):
        receipt_keys_from_proto(core_pb2.GetReceiptKeysResponse(jwks_json="{}"))


def test_a_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_extras(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith(("cryptography", "rfc8785")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_extras)
    with pytest.raises(MacpMissingExtraError, match=r"macp-codegen\[receipts\]"):
        _receipt(signer=ReceiptSigner(kid="k", private_key=SEED))
    with pytest.raises(MacpMissingExtraError, match="rfc8785"):
        commitment_hash(_commitment())
    assert isinstance(MacpMissingExtraError("x"), ImportError)
