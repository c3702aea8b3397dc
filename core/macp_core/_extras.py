"""Optional dependencies of the `receipts` extra, imported only when used."""

from __future__ import annotations

from types import ModuleType

from .errors import MacpSdkError

_INSTALL = "pip install 'macp-codegen[receipts]'"


class MacpMissingExtraError(MacpSdkError, ImportError):
    """An optional package a feature needs is not installed."""


def rfc8785() -> ModuleType:
    """RFC 8785 (JCS) canonical JSON, for commitment hashes and receipt bodies."""
    try:
        import rfc8785 as module
    except ImportError as exc:
        raise MacpMissingExtraError(
            f"commitment hashes and receipts need the 'rfc8785' package: {_INSTALL}"
        ) from exc
    return module


def ed25519() -> ModuleType:
    """Ed25519 from `cryptography`, for signing and checking receipt attestations."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519 as module
    except ImportError as exc:
        raise MacpMissingExtraError(
            f"Ed25519 receipt signatures need the 'cryptography' package: {_INSTALL}"
        ) from exc
    return module
