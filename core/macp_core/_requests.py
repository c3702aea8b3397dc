"""Request building and response handling shared by the sync and async clients.

Everything that decides *what* goes on the wire or *what* a response means lives here, so
:class:`~macp_sdk.client.MacpClient` and :class:`~macp_sdk.async_client.AsyncMacpClient`
only differ in how they wait. Nothing in this module performs I/O.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc
from macp.v1 import core_pb2, envelope_pb2, policy_pb2

from . import _otel
from ._identity import resolve_sender
from ._logging import get_logger
from .constants import CLIENT_NAME, CLIENT_VERSION, SUPPORTED_PROTOCOL_VERSIONS
from .envelope import build_progress_envelope, build_signal_envelope, validate_required
from .errors import (
    DUPLICATE_MESSAGE,
    MacpAckError,
    MacpCapabilityError,
    MacpRetryError,
    MacpSdkError,
    MacpSessionError,
    MacpTransportError,
    MacpValidationError,
    ack_error,
    error_from_rpc,
)

if TYPE_CHECKING:
    from ._channel import ChannelSettings
    from ._error_details import AckFailure
    from .auth import AuthConfig
    from .retry import RetryPolicy

logger = get_logger("client")


# --- timeouts ----------------------------------------------------------------------------
class _Unbounded:
    """Type of :data:`UNBOUNDED`."""

    __slots__ = ()
    _instance: _Unbounded | None = None

    def __new__(cls) -> _Unbounded:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNBOUNDED"


UNBOUNDED = _Unbounded()
"""Pass as ``timeout=`` for "no deadline on this call", even when a default is set."""

TimeoutValue = float | None | _Unbounded


def resolve_timeout(timeout: TimeoutValue, default: float | None) -> float | None:
    """Unary calls: ``None`` means the client default, :data:`UNBOUNDED` means no deadline."""
    if isinstance(timeout, _Unbounded):
        return None
    if timeout is None:
        return default
    return _positive("timeout", timeout)


def resolve_stream_timeout(timeout: TimeoutValue) -> float | None:
    """Streams run until ``timeout`` seconds (total); ``None``/:data:`UNBOUNDED` = forever.

    The client's ``default_timeout`` is meant for unary calls and deliberately does not cut
    long-lived watches short.
    """
    if timeout is None or isinstance(timeout, _Unbounded):
        return None
    return _positive("timeout", timeout)


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MacpValidationError(name, value, "a positive number of seconds, None or UNBOUNDED")
    return float(value)


class Deadline:
    """A monotonic deadline; ``None`` seconds means none."""

    def __init__(self, seconds: float | None) -> None:
        self._at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self._at is None else max(0.0, self._at - time.monotonic())

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0.0


# --- auth --------------------------------------------------------------------------------
Metadata = tuple[tuple[str, str], ...]


def pick_auth(call_auth: AuthConfig | None, client_auth: AuthConfig | None) -> AuthConfig | None:
    """Per-call auth wins over the client's."""
    return call_auth if call_auth is not None else client_auth


def require_auth(
    call_auth: AuthConfig | None, client_auth: AuthConfig | None, operation: str
) -> AuthConfig:
    auth = pick_auth(call_auth, client_auth)
    if auth is None:
        raise MacpSessionError(
            f"{operation} needs credentials: pass auth=AuthConfig.for_dev_agent(...) or "
            "AuthConfig.for_bearer(...) to the client or to this call"
        )
    return auth


def metadata_for(auth: AuthConfig | None) -> Metadata:
    """The call's metadata: the credential (if any) plus W3C trace context when OpenTelemetry
    is installed and a span is active (nothing extra otherwise)."""
    return _otel.inject_trace_context(auth.metadata() if auth is not None else ())


# --- capabilities ------------------------------------------------------------------------
def capability_path(path: str) -> tuple[str, ...]:
    """Split and check a dotted path to a boolean of ``macp.v1.Capabilities``."""
    parts = tuple(path.split(".")) if isinstance(path, str) and path else ()
    descriptor = core_pb2.Capabilities.DESCRIPTOR
    for index, part in enumerate(parts):
        field = descriptor.fields_by_name.get(part)
        if field is None:
            break
        if index == len(parts) - 1:
            if field.type == field.TYPE_BOOL:
                return parts
            break
        if field.message_type is None:
            break
        descriptor = field.message_type
    raise MacpValidationError(
        "capability", path, "a dotted path to a boolean of macp.v1.Capabilities"
    )


def capability_advertised(capabilities: core_pb2.Capabilities | None, path: str) -> bool | None:
    """Whether ``capabilities`` sets the flag at dotted ``path`` (``"roots.list_changed"``).

    ``None`` when capabilities are unknown (no ``initialize()`` yet). A path that does not name
    a boolean field of ``macp.v1.Capabilities`` raises :class:`MacpValidationError`.
    """
    parts = capability_path(path)
    if capabilities is None:
        return None
    node: object = capabilities
    for part in parts:
        node = getattr(node, part)
    return node is True


# --- channel -----------------------------------------------------------------------------
ChannelOptions = Sequence[tuple[str, str | int | bool]]


def channel_settings(
    *,
    target: str,
    secure: bool,
    root_certificates: bytes | None,
    private_key: bytes | None,
    certificate_chain: bytes | None,
    channel_options: ChannelOptions | None,
) -> ChannelSettings:
    from ._channel import ChannelSettings  # a dataclass: defined when a client is made

    return ChannelSettings(
        target=target,
        secure=secure,
        root_certificates=root_certificates,
        private_key=private_key,
        certificate_chain=certificate_chain,
        options=tuple((str(k), v) for k, v in (channel_options or ())),
    )


# --- shared client state -----------------------------------------------------------------
class ClientCore:
    """State and decisions both clients share (auth precedence, timeouts, retry default)."""

    def __init__(
        self,
        *,
        auth: AuthConfig | None,
        default_timeout: float | None,
        retry: RetryPolicy | None,
    ) -> None:
        from .auth import AuthConfig  # once per client; a session class does not load it

        if auth is not None and not isinstance(auth, AuthConfig):
            raise MacpValidationError("auth", type(auth).__name__, "an AuthConfig or None")
        self.auth = auth
        self.default_timeout = (
            None if default_timeout is None else _positive("default_timeout", default_timeout)
        )
        self.retry = retry
        self.server_capabilities: core_pb2.Capabilities | None = None
        self.initialize_response: core_pb2.InitializeResponse | None = None

    def _timeout(self, timeout: TimeoutValue) -> float | None:
        return resolve_timeout(timeout, self.default_timeout)

    def _md(self, auth: AuthConfig | None) -> Metadata:
        """Metadata when credentials are optional for the RPC: sent if available."""
        return metadata_for(pick_auth(auth, self.auth))

    def _md_required(self, auth: AuthConfig | None, operation: str) -> Metadata:
        return metadata_for(require_auth(auth, self.auth, operation))

    def supports(self, capability: str) -> bool | None:
        """Whether the runtime advertised ``capability`` (a dotted path in
        ``macp.v1.Capabilities``, e.g. ``"policy_registry.what_if_replay"``); ``None`` before
        ``initialize()``."""
        return capability_advertised(self.server_capabilities, capability)

    def _require_capability(self, capability: str, operation: str) -> None:
        """Refuse a gated call the runtime said it cannot serve (only once capabilities are
        known: before ``initialize()`` the call is attempted). The gate of each RPC comes from
        its ``(macp.sdk.v1.rpc).capability`` option, through the generated client."""
        if self.supports(capability) is False:
            raise MacpCapabilityError(capability, operation)

    @staticmethod
    def _checked_ack(ack: envelope_pb2.Ack, raise_on_nack: bool) -> envelope_pb2.Ack:
        """For RPCs whose response carries an Ack (``(macp.sdk.v1.rpc).ack_field``)."""
        return checked_ack(ack, raise_on_nack=raise_on_nack)

    def _retry_for(self, retry: RetryPolicy | None) -> RetryPolicy | None:
        return retry if retry is not None else self.retry

    def _remember(self, response: core_pb2.InitializeResponse) -> core_pb2.InitializeResponse:
        self.initialize_response = response
        self.server_capabilities = response.capabilities
        return response

    # Envelopes for the two non-session helpers; sender resolution enforces the guard.
    def _signal_envelope(
        self,
        auth: AuthConfig | None,
        *,
        signal_type: str,
        data: bytes,
        confidence: float,
        correlation_session_id: str,
        sender: str | None,
    ) -> envelope_pb2.Envelope:
        active = require_auth(auth, self.auth, "send_signal")
        return build_signal_envelope(
            signal_type=signal_type,
            data=data,
            confidence=confidence,
            correlation_session_id=correlation_session_id,
            sender=resolve_sender(sender, active),
        )

    def _progress_envelope(
        self,
        auth: AuthConfig | None,
        *,
        session_id: str,
        mode: str,
        progress_token: str,
        progress: float,
        total: float,
        message: str,
        target_message_id: str,
        sender: str | None,
    ) -> envelope_pb2.Envelope:
        active = require_auth(auth, self.auth, "send_progress")
        return build_progress_envelope(
            session_id=session_id,
            mode=mode,
            progress_token=progress_token,
            progress=progress,
            total=total,
            message=message,
            target_message_id=target_message_id,
            sender=resolve_sender(sender, active),
        )


# --- requests ----------------------------------------------------------------------------
def initialize_request(
    *,
    client_name: str = CLIENT_NAME,
    client_version: str = CLIENT_VERSION,
    protocol_versions: Sequence[str] = SUPPORTED_PROTOCOL_VERSIONS,
) -> core_pb2.InitializeRequest:
    """Advertise every capability this SDK can use; the runtime answers with its own."""
    caps = core_pb2.Capabilities(
        sessions=core_pb2.SessionsCapability(stream=True, list_sessions=True, watch_sessions=True),
        cancellation=core_pb2.CancellationCapability(cancel_session=True),
        progress=core_pb2.ProgressCapability(progress=True),
        manifest=core_pb2.ManifestCapability(get_manifest=True),
        mode_registry=core_pb2.ModeRegistryCapability(list_modes=True, list_changed=True),
        roots=core_pb2.RootsCapability(list_roots=True, list_changed=True),
        policy_registry=policy_pb2.PolicyRegistryCapability(
            register_policy=True, list_policies=True, list_changed=True, what_if_replay=True
        ),
        decision_receipt=core_pb2.DecisionReceiptCapability(get_decision_receipt=True),
    )
    return core_pb2.InitializeRequest(
        supported_protocol_versions=list(protocol_versions),
        client_info=core_pb2.ClientInfo(name=client_name, version=client_version),
        capabilities=caps,
    )


def send_request(envelope: envelope_pb2.Envelope) -> core_pb2.SendRequest:
    if not isinstance(envelope, envelope_pb2.Envelope):
        raise MacpValidationError("envelope", type(envelope).__name__, "a macp.v1.Envelope")
    return core_pb2.SendRequest(envelope=envelope)


def check_sender_matches(envelope: envelope_pb2.Envelope, auth: AuthConfig | None) -> None:
    """Run the identity guard on an envelope built elsewhere (e.g. by ``build_envelope``)."""
    if envelope.sender and auth is not None:
        resolve_sender(envelope.sender, auth)


def session_id_arg(session_id: str) -> str:
    return validate_required("session_id", session_id)


def subscribe_frame(session_id: str, after_sequence: int = 0) -> core_pb2.StreamSessionRequest:
    if (
        isinstance(after_sequence, bool)
        or not isinstance(after_sequence, int)
        or after_sequence < 0
    ):
        raise MacpValidationError("after_sequence", after_sequence, "an integer >= 0")
    return core_pb2.StreamSessionRequest(
        subscribe_session_id=validate_required("session_id", session_id),
        after_sequence=after_sequence,
    )


def envelope_frame(envelope: envelope_pb2.Envelope) -> core_pb2.StreamSessionRequest:
    if not isinstance(envelope, envelope_pb2.Envelope):
        raise MacpValidationError("envelope", type(envelope).__name__, "a macp.v1.Envelope")
    return core_pb2.StreamSessionRequest(envelope=envelope)


# --- responses ---------------------------------------------------------------------------
def is_accepted(ack: envelope_pb2.Ack) -> bool:
    """An Ack counts as success when ok, or when it reports a duplicate (already accepted)."""
    return ack.ok or ack.duplicate or ack.error.code == DUPLICATE_MESSAGE


def ack_failure(ack: envelope_pb2.Ack, envelope: envelope_pb2.Envelope | None = None) -> AckFailure:
    from ._error_details import AckFailure, parse_error_details  # refusals only

    details = parse_error_details(ack.error.details)
    return AckFailure(
        code=ack.error.code or "UNKNOWN",
        message=ack.error.message,
        session_id=ack.error.session_id
        or ack.session_id
        or (envelope.session_id if envelope else ""),
        message_id=ack.error.message_id
        or ack.message_id
        or (envelope.message_id if envelope else ""),
        reasons=details.reasons,
        denials=details.denials,
    )


def nack_error(
    ack: envelope_pb2.Ack, envelope: envelope_pb2.Envelope | None = None
) -> MacpAckError:
    return ack_error(
        ack_failure(ack, envelope),
        mode=envelope.mode if envelope else "",
        message_type=envelope.message_type if envelope else "",
    )


def checked_ack(
    ack: envelope_pb2.Ack,
    envelope: envelope_pb2.Envelope | None = None,
    *,
    raise_on_nack: bool = True,
) -> envelope_pb2.Ack:
    """Return an accepted (or duplicate) Ack; raise the typed NACK error otherwise."""
    if is_accepted(ack):
        if ack.duplicate or ack.error.code == DUPLICATE_MESSAGE:
            logger.debug("duplicate ack for message %s treated as accepted", ack.message_id)
        return ack
    error = nack_error(ack, envelope)
    if raise_on_nack:
        raise error
    logger.warning("%s", error)
    return ack


class StreamItem(enum.Enum):
    ENVELOPE = "envelope"
    ERROR = "error"
    EMPTY = "empty"


def classify(
    response: core_pb2.StreamSessionResponse,
) -> tuple[StreamItem, envelope_pb2.Envelope | envelope_pb2.MACPError | None]:
    """Split one StreamSession frame into an accepted envelope or an inline error."""
    which = response.WhichOneof("response")
    if which == "envelope":
        return StreamItem.ENVELOPE, response.envelope
    if which == "error":
        return StreamItem.ERROR, response.error
    return StreamItem.EMPTY, None


# --- server-streaming watches ------------------------------------------------------------
class WatchEnd(enum.Enum):
    FINISH = "finish"  # stop iterating, no error
    RECONNECT = "reconnect"
    RAISE = "raise"


RECONNECTABLE_STATUSES: frozenset[grpc.StatusCode] = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL}
)


def watch_outcome(
    status: grpc.StatusCode | None, *, reconnect: bool, closing: bool, deadline: Deadline
) -> WatchEnd:
    """What a watch does when its call ends. ``status`` None means the server ended cleanly.

    The caller's own timeout (DEADLINE_EXCEEDED) and a client being closed (CANCELLED) end the
    iteration quietly; reconnectable failures reconnect when asked to.
    """
    if closing or deadline.expired():
        return WatchEnd.FINISH
    if status is grpc.StatusCode.DEADLINE_EXCEEDED:
        return WatchEnd.FINISH
    if status is None:
        return WatchEnd.RECONNECT if reconnect else WatchEnd.FINISH
    if status is grpc.StatusCode.CANCELLED:
        return WatchEnd.FINISH
    if reconnect and status in RECONNECTABLE_STATUSES:
        return WatchEnd.RECONNECT
    return WatchEnd.RAISE


class ReconnectState:
    """Backoff for a reconnecting watch: attempts reset whenever an item arrives."""

    def __init__(self, policy: RetryPolicy | None, operation: str) -> None:
        from .retry import RetryPolicy  # watches only: the retry module loads with a send

        # A watch asked to reconnect should, even when the client has no send retry policy.
        self.policy = policy if policy is not None and policy.max_retries > 0 else RetryPolicy()
        self.operation = operation
        self.attempts = 0

    def reset(self) -> None:
        self.attempts = 0

    def next_delay(self, failure: grpc.RpcError | None) -> float:
        self.attempts += 1
        last: MacpSdkError = (
            error_from_rpc(failure, operation=self.operation)
            if failure is not None
            else MacpTransportError(f"{self.operation} ended by the runtime", code="OK")
        )
        if self.attempts > self.policy.max_retries:
            raise MacpRetryError(
                f"{self.operation}: gave up reconnecting after {self.attempts - 1} attempts",
                attempts=self.attempts,
                last_error=last,
            ) from (failure if isinstance(failure, BaseException) else None)
        return self.policy.delay(self.attempts - 1)
