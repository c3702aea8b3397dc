"""Protocol constants and SDK defaults shared by every module."""

from __future__ import annotations

from ._dist import installed_version

MACP_VERSION = "1.0"
"""The protocol version written into every envelope (the runtime accepts exactly this)."""

SUPPORTED_PROTOCOL_VERSIONS: tuple[str, ...] = (MACP_VERSION,)
"""Offered to ``Initialize`` in descending preference."""

DEFAULT_MODE_VERSION = "1.0.0"
DEFAULT_CONFIGURATION_VERSION = "config.default"
DEFAULT_POLICY_VERSION = "policy.default"

# Mode ids (MODE_DECISION, ..., STANDARD_MODES) are facts of the mode protos: the generated
# registry `macp_sdk._registry` defines them and `macp_sdk` exports them.

# Limits the runtime enforces; checked client-side so mistakes fail before the wire.
MIN_TTL_MS = 1
MAX_TTL_MS = 86_400_000
MAX_PARTICIPANTS = 1000

CLIENT_NAME = "macp-sdk-python"


def _installed_version() -> str:
    # Read from the installed distribution so the advertised client version never goes stale
    # (0.22.0 hard-coded a value that lagged the package by many releases).
    for dist in ("macp-codegen", "macp-sdk"):
        version = installed_version(dist)
        if version is not None:
            return version
    return "0.0.0+unknown"


CLIENT_VERSION = _installed_version()
