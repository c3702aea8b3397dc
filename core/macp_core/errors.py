"""Typed SDK errors: MACP registry codes, NACKs, gRPC statuses, client-side checks.

Two families sit under :class:`MacpSdkError`:

* :class:`MacpAckError` -- the runtime refused a message (a NACK). One subclass per MACP
  registry code (``MacpSessionNotOpenError`` ...), all carrying ``code``, ``message``,
  ``session_id`` and ``message_id``.
* :class:`MacpTransportError` -- the gRPC call itself failed. One subclass per gRPC status
  (``MacpUnavailableError``, ``MacpTimeoutError`` ...), carrying the status name in ``code``.

Client-side problems raise :class:`MacpValidationError` (bad argument, before anything is
sent), :class:`MacpIdentityMismatchError` (``sender=`` cannot match the auth identity) or
:class:`MacpSessionError` (wrong use of a session or stream). :class:`MacpCapabilityError`
means the runtime did not advertise what a call needs, so it was not attempted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import grpc

from ._renamed import renamed_keywords
from ._rpc_face import DetailsText, RpcErrorBase, StatusText, Trailing, with_code

if TYPE_CHECKING:
    from ._error_details import AckFailure as AckFailure
    from ._error_details import ErrorDetails as ErrorDetails
    from ._error_details import PolicyDenial as PolicyDenial
    from ._error_details import parse_error_details as parse_error_details

# --- MACP error registry codes (protocol §4.4) -------------------------------------------
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
UNAUTHORIZED = "UNAUTHORIZED"  # deprecated alias of FORBIDDEN
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
SESSION_NOT_OPEN = "SESSION_NOT_OPEN"
DUPLICATE_MESSAGE = "DUPLICATE_MESSAGE"
SESSION_ALREADY_EXISTS = "SESSION_ALREADY_EXISTS"
INVALID_ENVELOPE = "INVALID_ENVELOPE"
UNSUPPORTED_PROTOCOL_VERSION = "UNSUPPORTED_PROTOCOL_VERSION"
MODE_NOT_SUPPORTED = "MODE_NOT_SUPPORTED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
RATE_LIMITED = "RATE_LIMITED"
INVALID_SESSION_ID = "INVALID_SESSION_ID"
INTERNAL_ERROR = "INTERNAL_ERROR"
UNKNOWN_POLICY_VERSION = "UNKNOWN_POLICY_VERSION"
POLICY_DENIED = "POLICY_DENIED"
INVALID_POLICY_DEFINITION = "INVALID_POLICY_DEFINITION"
# Codes newer runtimes use on non-Send RPCs.
REGISTRY_READ_ONLY = "REGISTRY_READ_ONLY"
INVALID_REQUEST = "INVALID_REQUEST"
STREAM_LAGGED = "STREAM_LAGGED"
AGENT_NOT_FOUND = "AGENT_NOT_FOUND"
HISTORY_UNAVAILABLE = "HISTORY_UNAVAILABLE"
RECEIPT_UNAVAILABLE = "RECEIPT_UNAVAILABLE"

PERMANENT_ERROR_CODES: frozenset[str] = frozenset(
    {
        SESSION_ALREADY_EXISTS,
        POLICY_DENIED,
        UNKNOWN_POLICY_VERSION,
        INVALID_POLICY_DEFINITION,
        UNSUPPORTED_PROTOCOL_VERSION,
        INVALID_ENVELOPE,
        SESSION_NOT_FOUND,
        SESSION_NOT_OPEN,
        MODE_NOT_SUPPORTED,
        FORBIDDEN,
        UNAUTHENTICATED,
        DUPLICATE_MESSAGE,
        PAYLOAD_TOO_LARGE,
        RATE_LIMITED,
        INTERNAL_ERROR,
        INVALID_SESSION_ID,
    }
)
KNOWN_ERROR_CODES: frozenset[str] = PERMANENT_ERROR_CODES | {
    UNAUTHORIZED,
    REGISTRY_READ_ONLY,
    INVALID_REQUEST,
    STREAM_LAGGED,
    AGENT_NOT_FOUND,
    HISTORY_UNAVAILABLE,
    RECEIPT_UNAVAILABLE,
}

# Trailing metadata newer runtimes attach to gRPC errors.
MACP_ERROR_CODE_KEY = "macp-error-code"
MACP_ERROR_DETAILS_KEY = "macp-error-details-bin"


# --- POLICY_DENIED denial codes ----------------------------------------------------------
# `PolicyDenial.code` values the runtime sends (the same constants as every MACP error code
# here: a wire vocabulary with no proto). The set is open: treat a code outside
# KNOWN_DENY_CODES as DENY_UNSPECIFIED.
DENY_VETO = "veto"
DENY_VETO_HOLD = "veto_hold"
DENY_QUORUM_NOT_MET = "quorum_not_met"
DENY_THRESHOLD_NOT_MET = "threshold_not_met"
DENY_CONFIDENCE_BELOW_MINIMUM = "confidence_below_minimum"
DENY_EVALUATION_REQUIRED = "evaluation_required"
DENY_NO_VOTES = "no_votes"
DENY_DECLINE_OVER_APPROVAL = "decline_over_approval"
DENY_DECLINE_NOT_BACKED = "decline_not_backed"
DENY_CRITERION_NOT_MET = "criterion_not_met"
DENY_OUTPUT_REQUIRED = "output_required"
DENY_REASSIGNMENT_NOT_ALLOWED = "reassignment_not_allowed"
DENY_UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
DENY_INVALID_RULES = "invalid_rules"
DENY_UNSPECIFIED = "unspecified"
KNOWN_DENY_CODES: frozenset[str] = frozenset(
    {
        DENY_VETO,
        DENY_VETO_HOLD,
        DENY_QUORUM_NOT_MET,
        DENY_THRESHOLD_NOT_MET,
        DENY_CONFIDENCE_BELOW_MINIMUM,
        DENY_EVALUATION_REQUIRED,
        DENY_NO_VOTES,
        DENY_DECLINE_OVER_APPROVAL,
        DENY_DECLINE_NOT_BACKED,
        DENY_CRITERION_NOT_MET,
        DENY_OUTPUT_REQUIRED,
        DENY_REASSIGNMENT_NOT_ALLOWED,
        DENY_UNSUPPORTED_SCHEMA_VERSION,
        DENY_INVALID_RULES,
        DENY_UNSPECIFIED,
    }
)


# --- hierarchy ---------------------------------------------------------------------------
class MacpSdkError(Exception):
    """Base of every error the SDK raises."""


class MacpSessionError(MacpSdkError):
    """A session, stream or client was used in a way its state does not allow."""


class MacpValidationError(MacpSessionError, ValueError):
    """A client-side check failed before anything was sent.

    ``field`` names the argument, ``value`` is what was given and ``allowed`` says what would
    have been accepted.
    """

    def __init__(self, field: str, value: object, allowed: str, *, hint: str = "") -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        text = f"invalid {field}={value!r}: expected {allowed}"
        super().__init__(f"{text}. {hint}" if hint else text)


class MacpIdentityMismatchError(MacpSdkError):
    """``sender=`` cannot match the identity the call authenticates as."""

    def __init__(self, expected: str, actual: str, message: str | None = None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            message or f"sender {actual!r} does not match the authenticated identity {expected!r}"
        )


class MacpCapabilityError(MacpSdkError):
    """The runtime did not advertise the capability a call needs, so nothing was sent.

    Raised only once capabilities are known (after ``initialize()``). ``capability`` is the
    dotted path in ``macp.v1.Capabilities`` (``"policy_registry.what_if_replay"``) and
    ``operation`` the client method that needs it.
    """

    def __init__(self, capability: str, operation: str = "") -> None:
        self.capability = capability
        self.operation = operation
        what = f"{operation} needs" if operation else "this call needs"
        super().__init__(
            f"{what} the runtime capability {capability!r}, which it did not advertise in "
            "Initialize; nothing was sent"
        )


class MacpAckError(MacpSdkError, RpcErrorBase):
    """The runtime refused a message. ``code`` is the MACP registry code.

    Also a ``grpc.RpcError`` (0.22.0 let refusals of unary RPCs escape as one): ``code()``
    gives the gRPC status (None for a NACK in an Ack), ``details()`` the message and
    ``trailing_metadata()`` carries ``macp-error-code``.

    ``macp_code=`` (0.22.0's parameter) is the registry code a gRPC status named in its
    ``macp-error-code`` metadata when it differs from ``failure.code`` (e.g.
    ``REGISTRY_READ_ONLY`` behind ``FAILED_PRECONDITION``); without it ``macp_code`` is
    ``failure.code``."""

    def __init__(
        self,
        failure: AckFailure,
        *,
        mode: str = "",
        message_type: str = "",
        macp_code: str | None = None,
        grpc_code: str = "",
        trailing: Trailing = (),
    ) -> None:
        self.failure = failure
        self.code = StatusText(failure.code, _STATUS_BY_NAME.get(grpc_code))
        self.details = DetailsText(failure.message)
        self._macp_code = macp_code or failure.code
        self._trailing = with_code(trailing, MACP_ERROR_CODE_KEY, self._macp_code)
        self.message = failure.message
        self.session_id = failure.session_id
        self.message_id = failure.message_id
        self.mode = mode
        self.message_type = message_type
        self.grpc_code = grpc_code
        what = f"{message_type} " if message_type else ""
        text = f"{what}rejected with {failure.code}"
        if failure.message:
            text += f": {failure.message}"
        if failure.reasons:
            text += f" ({'; '.join(failure.reasons)})"
        ids = ", ".join(
            f"{k}={v}" for k, v in (("session", self.session_id), ("message", self.message_id)) if v
        )
        super().__init__(f"{text} [{ids}]" if ids else text)

    @property
    def macp_code(self) -> str:
        return self._macp_code

    def trailing_metadata(self) -> Trailing:
        return self._trailing

    def initial_metadata(self) -> Trailing:
        return ()

    @property
    def reasons(self) -> list[str]:
        return list(self.failure.reasons)

    @property
    def denials(self) -> list[PolicyDenial]:
        return list(self.failure.denials)


class MacpUnauthenticatedAckError(MacpAckError):
    """UNAUTHENTICATED: missing/invalid credential, or ``sender`` is not the caller."""


class MacpForbiddenError(MacpAckError):
    """FORBIDDEN: authenticated but not allowed to send this here."""


class MacpSessionNotFoundError(MacpAckError):
    """SESSION_NOT_FOUND."""


class MacpSessionNotOpenError(MacpAckError):
    """SESSION_NOT_OPEN: resolved, expired, cancelled or suspended."""


class MacpDuplicateMessageError(MacpAckError):
    """DUPLICATE_MESSAGE. Never raised by ``send``: a duplicate is treated as accepted."""


class MacpSessionAlreadyExistsError(MacpAckError):
    """SESSION_ALREADY_EXISTS."""


class MacpInvalidEnvelopeError(MacpAckError):
    """INVALID_ENVELOPE: structural or mode-rule validation failed."""


class MacpUnsupportedProtocolVersionError(MacpAckError):
    """UNSUPPORTED_PROTOCOL_VERSION."""


class MacpModeNotSupportedError(MacpAckError):
    """MODE_NOT_SUPPORTED."""


class MacpPayloadTooLargeError(MacpAckError):
    """PAYLOAD_TOO_LARGE."""


class MacpRateLimitedError(MacpAckError):
    """RATE_LIMITED: retry later (a :class:`RetryPolicy` does this for you)."""


class MacpInvalidSessionIdError(MacpAckError):
    """INVALID_SESSION_ID."""


class MacpRuntimeInternalError(MacpAckError):
    """INTERNAL_ERROR reported by the runtime."""


class MacpUnknownPolicyVersionError(MacpAckError):
    """UNKNOWN_POLICY_VERSION."""


class MacpPolicyDeniedError(MacpAckError):
    """POLICY_DENIED: see ``reasons`` and ``denials``."""


class MacpInvalidPolicyDefinitionError(MacpAckError):
    """INVALID_POLICY_DEFINITION."""


class MacpRegistryReadOnlyError(MacpAckError):
    """REGISTRY_READ_ONLY: the runtime loaded its registry from files."""


ACK_ERROR_TYPES: Mapping[str, type[MacpAckError]] = {
    UNAUTHENTICATED: MacpUnauthenticatedAckError,
    FORBIDDEN: MacpForbiddenError,
    UNAUTHORIZED: MacpForbiddenError,
    SESSION_NOT_FOUND: MacpSessionNotFoundError,
    SESSION_NOT_OPEN: MacpSessionNotOpenError,
    DUPLICATE_MESSAGE: MacpDuplicateMessageError,
    SESSION_ALREADY_EXISTS: MacpSessionAlreadyExistsError,
    INVALID_ENVELOPE: MacpInvalidEnvelopeError,
    UNSUPPORTED_PROTOCOL_VERSION: MacpUnsupportedProtocolVersionError,
    MODE_NOT_SUPPORTED: MacpModeNotSupportedError,
    PAYLOAD_TOO_LARGE: MacpPayloadTooLargeError,
    RATE_LIMITED: MacpRateLimitedError,
    INVALID_SESSION_ID: MacpInvalidSessionIdError,
    INTERNAL_ERROR: MacpRuntimeInternalError,
    UNKNOWN_POLICY_VERSION: MacpUnknownPolicyVersionError,
    POLICY_DENIED: MacpPolicyDeniedError,
    INVALID_POLICY_DEFINITION: MacpInvalidPolicyDefinitionError,
    REGISTRY_READ_ONLY: MacpRegistryReadOnlyError,
}


def ack_error(
    failure: AckFailure,
    *,
    mode: str = "",
    message_type: str = "",
    grpc_code: str = "",
    trailing: Trailing = (),
) -> MacpAckError:
    """The :class:`MacpAckError` subclass for ``failure.code`` (the base class if unknown)."""
    cls = ACK_ERROR_TYPES.get(failure.code, MacpAckError)
    return cls(
        failure, mode=mode, message_type=message_type, grpc_code=grpc_code, trailing=trailing
    )


class MacpTransportError(MacpSdkError, RpcErrorBase):
    """A gRPC call failed. ``code`` is the gRPC status name (``"UNAVAILABLE"``).

    Also a ``grpc.RpcError``, as code written for 0.22.0 expects: ``code()`` gives the
    ``grpc.StatusCode``, ``details()`` the status details, ``trailing_metadata()`` the
    call's trailing metadata."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = "",
        macp_code: str | None = "",
        operation: str = "",
        details: str = "",
        trailing: Trailing = (),
    ) -> None:
        code = code or ""  # 0.22.0 wrote None for "no code"
        self.code = StatusText(code, _STATUS_BY_NAME.get(code))
        self.macp_code = macp_code or ""
        self.operation = operation
        self.details = DetailsText(details)
        self._trailing = with_code(trailing, MACP_ERROR_CODE_KEY, self.macp_code)
        super().__init__(message)

    def trailing_metadata(self) -> Trailing:
        return self._trailing

    def initial_metadata(self) -> Trailing:
        return ()

    @property
    def status(self) -> grpc.StatusCode | None:
        return _STATUS_BY_NAME.get(self.code)


class MacpTimeoutError(MacpTransportError):
    """A deadline passed (DEADLINE_EXCEEDED) or a blocking read timed out."""


class MacpRetryError(MacpTransportError):
    """Every attempt allowed by the RetryPolicy failed; ``last_error`` is the final failure.

    Built as 0.22.0 built it, ``MacpRetryError(message, code=..., macp_code=...)``, or with
    ``attempts=`` and ``last_error=``, whose codes are used unless ``code``/``macp_code``
    are given. ``attempts`` is 0 and ``last_error`` None when not given."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        macp_code: str | None = None,
        attempts: int = 0,
        last_error: MacpSdkError | None = None,
    ) -> None:
        if code is None:
            code = str(getattr(last_error, "code", "") or "")
        if macp_code is None:
            macp_code = str(getattr(last_error, "macp_code", "") or "")
        super().__init__(message, code=code, macp_code=macp_code)
        self.attempts = attempts
        self.last_error = last_error


class MacpUnavailableError(MacpTransportError):
    """UNAVAILABLE: the runtime could not be reached."""


class MacpCancelledError(MacpTransportError):
    """CANCELLED: the call was cancelled (usually by this process)."""


class MacpUnauthenticatedError(MacpTransportError):
    """gRPC UNAUTHENTICATED: the credential was missing or rejected."""


class MacpPermissionDeniedError(MacpTransportError):
    """gRPC PERMISSION_DENIED."""


class MacpNotFoundError(MacpTransportError):
    """gRPC NOT_FOUND (unknown session, policy, agent ...)."""


class MacpInvalidArgumentError(MacpTransportError):
    """gRPC INVALID_ARGUMENT."""


class MacpFailedPreconditionError(MacpTransportError):
    """gRPC FAILED_PRECONDITION."""


class MacpAlreadyExistsError(MacpTransportError):
    """gRPC ALREADY_EXISTS."""


class MacpResourceExhaustedError(MacpTransportError):
    """gRPC RESOURCE_EXHAUSTED: rate limit, payload size, or a lagging stream (resubscribe)."""


class MacpUnimplementedError(MacpTransportError):
    """gRPC UNIMPLEMENTED: the runtime does not serve this RPC."""


class MacpInternalError(MacpTransportError):
    """gRPC INTERNAL / UNKNOWN / DATA_LOSS."""


_STATUS_BY_NAME: dict[str, grpc.StatusCode] = {s.name: s for s in grpc.StatusCode}

TRANSPORT_ERROR_TYPES: Mapping[grpc.StatusCode, type[MacpTransportError]] = {
    grpc.StatusCode.DEADLINE_EXCEEDED: MacpTimeoutError,
    grpc.StatusCode.UNAVAILABLE: MacpUnavailableError,
    grpc.StatusCode.CANCELLED: MacpCancelledError,
    grpc.StatusCode.UNAUTHENTICATED: MacpUnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: MacpPermissionDeniedError,
    grpc.StatusCode.NOT_FOUND: MacpNotFoundError,
    grpc.StatusCode.INVALID_ARGUMENT: MacpInvalidArgumentError,
    grpc.StatusCode.FAILED_PRECONDITION: MacpFailedPreconditionError,
    grpc.StatusCode.ALREADY_EXISTS: MacpAlreadyExistsError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: MacpResourceExhaustedError,
    grpc.StatusCode.UNIMPLEMENTED: MacpUnimplementedError,
    grpc.StatusCode.INTERNAL: MacpInternalError,
    grpc.StatusCode.UNKNOWN: MacpInternalError,
    grpc.StatusCode.DATA_LOSS: MacpInternalError,
}


def rpc_status(err: grpc.RpcError) -> grpc.StatusCode | None:
    code = getattr(err, "code", None)
    if callable(code):
        value = code()
        if isinstance(value, grpc.StatusCode):
            return value
    return None


def _rpc_details(err: grpc.RpcError) -> str:
    details = getattr(err, "details", None)
    if callable(details):
        value = details()
        return value if isinstance(value, str) else ""
    return ""


def _trailing(err: grpc.RpcError) -> dict[str, Any]:
    trailing = getattr(err, "trailing_metadata", None)
    items = trailing() if callable(trailing) else None
    out: dict[str, Any] = {}
    for item in items or ():
        key, value = (item.key, item.value) if hasattr(item, "key") else item
        out[str(key)] = value
    return out


@renamed_keywords(err="rpc_error")
def macp_error_code(rpc_error: grpc.RpcError) -> str | None:
    """The MACP registry code a gRPC error carries, if any.

    Read from ``macp-error-code`` trailing metadata, else from a ``CODE: text`` prefix in the
    status details (the reference runtime writes e.g. ``"FORBIDDEN: session access denied"``).
    The parameter has 0.22.0's name; ``err=`` still works (deprecated).
    """
    value = _trailing(rpc_error).get(MACP_ERROR_CODE_KEY)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and value:
        return value
    prefix = _rpc_details(rpc_error).split(":", 1)[0].strip()
    return prefix if prefix in KNOWN_ERROR_CODES else None


def error_from_rpc(
    err: grpc.RpcError, *, operation: str = "", mode: str = "", message_type: str = ""
) -> MacpSdkError:
    """Map a gRPC error to the SDK exception that names it.

    An error whose trailing metadata carries ``macp-error-code`` is a refusal, so it becomes a
    :class:`MacpAckError`; everything else becomes the :class:`MacpTransportError` subclass
    for its status.
    """
    status = rpc_status(err)
    status_name = status.name if status is not None else "UNKNOWN"
    details = _rpc_details(err)
    trailing = _trailing(err)
    explicit = trailing.get(MACP_ERROR_CODE_KEY)
    if explicit:
        from ._error_details import AckFailure, parse_error_details

        code = explicit.decode("utf-8", "replace") if isinstance(explicit, bytes) else str(explicit)
        parsed = parse_error_details(trailing.get(MACP_ERROR_DETAILS_KEY))
        return ack_error(
            AckFailure(code=code, message=details, reasons=parsed.reasons, denials=parsed.denials),
            mode=mode,
            message_type=message_type,
            grpc_code=status_name,
            trailing=_pairs(trailing),
        )
    cls = TRANSPORT_ERROR_TYPES.get(status, MacpTransportError) if status else MacpTransportError
    where = f"{operation} failed" if operation else "gRPC call failed"
    return cls(
        f"{where}: {status_name}" + (f": {details}" if details else ""),
        code=status_name,
        macp_code=macp_error_code(err) or "",
        operation=operation,
        details=details,
        trailing=_pairs(trailing),
    )


def _pairs(trailing: Mapping[str, Any]) -> Trailing:
    return tuple((k, v) for k, v in trailing.items() if isinstance(v, str | bytes))


# The detail records load with the first refusal that needs them (see _error_details).
_DETAILS = frozenset({"AckFailure", "ErrorDetails", "PolicyDenial", "parse_error_details"})


def __getattr__(name: str) -> Any:
    if name in _DETAILS:
        from . import _error_details

        value = getattr(_error_details, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
