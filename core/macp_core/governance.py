"""Typed receipt and what-if calls over the client (sync and async), gated as in 0.22.0.

The client's RPC methods return the raw responses and gate only once capabilities are known;
these helpers initialize first when nothing was negotiated yet (so the gate always applies),
refuse with MacpCapabilityError when the runtime did not advertise the feature, and parse the
JSON answers into `DecisionReceiptResult` / `ReceiptKeySet`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from macp.v1 import core_pb2, policy_pb2

from ._requests import TimeoutValue
from .auth import AuthConfig
from .receipt import (
    DecisionReceiptResult,
    ReceiptKeySet,
    ReceiptVerification,
    trusted_keys_from_jwks,
    verify_receipt,
)

# What these helpers need of a client. The generated clients' methods gate on the runtime's
# capabilities once they are known, so initializing first is what makes the gate apply.


class ReceiptClient(Protocol):
    server_capabilities: core_pb2.Capabilities | None

    def initialize(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.InitializeResponse: ...

    def get_decision_receipt(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> DecisionReceiptResult: ...

    def get_receipt_keys(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> ReceiptKeySet: ...

    def what_if_replay(
        self,
        session_id: str,
        candidate: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> policy_pb2.WhatIfReplayResponse: ...


class AsyncReceiptClient(Protocol):
    server_capabilities: core_pb2.Capabilities | None

    def initialize(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> Awaitable[core_pb2.InitializeResponse]: ...

    def get_decision_receipt(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> Awaitable[DecisionReceiptResult]: ...

    def get_receipt_keys(
        self, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> Awaitable[ReceiptKeySet]: ...

    def what_if_replay(
        self,
        session_id: str,
        candidate: policy_pb2.PolicyDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> Awaitable[policy_pb2.WhatIfReplayResponse]: ...


def _ensure_initialized(
    client: ReceiptClient, auth: AuthConfig | None, timeout: TimeoutValue
) -> None:
    if client.server_capabilities is None:
        client.initialize(auth=auth, timeout=timeout)


async def _async_ensure_initialized(
    client: AsyncReceiptClient, auth: AuthConfig | None, timeout: TimeoutValue
) -> None:
    if client.server_capabilities is None:
        await client.initialize(auth=auth, timeout=timeout)


# --- sync ----------------------------------------------------------------------------


def fetch_decision_receipt(
    client: ReceiptClient,
    session_id: str,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> DecisionReceiptResult:
    """The runtime's receipt for a resolved session, parsed and verbatim (not verified)."""
    _ensure_initialized(client, auth, timeout)
    return client.get_decision_receipt(session_id, auth=auth, timeout=timeout)


def fetch_receipt_keys(
    client: ReceiptClient, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
) -> ReceiptKeySet:
    """The runtime's receipt verification keys (a JWK Set; `{"keys": []}` when unsigned)."""
    _ensure_initialized(client, auth, timeout)
    return client.get_receipt_keys(auth=auth, timeout=timeout)


def fetch_what_if_replay(
    client: ReceiptClient,
    session_id: str,
    candidate: policy_pb2.PolicyDescriptor,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> policy_pb2.WhatIfReplayResponse:
    """Replay a session's history under `candidate` (read-only, never registered)."""
    _ensure_initialized(client, auth, timeout)
    return client.what_if_replay(session_id, candidate, auth=auth, timeout=timeout)


def verify_session_receipt(
    client: ReceiptClient,
    session_id: str,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> ReceiptVerification:
    """Fetch a session's receipt and verify it with the runtime's own published keys (which
    proves the runtime vouches for it, not that a third party does)."""
    result = fetch_decision_receipt(client, session_id, auth=auth, timeout=timeout)
    keys = trusted_keys_from_jwks(fetch_receipt_keys(client, auth=auth, timeout=timeout))
    return verify_receipt(result.receipt, keys)


# --- async ---------------------------------------------------------------------------


async def async_fetch_decision_receipt(
    client: AsyncReceiptClient,
    session_id: str,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> DecisionReceiptResult:
    await _async_ensure_initialized(client, auth, timeout)
    return await client.get_decision_receipt(session_id, auth=auth, timeout=timeout)


async def async_fetch_receipt_keys(
    client: AsyncReceiptClient, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
) -> ReceiptKeySet:
    await _async_ensure_initialized(client, auth, timeout)
    return await client.get_receipt_keys(auth=auth, timeout=timeout)


async def async_fetch_what_if_replay(
    client: AsyncReceiptClient,
    session_id: str,
    candidate: policy_pb2.PolicyDescriptor,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> policy_pb2.WhatIfReplayResponse:
    await _async_ensure_initialized(client, auth, timeout)
    return await client.what_if_replay(session_id, candidate, auth=auth, timeout=timeout)


async def async_verify_session_receipt(
    client: AsyncReceiptClient,
    session_id: str,
    *,
    auth: AuthConfig | None = None,
    timeout: TimeoutValue = None,
) -> ReceiptVerification:
    result = await async_fetch_decision_receipt(client, session_id, auth=auth, timeout=timeout)
    keys = await async_fetch_receipt_keys(client, auth=auth, timeout=timeout)
    return verify_receipt(result.receipt, trusted_keys_from_jwks(keys))


# --- session level -------------------------------------------------------------------


class _SyncSession(Protocol):
    client: ReceiptClient
    session_id: str
    auth: AuthConfig | None


class _AsyncSession(Protocol):
    client: AsyncReceiptClient
    session_id: str
    auth: AuthConfig | None


def _session_auth(
    session: _SyncSession | _AsyncSession, auth: AuthConfig | None
) -> AuthConfig | None:
    # Per-call auth, else the session's; the client falls back to its own.
    return auth if auth is not None else session.auth


def session_receipt(
    session: _SyncSession, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
) -> DecisionReceiptResult:
    """The receipt of a session object (e.g. a committed DecisionSession), with its auth."""
    return fetch_decision_receipt(
        session.client, session.session_id, auth=_session_auth(session, auth), timeout=timeout
    )


async def async_session_receipt(
    session: _AsyncSession, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
) -> DecisionReceiptResult:
    return await async_fetch_decision_receipt(
        session.client, session.session_id, auth=_session_auth(session, auth), timeout=timeout
    )
