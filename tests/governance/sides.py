"""The two sides of the 0.22.0 differential test, each run as its own process.

`python sides.py` reads one JSON request on stdin and writes one JSON answer. It imports
`macp_sdk` from whichever environment runs it: this project's, or the 0.22.0 virtual
environment (tests/governance/anchor.py), which ships its own `macp` and `macp_sdk`.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _signer(request: dict[str, Any]) -> Any:
    from macp_sdk.receipt import ReceiptSigner

    return ReceiptSigner(kid=request["kid"], private_key=bytes.fromhex(request["seed"]))


def build(request: dict[str, Any]) -> list[Any]:
    from macp_sdk.receipt import build_receipt, commitment_from_projection

    receipts = []
    for item in request["commitments"]:
        payload = commitment_from_projection(item)
        receipts.append(
            build_receipt(
                payload,
                session_id="s-1",
                mode="macp.mode.decision.v1",
                issuer=request["issuer"],
                issued_at="2026-01-01T00:00:00Z",
                signer=_signer(request),
                commitment_wire=payload.SerializeToString(),
                semantics_rev={"implementation": "x", "rev": 3},
                transcript={"digest_alg": "sha-256", "digest": "abc", "message_count": 4},
            )
        )
    return receipts


def verify(request: dict[str, Any]) -> list[Any]:
    from macp_sdk.receipt import trusted_keys_from_jwks, verify_receipt

    keys = trusted_keys_from_jwks(request["jwks"])
    return [verify_receipt(receipt, keys) for receipt in request["receipts"]]


def hashes(request: dict[str, Any]) -> list[str]:
    from macp_sdk.commitment_hash import commitment_hash
    from macp_sdk.receipt import commitment_from_projection

    return [commitment_hash(commitment_from_projection(c)) for c in request["commitments"]]


def policies(request: dict[str, Any]) -> list[Any]:
    """Each case's descriptor (its rules as the exact text sent) or how it was refused."""
    from macp_sdk import policy
    from macp_sdk.errors import MacpSessionError

    out: list[Any] = []
    for case in request["cases"]:
        try:
            kwargs = {
                name: getattr(policy, spec[0])(**spec[1]) if isinstance(spec, list) else spec
                for name, spec in case["kwargs"].items()
            }
            descriptor = getattr(policy, case["builder"])("p.case", "case", **kwargs)
        except MacpSessionError:
            out.append({"refused": "MacpSessionError"})
            continue
        except Exception as exc:  # noqa: BLE001 - reported, so the test shows which
            out.append({"refused": type(exc).__name__, "message": str(exc)})
            continue
        rules = descriptor.rules
        text = rules.decode() if isinstance(rules, bytes) else rules
        out.append(
            {"mode": descriptor.mode, "rules": text, "schema_version": descriptor.schema_version}
        )
    return out


def rule_defaults(request: dict[str, Any]) -> dict[str, Any]:
    """Each rule class's fields and their defaults, as a JSON object."""
    import dataclasses

    from macp_sdk import policy

    return {name: dataclasses.asdict(getattr(policy, name)()) for name in request["classes"]}


def public_jwk(request: dict[str, Any]) -> dict[str, Any]:
    # 0.22.0 has no helper for this; derive the JWK with cryptography directly.
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["seed"]))
    x = base64.urlsafe_b64encode(key.public_key().public_bytes_raw()).rstrip(b"=").decode()
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": request["kid"], "x": x}]}


def runtime_receipt(request: dict[str, Any]) -> dict[str, Any]:
    """Our side only: a receipt and key set from the embedded runtime."""
    from macp_sdk import AuthConfig, DecisionSession, MacpClient
    from macp_sdk.governance import fetch_receipt_keys, session_receipt
    from macp_sdk.local_runtime import LocalRuntime

    lead = AuthConfig.for_dev_agent("lead")
    with (
        LocalRuntime() as runtime,
        MacpClient(target=runtime.target, secure=False, auth=lead, default_timeout=10) as client,
    ):
        session = DecisionSession(client, auth=lead)
        session.start(intent="pick", participants=["lead"], ttl_ms=60_000)
        session.propose("p1", "option ✓", rationale="r")
        session.commit(action="decision.selected", authority_scope="t", reason=request["reason"])
        return {
            "receipt": session_receipt(session).receipt,
            "jwks": fetch_receipt_keys(client),
        }


OPS = {
    "build": build,
    "verify": verify,
    "hashes": hashes,
    "policies": policies,
    "rule_defaults": rule_defaults,
    "public_jwk": public_jwk,
    "runtime_receipt": runtime_receipt,
}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    json.dump(OPS[request["op"]](request), sys.stdout)
