"""The runtime's error vocabulary (runtime-behavior.md §2.2).

Each error is identified by the reference runtime's variant name, which is what goes into
`MACPError.message` on an Ack. The variant decides the protocol code and the gRPC status used
when the error has to surface as a status (streams and control RPCs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

import grpc
from macp.v1 import envelope_pb2

_S = grpc.StatusCode

# variant name -> (protocol error code, gRPC status when surfaced as a status)
VARIANTS: Final[dict[str, tuple[str, grpc.StatusCode]]] = {
    "InvalidMacpVersion": ("UNSUPPORTED_PROTOCOL_VERSION", _S.FAILED_PRECONDITION),
    "InvalidEnvelope": ("INVALID_ENVELOPE", _S.FAILED_PRECONDITION),
    "InvalidTtl": ("INVALID_ENVELOPE", _S.FAILED_PRECONDITION),
    "InvalidPayload": ("INVALID_ENVELOPE", _S.FAILED_PRECONDITION),
    "InvalidModeState": ("INVALID_ENVELOPE", _S.FAILED_PRECONDITION),
    "SessionAlreadyExists": ("SESSION_ALREADY_EXISTS", _S.ALREADY_EXISTS),
    "UnknownSession": ("SESSION_NOT_FOUND", _S.FAILED_PRECONDITION),
    "SessionNotOpen": ("SESSION_NOT_OPEN", _S.FAILED_PRECONDITION),
    "TtlExpired": ("SESSION_NOT_OPEN", _S.FAILED_PRECONDITION),
    "UnknownMode": ("MODE_NOT_SUPPORTED", _S.FAILED_PRECONDITION),
    "Forbidden": ("FORBIDDEN", _S.PERMISSION_DENIED),
    "Unauthenticated": ("UNAUTHENTICATED", _S.UNAUTHENTICATED),
    "PayloadTooLarge": ("PAYLOAD_TOO_LARGE", _S.RESOURCE_EXHAUSTED),
    "RateLimited": ("RATE_LIMITED", _S.RESOURCE_EXHAUSTED),
    "StorageFailed": ("INTERNAL_ERROR", _S.INTERNAL),
    "InvalidSessionId": ("INVALID_SESSION_ID", _S.INVALID_ARGUMENT),
    "UnknownPolicyVersion": ("UNKNOWN_POLICY_VERSION", _S.FAILED_PRECONDITION),
    "InvalidPolicyDefinition": ("INVALID_POLICY_DEFINITION", _S.INVALID_ARGUMENT),
    "PolicyDenied": ("POLICY_DENIED", _S.FAILED_PRECONDITION),
}


class MacpError(Exception):
    """A protocol-level rejection of one message or request.

    `variant` is the wire-visible name; `reason` is a human explanation kept for logs and
    status texts (the Ack carries only the variant name, as the reference runtime does).
    """

    def __init__(self, variant: str, reason: str = "", reasons: Sequence[str] = ()) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown error variant {variant!r}")
        self.variant = variant
        self.reason = reason
        self.reasons = tuple(reasons)
        super().__init__(f"{variant}: {reason}" if reason else variant)

    @property
    def code(self) -> str:
        return VARIANTS[self.variant][0]

    @property
    def status(self) -> grpc.StatusCode:
        return VARIANTS[self.variant][1]

    @property
    def details(self) -> bytes:
        # Only POLICY_DENIED carries details: the JSON list of reasons.
        if self.variant != "PolicyDenied":
            return b""
        return json.dumps({"reasons": list(self.reasons)}).encode()

    @property
    def status_message(self) -> str:
        if self.variant == "PolicyDenied" and self.reasons:
            return f"PolicyDenied: {'; '.join(self.reasons)}"
        return self.variant

    def to_proto(self, session_id: str, message_id: str) -> envelope_pb2.MACPError:
        return envelope_pb2.MACPError(
            code=self.code,
            message=self.variant,
            session_id=session_id,
            message_id=message_id,
            details=self.details,
        )


def invalid_payload(reason: str) -> MacpError:
    return MacpError("InvalidPayload", reason)


def forbidden(reason: str) -> MacpError:
    return MacpError("Forbidden", reason)


def policy_denied(*reasons: str) -> MacpError:
    return MacpError("PolicyDenied", "; ".join(reasons), reasons)


def session_not_open(reason: str = "session is not open") -> MacpError:
    return MacpError("SessionNotOpen", reason)


# The MACP code a bare status stands for when the raiser names none (kernel look-ups).
_STATUS_CODES: Final[dict[grpc.StatusCode, str]] = {
    _S.NOT_FOUND: "SESSION_NOT_FOUND",
    _S.PERMISSION_DENIED: "FORBIDDEN",
    _S.UNAUTHENTICATED: "UNAUTHENTICATED",
    _S.INVALID_ARGUMENT: "INVALID_REQUEST",
}


class StatusError(Exception):
    """A failure the reference reports as a gRPC status rather than an Ack.

    `code` is the MACP code sent as `macp-error-code` trailing metadata with the status.
    """

    def __init__(self, status: grpc.StatusCode, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _STATUS_CODES.get(status, "INTERNAL_ERROR")
