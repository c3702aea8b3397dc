"""Opt-in retry for ``Send``: exponential backoff with jitter.

Resending is safe because a retry reuses the envelope (same ``message_id``): the runtime
deduplicates, and a duplicate Ack counts as success.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from .errors import MacpAckError, MacpRetryError, MacpSdkError, MacpTransportError

if TYPE_CHECKING:
    from macp.v1 import envelope_pb2

    from .auth import AuthConfig

T = TypeVar("T")

DEFAULT_RETRYABLE_CODES: frozenset[str] = frozenset(
    {"UNAVAILABLE", "RATE_LIMITED", "INTERNAL_ERROR"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry a failed ``Send``.

    ``retryable_codes`` holds gRPC status names and MACP error codes alike; the default
    retries an unreachable runtime (UNAVAILABLE), a rate limit (RATE_LIMITED, as a NACK or
    as RESOURCE_EXHAUSTED carrying that code) and a runtime fault (INTERNAL_ERROR), as
    0.22.0 did. ``retry_transport_errors`` retries every failed gRPC call whatever its code
    (what 0.22.0's ``retry_send`` did). Delay before retry ``n`` (0-based) is
    ``min(backoff_base * 2**n, backoff_max)``; with ``jitter`` it is scaled by a random factor
    in ``[0.5, 1.0]`` so many clients do not retry in lockstep. ``sleep``/``async_sleep`` can
    be replaced (tests inject a recorder).
    """

    max_retries: int = 3
    backoff_base: float = 0.1
    backoff_max: float = 2.0
    jitter: bool = True
    retryable_codes: frozenset[str] = DEFAULT_RETRYABLE_CODES
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    retry_transport_errors: bool = False

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff values must be >= 0")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries (overrides a client-wide policy for one session)."""
        return cls(max_retries=0)

    def delay(self, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based)."""
        base = min(self.backoff_base * (2.0**retry_index), self.backoff_max)
        return base * (0.5 + 0.5 * self.rng()) if self.jitter else base

    def is_retryable(self, error: BaseException) -> bool:
        if isinstance(error, MacpRetryError):
            return False
        if isinstance(error, MacpAckError):
            return error.code in self.retryable_codes
        if isinstance(error, MacpTransportError):
            return (
                self.retry_transport_errors
                or error.code in self.retryable_codes
                or bool(error.macp_code)
                and error.macp_code in self.retryable_codes
            )
        return False


NO_RETRY = RetryPolicy.disabled()


class RetryState:
    """Attempt bookkeeping shared by the sync and async send loops."""

    def __init__(self, policy: RetryPolicy | None) -> None:
        self.policy = policy or NO_RETRY
        self.attempts = 0

    def next_delay(self, error: MacpSdkError) -> float:
        """Record a failed attempt; return the delay before the next one, or raise.

        A non-retryable error is re-raised as is; running out of retries raises
        :class:`MacpRetryError` chained to the last error.
        """
        self.attempts += 1
        if not self.policy.is_retryable(error):
            raise error
        if self.attempts > self.policy.max_retries:
            if self.policy.max_retries == 0:
                raise error
            raise MacpRetryError(
                f"gave up after {self.attempts} attempts: {error}",
                attempts=self.attempts,
                last_error=error,
            ) from error
        return self.policy.delay(self.attempts - 1)


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy | None) -> T:
    """Call ``fn`` until it succeeds or ``policy`` says stop. ``fn`` must be idempotent."""
    state = RetryState(policy)
    while True:
        try:
            return fn()
        except MacpSdkError as exc:
            state.policy.sleep(state.next_delay(exc))


async def async_call_with_retry(fn: Callable[[], Awaitable[T]], policy: RetryPolicy | None) -> T:
    """The awaitable twin of :func:`call_with_retry`."""
    state = RetryState(policy)
    while True:
        try:
            return await fn()
        except MacpSdkError as exc:
            await state.policy.async_sleep(state.next_delay(exc))


class _SendsEnvelopes(Protocol):
    def send(
        self, envelope: envelope_pb2.Envelope, *, auth: AuthConfig | None = ...
    ) -> envelope_pb2.Ack: ...


def retry_send(
    client: _SendsEnvelopes,
    envelope: envelope_pb2.Envelope,
    *,
    policy: RetryPolicy | None = None,
    auth: AuthConfig | None = None,
) -> envelope_pb2.Ack:
    """0.22.0's helper: ``client.send(envelope, auth=auth)`` (any object with such a
    ``send``) retried under ``policy`` (default :class:`RetryPolicy()`) on every transport
    error and on NACKs whose code ``policy.retryable_codes`` lists; the same ``message_id``
    is reused on every attempt. Exhaustion raises :class:`MacpRetryError`."""
    chosen = replace(policy or RetryPolicy(), retry_transport_errors=True)
    return call_with_retry(lambda: client.send(envelope, auth=auth), chosen)
