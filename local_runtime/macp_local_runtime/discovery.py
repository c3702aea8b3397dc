"""Initialize and GetManifest answers (runtime-behavior.md §2.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from macp.v1 import core_pb2, policy_pb2

from .ingress import SUPPORTED_VERSION
from .receipts import receipts_available, receipts_signed

RUNTIME_NAME: Final = "macp-local-runtime"
RUNTIME_VERSION: Final = "0.1.0"
MANIFEST_AGENT_ID: Final = "macp-runtime"
ENVELOPE_CONTENT_TYPE: Final = "application/macp-envelope+proto"
INSTRUCTIONS: Final = (
    "Embedded MACP runtime for local runs and tests. Authenticate every call with "
    "'authorization: Bearer <token>'; in dev mode the token is the sender. "
    "Send session messages with Send or StreamSession; observe with WatchSessions."
)


class VersionNegotiationError(Exception):
    def __init__(self, invalid_request: bool, message: str) -> None:
        super().__init__(message)
        self.invalid_request = invalid_request


def capabilities() -> core_pb2.Capabilities:
    return core_pb2.Capabilities(
        sessions=core_pb2.SessionsCapability(stream=True, list_sessions=True, watch_sessions=True),
        cancellation=core_pb2.CancellationCapability(cancel_session=True),
        progress=core_pb2.ProgressCapability(progress=True),
        manifest=core_pb2.ManifestCapability(get_manifest=True),
        mode_registry=core_pb2.ModeRegistryCapability(list_modes=True, list_changed=True),
        roots=core_pb2.RootsCapability(list_roots=True, list_changed=False),
        policy_registry=policy_pb2.PolicyRegistryCapability(
            register_policy=True, list_policies=True, list_changed=True, what_if_replay=True
        ),
        decision_receipt=core_pb2.DecisionReceiptCapability(
            get_decision_receipt=receipts_available(), signed=receipts_signed()
        ),
        experimental=core_pb2.ExperimentalCapabilities(features={"ext_mode_lifecycle": "true"}),
    )


def initialize(
    request: core_pb2.InitializeRequest, mode_names: Sequence[str]
) -> core_pb2.InitializeResponse:
    versions = list(request.supported_protocol_versions)
    if not versions:
        raise VersionNegotiationError(
            True, "INVALID_REQUEST: supported_protocol_versions must not be empty"
        )
    if SUPPORTED_VERSION not in versions:
        raise VersionNegotiationError(
            False,
            f"UNSUPPORTED_PROTOCOL_VERSION: this runtime supports only {SUPPORTED_VERSION}",
        )
    return core_pb2.InitializeResponse(
        selected_protocol_version=SUPPORTED_VERSION,
        runtime_info=core_pb2.RuntimeInfo(
            name=RUNTIME_NAME,
            title="MACP Local Runtime",
            version=RUNTIME_VERSION,
            description="Embedded Python runtime following the MACP reference runtime 0.6.1",
            website_url="",
        ),
        capabilities=capabilities(),
        supported_modes=sorted(mode_names),
        instructions=INSTRUCTIONS,
    )


def manifest(agent_id: str, mode_names: Sequence[str]) -> core_pb2.AgentManifest | None:
    """The runtime's own manifest for "" or "macp-runtime"; None for any other agent."""
    if agent_id not in ("", MANIFEST_AGENT_ID):
        return None
    return core_pb2.AgentManifest(
        agent_id=MANIFEST_AGENT_ID,
        title="MACP Local Runtime",
        description="Embedded Python implementation of the MACP runtime service",
        supported_modes=sorted(mode_names),
        input_content_types=[ENVELOPE_CONTENT_TYPE],
        output_content_types=[ENVELOPE_CONTENT_TYPE],
    )
