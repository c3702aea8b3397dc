"""The core's contract with the generator: what the hand-written library offers.

The generator reads this module (it imports nothing heavy) instead of parsing the core, and
`tests/core/test_contract.py` holds the core to it. Public modules are re-exported as
`macp_sdk.<module>` and their names at `macp_sdk`'s top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Reexport:
    """A module of a hand-written package, re-exported by the generated SDK."""

    source: str  # the absolute module that defines the names
    names: tuple[str, ...]
    top_level: bool = True  # also importable as `from macp_sdk import <name>`
    # Names the module also offers that another public module defines and exports at the top
    # level (0.22.0 offered them at both paths): re-exported here, never at the top level again.
    shared: tuple[str, ...] = ()
    # Deprecated aliases (alias, the name it stands for) the module offers the way 0.22.0 did:
    # reading one warns (DeprecationWarning) and gives the named object. The source module
    # defines `deprecated_alias(name, module)`, which the generated module's `__getattr__`
    # calls; type checkers see a plain alias. Never in `__all__`.
    deprecated: tuple[tuple[str, str], ...] = ()


PACKAGE: Final = "macp_core"

_AGENT_NAMES: Final = (
    "TERMINAL_PHASES",
    "AsyncGrpcTransportAdapter",
    "AsyncParticipant",
    "AsyncParticipantActions",
    "Bootstrap",
    "BootstrapError",
    "CancelCallbackServer",
    "CommitmentResult",
    "CommitmentStrategy",
    "Dispatcher",
    "EvaluationResult",
    "EvaluationStrategy",
    "GrpcTransportAdapter",
    "HandlerContext",
    "HttpTransportAdapter",
    "IncomingMessage",
    "InitiatorConfig",
    "MessageHandler",
    "ModeBinding",
    "Participant",
    "ParticipantActions",
    "PhaseChangeHandler",
    "SessionInfo",
    "TerminalHandler",
    "TerminalResult",
    "TransportAdapter",
    "VoteResult",
    "VotingStrategy",
    "binding_for",
    "commitment_handler",
    "evaluation_handler",
    "from_bootstrap",
    "function_committer",
    "function_evaluator",
    "function_voter",
    "load_bootstrap",
    "majority_committer",
    "majority_voter",
    "register_mode_binding",
    "start_cancel_callback_server",
    "voting_handler",
)

# 0.22.0's pre-rename strategy results (deprecated there, as here).
_AGENT_DEPRECATED: Final = (
    ("CommitmentDecision", "CommitmentResult"),
    ("VoteDecision", "VoteResult"),
)

# `macp_sdk.<key>` -> what it re-exports. The embedded runtime is a package of its own
# (`macp_local_runtime`); the SDK keeps its historical path `macp_sdk.local_runtime`.
PUBLIC_MODULES: Final[Mapping[str, Reexport]] = {
    "auth": Reexport(
        "macp_core.auth",
        (
            "AUTHORIZATION_HEADER",
            "AuthConfig",
            "resolve_sender",
        ),
    ),
    "base_projection": Reexport(
        "macp_core.base_projection",
        (
            "ANOMALY_DUPLICATE_MESSAGE",
            "ANOMALY_FOREIGN_SESSION",
            "ANOMALY_REJECTED_ENVELOPE",
            "ANOMALY_UNDECODABLE_PAYLOAD",
            "CORE_MESSAGE_TYPES",
            "PHASE_CANCELLED",
            "PHASE_COMMITTED",
            "PHASE_PENDING",
            "BaseProjection",
            "ProjectionAnomaly",
        ),
    ),
    "base_session": Reexport(
        "macp_core.base_session",
        (
            "AsyncBaseSession",
            "BaseSession",
        ),
        shared=("DEFAULT_CONFIGURATION_VERSION", "DEFAULT_MODE_VERSION", "DEFAULT_POLICY_VERSION"),
    ),
    "commitment_hash": Reexport(
        "macp_core.commitment_hash",
        (
            "LABEL",
            "VerifyOutcome",
            "canonical_projection",
            "commitment_hash",
            "is_canonical_commitment_hash",
            "verify_commitment_hash",
        ),
    ),
    "constants": Reexport(
        "macp_core.constants",
        (
            "CLIENT_NAME",
            "CLIENT_VERSION",
            "DEFAULT_CONFIGURATION_VERSION",
            "DEFAULT_MODE_VERSION",
            "DEFAULT_POLICY_VERSION",
            "MACP_VERSION",
            "MAX_PARTICIPANTS",
            "MAX_TTL_MS",
            "MIN_TTL_MS",
            "SUPPORTED_PROTOCOL_VERSIONS",
        ),
    ),
    "envelope": Reexport(
        "macp_core.envelope",
        (
            "NEGATIVE_ACTION_SUFFIXES",
            "CommitmentRefLike",
            "RootLike",
            "as_commitment_ref",
            "build_commitment_payload",
            "build_commitment_ref",
            "build_envelope",
            "build_progress_envelope",
            "build_progress_payload",
            "build_root",
            "build_session_start_payload",
            "build_signal_envelope",
            "build_signal_payload",
            "infer_outcome_positive",
            "is_valid_session_id",
            "new_commitment_id",
            "new_message_id",
            "new_session_id",
            "now_unix_ms",
            "serialize_message",
            "validate_commitment_hash",
            "validate_max_suspend_ms",
            "validate_participants",
            "validate_progress_scope",
            "validate_required",
            "validate_session_id",
            "validate_ttl_ms",
            "validate_unit_interval",
        ),
        shared=(
            "DEFAULT_CONFIGURATION_VERSION",
            "DEFAULT_MODE_VERSION",
            "DEFAULT_POLICY_VERSION",
            "MACP_VERSION",
        ),
    ),
    "errors": Reexport(
        "macp_core.errors",
        (
            "ACK_ERROR_TYPES",
            "AGENT_NOT_FOUND",
            "DENY_CONFIDENCE_BELOW_MINIMUM",
            "DENY_CRITERION_NOT_MET",
            "DENY_DECLINE_NOT_BACKED",
            "DENY_DECLINE_OVER_APPROVAL",
            "DENY_EVALUATION_REQUIRED",
            "DENY_INVALID_RULES",
            "DENY_NO_VOTES",
            "DENY_OUTPUT_REQUIRED",
            "DENY_QUORUM_NOT_MET",
            "DENY_REASSIGNMENT_NOT_ALLOWED",
            "DENY_THRESHOLD_NOT_MET",
            "DENY_UNSPECIFIED",
            "DENY_UNSUPPORTED_SCHEMA_VERSION",
            "DENY_VETO",
            "DENY_VETO_HOLD",
            "KNOWN_DENY_CODES",
            "DUPLICATE_MESSAGE",
            "FORBIDDEN",
            "HISTORY_UNAVAILABLE",
            "INTERNAL_ERROR",
            "INVALID_ENVELOPE",
            "INVALID_POLICY_DEFINITION",
            "INVALID_REQUEST",
            "INVALID_SESSION_ID",
            "KNOWN_ERROR_CODES",
            "MODE_NOT_SUPPORTED",
            "PAYLOAD_TOO_LARGE",
            "PERMANENT_ERROR_CODES",
            "POLICY_DENIED",
            "RATE_LIMITED",
            "RECEIPT_UNAVAILABLE",
            "REGISTRY_READ_ONLY",
            "SESSION_ALREADY_EXISTS",
            "SESSION_NOT_FOUND",
            "SESSION_NOT_OPEN",
            "STREAM_LAGGED",
            "TRANSPORT_ERROR_TYPES",
            "UNAUTHENTICATED",
            "UNAUTHORIZED",
            "UNKNOWN_POLICY_VERSION",
            "UNSUPPORTED_PROTOCOL_VERSION",
            "AckFailure",
            "ErrorDetails",
            "MacpAckError",
            "MacpAlreadyExistsError",
            "MacpCancelledError",
            "MacpCapabilityError",
            "MacpDuplicateMessageError",
            "MacpFailedPreconditionError",
            "MacpForbiddenError",
            "MacpIdentityMismatchError",
            "MacpInternalError",
            "MacpInvalidArgumentError",
            "MacpInvalidEnvelopeError",
            "MacpInvalidPolicyDefinitionError",
            "MacpInvalidSessionIdError",
            "MacpModeNotSupportedError",
            "MacpNotFoundError",
            "MacpPayloadTooLargeError",
            "MacpPermissionDeniedError",
            "MacpPolicyDeniedError",
            "MacpRateLimitedError",
            "MacpRegistryReadOnlyError",
            "MacpResourceExhaustedError",
            "MacpRetryError",
            "MacpRuntimeInternalError",
            "MacpSdkError",
            "MacpSessionAlreadyExistsError",
            "MacpSessionError",
            "MacpSessionNotFoundError",
            "MacpSessionNotOpenError",
            "MacpTimeoutError",
            "MacpTransportError",
            "MacpUnauthenticatedAckError",
            "MacpUnauthenticatedError",
            "MacpUnavailableError",
            "MacpUnimplementedError",
            "MacpUnknownPolicyVersionError",
            "MacpUnsupportedProtocolVersionError",
            "MacpValidationError",
            "PolicyDenial",
            "ack_error",
            "error_from_rpc",
            "macp_error_code",
            "parse_error_details",
            "rpc_status",
        ),
    ),
    "governance": Reexport(
        "macp_core.governance",
        (
            "async_fetch_decision_receipt",
            "async_fetch_receipt_keys",
            "async_session_receipt",
            "async_verify_session_receipt",
            "async_fetch_what_if_replay",
            "fetch_decision_receipt",
            "fetch_receipt_keys",
            "session_receipt",
            "verify_session_receipt",
            "fetch_what_if_replay",
        ),
    ),
    "quorum_threshold": Reexport(
        "macp_core.quorum_threshold",
        ("effective_quorum_threshold",),
    ),
    "receipt": Reexport(
        "macp_core.receipt",
        (
            "RECEIPT_FORMAT",
            "AttestationOutcome",
            "DecisionReceipt",
            "DecisionReceiptResult",
            "JwsAttestation",
            "MacpMissingExtraError",
            "ReceiptAttestation",
            "ReceiptCommitment",
            "ReceiptIntegrity",
            "ReceiptKeySet",
            "ReceiptSigner",
            "ReceiptVerdict",
            "ReceiptVerification",
            "VendorAttestation",
            "build_receipt",
            "commitment_from_projection",
            "receipt_keys_from_proto",
            "trusted_keys_from_jwks",
            "verify_receipt",
        ),
    ),
    "retry": Reexport(
        "macp_core.retry",
        (
            "DEFAULT_RETRYABLE_CODES",
            "NO_RETRY",
            "RetryPolicy",
            "RetryState",
            "async_call_with_retry",
            "call_with_retry",
            "retry_send",
        ),
    ),
    "streams": Reexport(
        "macp_core.streams",
        (
            "AsyncMacpStream",
            "InlineErrorCallback",
            "MacpStream",
        ),
    ),
    "validation": Reexport(
        "macp_core.validation",
        (
            "validate_participant_count",
            "validate_required_field",
            "validate_session_start",
            "validate_signal_type",
        ),
        shared=(
            "is_canonical_commitment_hash",
            "validate_commitment_hash",
            "validate_max_suspend_ms",
            "validate_participants",
            "validate_progress_scope",
            "validate_session_id",
            "validate_ttl_ms",
        ),
    ),
    # 0.22.0's path of the asyncio session base.
    "async_session": Reexport("macp_core.base_session", (), shared=("AsyncBaseSession",)),
    "local_runtime": Reexport(
        "macp_local_runtime",
        (
            "Clock",
            "Identity",
            "LocalRuntime",
            "ManualClock",
            "RateLimits",
            "RuntimeConfig",
            "StaticToken",
            "SweepResult",
            "SystemClock",
        ),
        top_level=False,
    ),
    "local_runtime.pytest_plugin": Reexport(
        "macp_local_runtime.pytest_plugin", ("macp_runtime",), top_level=False
    ),
    # The agent framework, at 0.22.0's paths (`macp_sdk.agent`, `macp_sdk.agent.strategies`,
    # ...; none of it at `macp_sdk` top level, as in 0.22.0) plus the asyncio twin `agent.aio`.
    "agent": Reexport(
        "macp_core.agent", _AGENT_NAMES, top_level=False, deprecated=_AGENT_DEPRECATED
    ),
    "agent.actions": Reexport(
        "macp_core.agent.actions", ("AsyncParticipantActions", "ParticipantActions"), False
    ),
    "agent.aio": Reexport(
        "macp_core.agent.aio",
        ("AsyncGrpcTransportAdapter", "AsyncParticipant", "AsyncTransportAdapter"),
        top_level=False,
    ),
    "agent.cancel_callback": Reexport(
        "macp_core.agent.cancel_callback",
        ("CancelCallbackServer", "start_cancel_callback_server"),
        top_level=False,
    ),
    "agent.dispatcher": Reexport("macp_core.agent.dispatcher", ("Dispatcher",), False),
    "agent.participant": Reexport(
        "macp_core.agent.participant",
        ("TERMINAL_PHASES", "InitiatorConfig", "Participant", "ParticipantActions"),
        top_level=False,
    ),
    "agent.runner": Reexport(
        "macp_core.agent.runner",
        ("Bootstrap", "BootstrapError", "InitiatorConfig", "from_bootstrap", "load_bootstrap"),
        top_level=False,
    ),
    "agent.strategies": Reexport(
        "macp_core.agent.strategies",
        (
            "CommitmentResult",
            "CommitmentStrategy",
            "EvaluationResult",
            "EvaluationStrategy",
            "VoteResult",
            "VotingStrategy",
            "commitment_handler",
            "evaluation_handler",
            "function_committer",
            "function_evaluator",
            "function_voter",
            "majority_committer",
            "majority_voter",
            "voting_handler",
        ),
        top_level=False,
        deprecated=_AGENT_DEPRECATED,
    ),
    "agent.transports": Reexport(
        "macp_core.agent.transports",
        ("GrpcTransportAdapter", "HttpTransportAdapter", "TransportAdapter"),
        top_level=False,
    ),
    "agent.types": Reexport(
        "macp_core.agent.types",
        (
            "SESSION_CANCELLED",
            "SESSION_EVICTED",
            "SESSION_EXPIRED",
            "HandlerContext",
            "IncomingMessage",
            "MessageHandler",
            "PhaseChangeHandler",
            "SessionInfo",
            "TerminalHandler",
            "TerminalResult",
        ),
        top_level=False,
    ),
}

# Modules the generator writes from the service descriptor (`macp_sdk.<key>`: the clients
# and watchers), with the core names each also re-exports. The generated classes themselves
# (MacpClient, AsyncMacpClient, the watchers) are not listed: they come from the protos.
GENERATED_MODULES: Final[Mapping[str, Reexport]] = {
    "client": Reexport(
        "macp_core.client_base",
        ("UNBOUNDED", "TimeoutValue", "configure_logging"),
        # 0.22.0 defined these in its client module; here streams and errors do.
        shared=("MacpStream", "macp_error_code"),
    ),
    "async_client": Reexport("macp_core.async_client_base", (), shared=("AsyncMacpStream",)),
    "watchers": Reexport(
        "macp_core.watcher_base",
        (
            "SESSION_EVENT_TYPES",
            "SESSION_STATES",
            "TERMINAL_SESSION_EVENT_TYPES",
            "TERMINAL_SESSION_LIFECYCLE_EVENT_NAMES",
            "PolicyChange",
            "RegistryChange",
            "RootsChange",
            "SessionLifecycle",
            "SessionLifecycleEvent",
            "SignalEvent",
            "SignalFilter",
        ),
    ),
}

# RPCs whose client methods the core's client bases (macp_core.client_base,
# macp_core.async_client_base) write by hand, because they do more than one call: Initialize
# remembers the capabilities, Send retries and checks the Ack, StreamSession is bidirectional.
# The generator writes every other RPC of the service.
HAND_WRITTEN_RPCS: Final[frozenset[str]] = frozenset({"Initialize", "Send", "StreamSession"})

# Checks of macp_core.request_checks an RPC's `(macp.sdk.v1.rpc).request_check` may name.
REQUEST_CHECKS: Final[frozenset[str]] = frozenset({"check_mode_descriptor"})

# Response adapters of the core (macp_core.response_adapters) a generated client method may
# apply through `(macp.sdk.v1.rpc).response_adapter`: function -> the type it returns, as
# importable from macp_core.receipt.
RESPONSE_ADAPTERS: Final[Mapping[str, str]] = {
    "decision_receipt_result": "DecisionReceiptResult",
    "receipt_key_set": "ReceiptKeySet",
}

# Every public member of MacpClientBase / AsyncMacpClientBase (methods and attributes): a
# generated client method must not take one of these names.
CLIENT_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "auth",
        "client_name",
        "client_version",
        "close",
        "closed",
        "default_timeout",
        "initialize",
        "initialize_response",
        "open_stream",
        "retry",
        "secure",
        "send",
        "send_progress",
        "send_signal",
        "server_capabilities",
        "settings",
        "stream_session",
        "supports",
        "target",
    }
)

# Every member of BaseSession / AsyncBaseSession (and what every session always has): a
# generated action method must not take one of these names.
SESSION_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "ALLOW_EMPTY_PARTICIPANTS",
        "MODE",
        "MODE_VERSION",
        "PROJECTION_CLASS",
        "auth",
        "cancel",
        "client",
        "commit",
        "configuration_version",
        "metadata",
        "mode",
        "mode_descriptor",
        "mode_version",
        "open_stream",
        "policy_version",
        "projection",
        "register_mode",
        "resolve_sender",
        "resume",
        "retry",
        "send_payload",
        "session_id",
        "start",
        "suspend",
    }
)

# The protocol the core offers to generated code: the only base-class members generated
# modules call or override (tests/generator/test_core_protocol.py holds them to it). They are
# public and documented, so a change to them is a visible change of the core, never a
# rename of a private helper that silently breaks the SDK.
#   BaseSession / AsyncBaseSession:
#     send_payload(message_type, payload, *, sender, auth) -> Ack  build, send, apply if accepted
#     resolve_sender(sender, auth) -> str  the sender a call will use (checked against auth)
#   BaseProjection:
#     note_anomaly(anomaly)          the one place anomalies are kept and logged
#     file_record(record)            the generated bases' bookkeeping of each record: one
#                                    append to the record log (rollback truncates it)
#     record_index(kind, subject)    a live read-only index of that log: subject -> records
#     latest_record_index()          a live read-only index of that log: sender -> latest
#   (and the class attributes APPLY_METHODS / SENT_APPLY_METHODS: message type -> the method
#   applying it, which the core dispatches on, and DEFAULT_HOOKS / HOOK_ATTRIBUTES: record
#   class -> default hook / the attribute its resolved hook is bound to, which the core binds;
#   `apply_mode_envelope` is the users' override point, not used by generated code)
SESSION_PROTOCOL: Final[tuple[str, ...]] = ("resolve_sender", "send_payload")
PROJECTION_PROTOCOL: Final[tuple[str, ...]] = (
    "note_anomaly",
    "file_record",
    "record_index",
    "latest_record_index",
)


# Every public member of the agent participants and their actions (both flavours): a
# generated `on_<message>` registration or typed action method must not take one of these.
PARTICIPANT_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "MODE",
        "actions",
        "attach_cancel_callback_server",
        "cancel",
        "client",
        "dispatcher",
        "initiator_config",
        "is_stopped",
        "mode",
        "on",
        "on_phase_change",
        "on_terminal",
        "participant_id",
        "process_event",
        "projection",
        "run",
        "session",
        "session_id",
        "stop",
        "terminal_result",
    }
)
PARTICIPANT_ACTIONS_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "ALLOW_EMPTY_PARTICIPANTS",
        "MODE",
        "build",
        "cancel_session",
        "commit",
        "get_session",
        "mode",
        "participant_id",
        "send",
        "send_envelope",
        "session_id",
        "start_session",
    }
)
# 0.22.0's decision-centric actions, which the generic actions classes offer by forwarding to
# the session mode's typed action of the same name: a generated typed action may (and is
# meant to) override them.
PARTICIPANT_GENERIC_ACTIONS: Final[frozenset[str]] = frozenset(
    {"evaluate", "propose", "raise_objection", "vote"}
)
