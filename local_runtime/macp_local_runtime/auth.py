"""Caller identity from gRPC metadata (runtime-behavior.md §1.3).

Dev mode (no tokens configured): any bearer value authenticates and *is* the sender, which
matches `AuthConfig.for_dev_agent`. Static mode: only the configured tokens authenticate, each
bound to a sender and its rights. As in the reference, the static resolver ignores any token
containing "." (those are JWT-shaped and belong to the JWT resolver, which this runtime lacks),
so such a token never authenticates here, even if it is listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import MacpError

_BEARER_PREFIX = "Bearer "


@dataclass(frozen=True)
class Identity:
    """An authenticated caller and what it may do."""

    sender: str
    can_start_sessions: bool = True
    allowed_modes: frozenset[str] | None = None  # None = every mode
    max_open_sessions: int | None = None
    can_manage_mode_registry: bool = False
    is_observer: bool = False

    def may_use_mode(self, mode: str) -> bool:
        return self.allowed_modes is None or mode in self.allowed_modes


@dataclass(frozen=True)
class StaticToken:
    """One entry of a static token table (the reference's MACP_AUTH_TOKENS_JSON)."""

    token: str
    sender: str
    allowed_modes: tuple[str, ...] = ()  # empty = every mode
    can_start_sessions: bool = True
    max_open_sessions: int | None = None
    can_manage_mode_registry: bool = False
    is_observer: bool = False

    def identity(self) -> Identity:
        return Identity(
            sender=self.sender,
            can_start_sessions=self.can_start_sessions,
            allowed_modes=frozenset(self.allowed_modes) if self.allowed_modes else None,
            max_open_sessions=self.max_open_sessions,
            can_manage_mode_registry=self.can_manage_mode_registry,
            is_observer=self.is_observer,
        )


def credential_from_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    """The bearer token, from `authorization: Bearer <t>` or the `x-macp-token` fallback."""
    bearer: str | None = None
    fallback: str | None = None
    for key, value in metadata:
        text = value.decode() if isinstance(value, bytes) else value
        name = key.lower()
        if name == "authorization" and text.startswith(_BEARER_PREFIX) and bearer is None:
            bearer = text[len(_BEARER_PREFIX) :]
        elif name == "x-macp-token" and fallback is None:
            fallback = text
    token = bearer if bearer is not None else fallback
    return token if token else None


class Authenticator:
    def __init__(self, tokens: Iterable[StaticToken] | None = None) -> None:
        table = list(tokens) if tokens is not None else None
        self._tokens: Mapping[str, Identity] | None = (
            {entry.token: entry.identity() for entry in table} if table is not None else None
        )

    @property
    def dev_mode(self) -> bool:
        return self._tokens is None

    def authenticate(self, metadata: Iterable[tuple[str, str | bytes]]) -> Identity:
        token = credential_from_metadata(metadata)
        if token is None:
            raise MacpError("Unauthenticated", "missing credential")
        if self._tokens is None:
            # Dev identity: fully privileged except that it is not an observer.
            return Identity(sender=token, can_manage_mode_registry=True)
        identity = None if "." in token else self._tokens.get(token)
        if identity is None:
            raise MacpError("Unauthenticated", "unknown token")
        return identity


def bind_sender(identity: Identity, claimed_sender: str) -> str:
    """The sender to record; a non-empty claim must match the authenticated identity."""
    if claimed_sender and claimed_sender != identity.sender:
        raise MacpError("Unauthenticated", "sender does not match identity")
    return identity.sender


_TOKEN_FIELDS = {
    "token",
    "sender",
    "allowed_modes",
    "can_start_sessions",
    "max_open_sessions",
    "can_manage_mode_registry",
    "is_observer",
}


def parse_static_tokens(text: str, origin: str) -> list[StaticToken]:
    """MACP_AUTH_TOKENS_JSON / _FILE content: a list, or {"tokens": [...]}, of token entries.

    Raises ValueError naming `origin` and the offending entry.
    """
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{origin}:{error.lineno}:{error.colno}: invalid JSON ({error.msg})"
        ) from error
    entries = document.get("tokens") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ValueError(f'{origin}: expected a list of tokens or {{"tokens": [...]}}')
    return [
        _token_entry(entry, f"{origin}: tokens[{index}]") for index, entry in enumerate(entries)
    ]


def _token_entry(entry: Any, where: str) -> StaticToken:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = sorted(set(entry) - _TOKEN_FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    token, sender = entry.get("token"), entry.get("sender")
    if not isinstance(token, str) or not token or not isinstance(sender, str) or not sender:
        raise ValueError(f"{where}: 'token' and 'sender' must be non-empty strings")
    modes = entry.get("allowed_modes", [])
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        raise ValueError(f"{where}: 'allowed_modes' must be a list of strings")
    cap = entry.get("max_open_sessions")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
        raise ValueError(f"{where}: 'max_open_sessions' must be a non-negative integer")
    flags = {}
    for name, default in (
        ("can_start_sessions", True),
        ("can_manage_mode_registry", False),
        ("is_observer", False),
    ):
        value = entry.get(name, default)
        if not isinstance(value, bool):
            raise ValueError(f"{where}: '{name}' must be true or false")
        flags[name] = value
    return StaticToken(
        token=token,
        sender=sender,
        allowed_modes=tuple(modes),
        max_open_sessions=cap,
        **flags,
    )
