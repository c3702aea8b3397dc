"""The watcher machinery and event shapes behind the generated ``macp_sdk.watchers``.

A watcher wraps one server-streaming RPC of a :class:`~macp_sdk.client.MacpClient` (or, for
the ``Async*`` twins, an :class:`~macp_sdk.async_client.AsyncMacpClient`) and turns its raw
responses into small frozen records. Timeouts, auth and reconnects are the client's own: a
watcher only converts and filters. Which RPC a watcher reads and its class name come from the
RPC's ``(macp.sdk.v1.rpc).watcher`` option: the generator writes a subclass of one of the
``*WatcherBase`` shapes below that opens the stream. This module knows no RPC.

Every watcher offers the same three ways to consume:

* ``events(timeout=..., predicate=...)`` -- iterate; iteration just ends when ``timeout``
  seconds pass (``None`` = until the client closes or the runtime ends the stream);
* ``next_event(timeout=..., predicate=...)`` -- the first (matching) event, or
  :class:`~macp_sdk.errors.MacpTimeoutError` when ``timeout`` passes first;
* ``watch(handler, timeout=..., predicate=...)`` -- call ``handler`` for each event.

:class:`SessionLifecycleWatcher` adds ``wait_for(session_id, *states_or_event_types)`` and
:class:`PolicyWatcher` adds ``wait_for_policy(policy_id)``.
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError
from macp.v1 import core_pb2, envelope_pb2, policy_pb2

from ._requests import Deadline, TimeoutValue, resolve_stream_timeout, session_id_arg
from .auth import AuthConfig
from .errors import MacpTimeoutError, MacpTransportError, MacpValidationError

ClientT = TypeVar("ClientT")
RawT = TypeVar("RawT")
EventT = TypeVar("EventT")

_EVENT_PREFIX = "EVENT_TYPE_"
_STATE_PREFIX = "SESSION_STATE_"

SESSION_EVENT_TYPES: frozenset[str] = frozenset(
    name.removeprefix(_EVENT_PREFIX)
    for name in core_pb2.SessionLifecycleEvent.EventType.keys()
    if name != "EVENT_TYPE_UNSPECIFIED"
)
"""Lifecycle event names as :attr:`SessionLifecycleEvent.event_type` spells them."""

SESSION_STATES: frozenset[str] = frozenset(
    name.removeprefix(_STATE_PREFIX)
    for name in envelope_pb2.SessionState.keys()
    if name != "SESSION_STATE_UNSPECIFIED"
)
"""Session state names as :attr:`SessionLifecycleEvent.state` spells them."""

TERMINAL_SESSION_EVENT_TYPES: frozenset[str] = frozenset({"RESOLVED", "EXPIRED", "CANCELLED"})
# 0.22.0's name for the same set.
TERMINAL_SESSION_LIFECYCLE_EVENT_NAMES: frozenset[str] = TERMINAL_SESSION_EVENT_TYPES
"""Event types after which a session emits nothing more (SUSPENDED can still be RESUMED)."""


# --- events ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionLifecycleEvent:
    """One ``WatchSessions`` event. ``event_type`` is the enum name without ``EVENT_TYPE_``
    (``"CREATED"``, ``"RESOLVED"`` ...). The runtime first sends ``CREATED`` for every session
    it holds, whatever its state, so :attr:`state` tells an already-finished one apart."""

    event_type: str
    session: core_pb2.SessionMetadata
    observed_at_unix_ms: int

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def state(self) -> str:
        """The session's state without ``SESSION_STATE_`` (``"OPEN"``, ``"RESOLVED"`` ...)."""
        return envelope_pb2.SessionState.Name(self.session.state).removeprefix(_STATE_PREFIX)

    @property
    def is_created(self) -> bool:
        return self.event_type == "CREATED"

    @property
    def is_resolved(self) -> bool:
        return self.event_type == "RESOLVED"

    @property
    def is_expired(self) -> bool:
        return self.event_type == "EXPIRED"

    @property
    def is_cancelled(self) -> bool:
        return self.event_type == "CANCELLED"

    @property
    def is_suspended(self) -> bool:
        return self.event_type == "SUSPENDED"

    @property
    def is_resumed(self) -> bool:
        return self.event_type == "RESUMED"

    @property
    def is_terminal(self) -> bool:
        """A terminal event, or the initial snapshot of a session already in a final state."""
        return (
            self.event_type in TERMINAL_SESSION_EVENT_TYPES
            or self.state in TERMINAL_SESSION_EVENT_TYPES
        )

    def matches(self, *states_or_event_types: str) -> bool:
        """Whether the event type or the session's state is one of the given names (either
        spelling: ``"RESOLVED"``, ``"EVENT_TYPE_RESOLVED"``, ``"SESSION_STATE_RESOLVED"``)."""
        wanted = normalize_session_targets(states_or_event_types)
        return self.event_type in wanted or self.state in wanted


# 0.22.0's deprecated name, kept importable (here it is simply another name).
SessionLifecycle = SessionLifecycleEvent


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """The mode registry changed (re-query ``list_modes``/``list_ext_modes``)."""

    registry: str
    observed_at_unix_ms: int


@dataclass(frozen=True, slots=True)
class RootsChange:
    """The runtime's roots changed (re-query ``list_roots``)."""

    observed_at_unix_ms: int


@dataclass(frozen=True, slots=True)
class SignalEvent:
    """An ambient Signal. ``sender_authenticated`` is true only when the runtime said the
    envelope's sender was authenticated -- do not trust ``sender`` otherwise. ``signal`` is the
    decoded payload (``None`` if it could not be decoded)."""

    envelope: envelope_pb2.Envelope
    sender_authenticated: bool
    signal: core_pb2.SignalPayload | None = None

    @property
    def signal_type(self) -> str:
        return self.signal.signal_type if self.signal is not None else ""

    @property
    def sender(self) -> str:
        return self.envelope.sender

    @property
    def message_id(self) -> str:
        return self.envelope.message_id


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """The full set of registered policies after a change (the first one is the current set)."""

    descriptors: tuple[policy_pb2.PolicyDescriptor, ...]
    observed_at_unix_ms: int

    @property
    def policy_ids(self) -> tuple[str, ...]:
        return tuple(d.policy_id for d in self.descriptors)

    def policy(self, policy_id: str) -> policy_pb2.PolicyDescriptor | None:
        return next((d for d in self.descriptors if d.policy_id == policy_id), None)


# --- conversions shared by the sync and async watchers ----------------------------------
def normalize_session_targets(names: Iterable[str]) -> frozenset[str]:
    """Event-type / state names without their enum prefixes; unknown names are an error."""
    known = SESSION_EVENT_TYPES | SESSION_STATES
    out: set[str] = set()
    for name in names:
        short = (
            name.upper().removeprefix(_EVENT_PREFIX).removeprefix(_STATE_PREFIX)
            if isinstance(name, str)
            else ""
        )
        if short not in known:
            raise MacpValidationError(
                "state_or_event_type", name, f"one of {', '.join(sorted(known))}"
            )
        out.add(short)
    return frozenset(out)


def session_event(response: core_pb2.WatchSessionsResponse) -> SessionLifecycleEvent | None:
    if not response.HasField("event"):
        return None
    event = response.event
    name = core_pb2.SessionLifecycleEvent.EventType.Name(event.event_type)
    return SessionLifecycleEvent(
        event_type=name.removeprefix(_EVENT_PREFIX),
        session=event.session,
        observed_at_unix_ms=event.observed_at_unix_ms,
    )


def registry_change(response: core_pb2.WatchModeRegistryResponse) -> RegistryChange:
    return RegistryChange(
        registry=response.change.registry, observed_at_unix_ms=response.change.observed_at_unix_ms
    )


def roots_change(response: core_pb2.WatchRootsResponse) -> RootsChange:
    return RootsChange(observed_at_unix_ms=response.change.observed_at_unix_ms)


def policy_change(response: policy_pb2.WatchPoliciesResponse) -> PolicyChange:
    return PolicyChange(
        descriptors=tuple(response.descriptors),
        observed_at_unix_ms=response.observed_at_unix_ms,
    )


@dataclass(frozen=True)
class SignalFilter:
    """Which Signals a :class:`SignalWatcher` yields (Progress envelopes never)."""

    signal_type: str | None = None
    authenticated_only: bool = False

    def convert(self, response: core_pb2.WatchSignalsResponse) -> SignalEvent | None:
        envelope = response.envelope
        if not response.HasField("envelope") or envelope.message_type != "Signal":
            return None
        authenticated = response.sender_authenticated is True
        if self.authenticated_only and not authenticated:
            return None
        try:
            signal: core_pb2.SignalPayload | None = core_pb2.SignalPayload.FromString(
                envelope.payload
            )
        except DecodeError:
            signal = None
        if self.signal_type is not None and (
            signal is None or signal.signal_type != self.signal_type
        ):
            return None
        return SignalEvent(envelope=envelope, sender_authenticated=authenticated, signal=signal)


def _lifecycle_wait(
    session_id: str, targets: tuple[str, ...]
) -> tuple[Callable[[SessionLifecycleEvent], bool], str]:
    sid = session_id_arg(session_id)
    wanted = normalize_session_targets(targets) if targets else TERMINAL_SESSION_EVENT_TYPES

    def reached(event: SessionLifecycleEvent) -> bool:
        return event.session_id == sid and (event.event_type in wanted or event.state in wanted)

    return reached, f"session {sid} reaching {' / '.join(sorted(wanted))}"


def _found(change: PolicyChange, policy_id: str, operation: str) -> policy_pb2.PolicyDescriptor:
    found = change.policy(policy_id)
    if found is None:  # the predicate guaranteed it; kept for the type checker
        raise MacpTransportError(f"policy {policy_id!r} vanished", operation=operation)
    return found


def _ended(what: str, operation: str, deadline: Deadline, timeout: TimeoutValue) -> Exception:
    if deadline.expired():
        return MacpTimeoutError(
            f"no {what} within {timeout}s", code="DEADLINE_EXCEEDED", operation=operation
        )
    return MacpTransportError(
        f"{operation} ended before {what} arrived", code="OK", operation=operation
    )


# --- machinery ---------------------------------------------------------------------------
class Watcher(Generic[ClientT, RawT, EventT]):
    """Blocking watcher machinery; a generated subclass sets ``_operation`` and ``_open``."""

    _operation = ""  # the RPC's name, for errors
    _what = "event"

    def __init__(
        self, client: ClientT, *, auth: AuthConfig | None = None, reconnect: bool = False
    ) -> None:
        self.client = client
        self.auth = auth
        self.reconnect = reconnect

    def _open(self, timeout: TimeoutValue) -> Iterator[RawT]:
        raise NotImplementedError

    def _convert(self, raw: RawT) -> EventT | None:
        raise NotImplementedError

    def events(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> Generator[EventT, None, None]:
        """Events (those ``predicate`` accepts) until ``timeout`` seconds pass."""
        responses = self._open(timeout)
        try:
            for raw in responses:
                event = self._convert(raw)
                if event is not None and (predicate is None or predicate(event)):
                    yield event
        finally:
            close = getattr(responses, "close", None)
            if callable(close):
                close()  # cancels the call now rather than at garbage collection

    def next_event(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> EventT:
        """The first event (``predicate`` accepts); :class:`MacpTimeoutError` if none arrives
        within ``timeout`` seconds, :class:`MacpTransportError` if the stream ends first."""
        return self._first(timeout, predicate, self._what)

    # 0.22.0's names (its watchers yielded "changes").
    def changes(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> Generator[EventT, None, None]:
        """The same as :meth:`events`."""
        return self.events(timeout=timeout, predicate=predicate)

    def next_change(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> EventT:
        """The same as :meth:`next_event`."""
        return self.next_event(timeout=timeout, predicate=predicate)

    def watch(
        self,
        handler: Callable[[EventT], object],
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> int:
        """Call ``handler`` for each event until ``timeout``; returns how many it handled."""
        count = 0
        events = self.events(timeout=timeout, predicate=predicate)
        try:
            for event in events:
                handler(event)
                count += 1
        finally:
            events.close()
        return count

    def _first(
        self, timeout: TimeoutValue, predicate: Callable[[EventT], bool] | None, what: str
    ) -> EventT:
        deadline = Deadline(resolve_stream_timeout(timeout))
        events = self.events(timeout=timeout, predicate=predicate)
        try:
            for event in events:
                return event
        finally:
            events.close()
        raise _ended(what, self._operation, deadline, timeout)


class AsyncWatcher(Generic[ClientT, RawT, EventT]):
    """The asyncio twin of :class:`Watcher`."""

    _operation = ""
    _what = "event"

    def __init__(
        self, client: ClientT, *, auth: AuthConfig | None = None, reconnect: bool = False
    ) -> None:
        self.client = client
        self.auth = auth
        self.reconnect = reconnect

    def _open(self, timeout: TimeoutValue) -> AsyncIterator[RawT]:
        raise NotImplementedError

    def _convert(self, raw: RawT) -> EventT | None:
        raise NotImplementedError

    async def events(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> AsyncGenerator[EventT, None]:
        """Events (those ``predicate`` accepts) until ``timeout`` seconds pass."""
        responses = self._open(timeout)
        try:
            async for raw in responses:
                event = self._convert(raw)
                if event is not None and (predicate is None or predicate(event)):
                    yield event
        finally:
            aclose = getattr(responses, "aclose", None)
            if callable(aclose):
                await aclose()

    async def next_event(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> EventT:
        return await self._first(timeout, predicate, self._what)

    # 0.22.0's names (its watchers yielded "changes").
    def changes(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> AsyncGenerator[EventT, None]:
        """The same as :meth:`events`."""
        return self.events(timeout=timeout, predicate=predicate)

    async def next_change(
        self,
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> EventT:
        """The same as :meth:`next_event`."""
        return await self.next_event(timeout=timeout, predicate=predicate)

    async def watch(
        self,
        handler: Callable[[EventT], object | Awaitable[object]],
        *,
        timeout: TimeoutValue = None,
        predicate: Callable[[EventT], bool] | None = None,
    ) -> int:
        """Call ``handler`` (plain or ``async``) for each event; returns how many."""
        count = 0
        events = self.events(timeout=timeout, predicate=predicate)
        try:
            async for event in events:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
                count += 1
        finally:
            await events.aclose()
        return count

    async def _first(
        self, timeout: TimeoutValue, predicate: Callable[[EventT], bool] | None, what: str
    ) -> EventT:
        deadline = Deadline(resolve_stream_timeout(timeout))
        events = self.events(timeout=timeout, predicate=predicate)
        try:
            async for event in events:
                return event
        finally:
            await events.aclose()
        raise _ended(what, self._operation, deadline, timeout)


# --- event shapes: conversion and waiting, per kind of event ------------------------------
class SessionLifecycleWatcherBase(
    Watcher[ClientT, core_pb2.WatchSessionsResponse, SessionLifecycleEvent]
):
    """Session lifecycle events; adds :meth:`wait_for`."""

    _what = "session lifecycle event"

    def _convert(self, raw: core_pb2.WatchSessionsResponse) -> SessionLifecycleEvent | None:
        return session_event(raw)

    def wait_for(
        self, session_id: str, *states_or_event_types: str, timeout: TimeoutValue = None
    ) -> SessionLifecycleEvent:
        """The first event for ``session_id`` whose event type or session state is one of
        ``states_or_event_types`` (default: any terminal one). A session that already reached
        it before the watch began matches on the runtime's initial snapshot. Raises
        :class:`MacpTimeoutError` when ``timeout`` passes first."""
        reached, what = _lifecycle_wait(session_id, states_or_event_types)
        return self._first(timeout, reached, what)


class AsyncSessionLifecycleWatcherBase(
    AsyncWatcher[ClientT, core_pb2.WatchSessionsResponse, SessionLifecycleEvent]
):
    """The asyncio twin of :class:`SessionLifecycleWatcherBase`."""

    _what = "session lifecycle event"

    def _convert(self, raw: core_pb2.WatchSessionsResponse) -> SessionLifecycleEvent | None:
        return session_event(raw)

    async def wait_for(
        self, session_id: str, *states_or_event_types: str, timeout: TimeoutValue = None
    ) -> SessionLifecycleEvent:
        reached, what = _lifecycle_wait(session_id, states_or_event_types)
        return await self._first(timeout, reached, what)


class ModeRegistryWatcherBase(Watcher[ClientT, core_pb2.WatchModeRegistryResponse, RegistryChange]):
    """Mode registry change hints."""

    _what = "mode registry change"

    def _convert(self, raw: core_pb2.WatchModeRegistryResponse) -> RegistryChange:
        return registry_change(raw)


class AsyncModeRegistryWatcherBase(
    AsyncWatcher[ClientT, core_pb2.WatchModeRegistryResponse, RegistryChange]
):
    """The asyncio twin of :class:`ModeRegistryWatcherBase`."""

    _what = "mode registry change"

    def _convert(self, raw: core_pb2.WatchModeRegistryResponse) -> RegistryChange:
        return registry_change(raw)


class RootsWatcherBase(Watcher[ClientT, core_pb2.WatchRootsResponse, RootsChange]):
    """Roots change hints."""

    _what = "roots change"

    def _convert(self, raw: core_pb2.WatchRootsResponse) -> RootsChange:
        return roots_change(raw)


class AsyncRootsWatcherBase(AsyncWatcher[ClientT, core_pb2.WatchRootsResponse, RootsChange]):
    """The asyncio twin of :class:`RootsWatcherBase`."""

    _what = "roots change"

    def _convert(self, raw: core_pb2.WatchRootsResponse) -> RootsChange:
        return roots_change(raw)


class SignalWatcherBase(Watcher[ClientT, core_pb2.WatchSignalsResponse, SignalEvent]):
    """Ambient Signals. ``signal_type`` keeps only that type; ``authenticated_only`` drops
    Signals whose sender the runtime did not authenticate."""

    _what = "signal"

    def __init__(
        self,
        client: ClientT,
        *,
        auth: AuthConfig | None = None,
        signal_type: str | None = None,
        authenticated_only: bool = False,
        reconnect: bool = False,
    ) -> None:
        super().__init__(client, auth=auth, reconnect=reconnect)
        self.filter = SignalFilter(signal_type=signal_type, authenticated_only=authenticated_only)

    def _convert(self, raw: core_pb2.WatchSignalsResponse) -> SignalEvent | None:
        return self.filter.convert(raw)

    def signals(
        self, *, timeout: TimeoutValue = None
    ) -> Generator[envelope_pb2.Envelope, None, None]:
        """The Signals' envelopes, as 0.22.0 yielded them; :meth:`events` also says whether
        the runtime authenticated each sender."""
        events = self.events(timeout=timeout)
        try:
            for event in events:
                yield event.envelope
        finally:
            events.close()

    def next_signal(self, *, timeout: TimeoutValue = None) -> envelope_pb2.Envelope:
        """The first Signal's envelope (:meth:`next_event` gives the whole event)."""
        return self.next_event(timeout=timeout).envelope


class AsyncSignalWatcherBase(AsyncWatcher[ClientT, core_pb2.WatchSignalsResponse, SignalEvent]):
    """The asyncio twin of :class:`SignalWatcherBase`."""

    _what = "signal"

    def __init__(
        self,
        client: ClientT,
        *,
        auth: AuthConfig | None = None,
        signal_type: str | None = None,
        authenticated_only: bool = False,
        reconnect: bool = False,
    ) -> None:
        super().__init__(client, auth=auth, reconnect=reconnect)
        self.filter = SignalFilter(signal_type=signal_type, authenticated_only=authenticated_only)

    def _convert(self, raw: core_pb2.WatchSignalsResponse) -> SignalEvent | None:
        return self.filter.convert(raw)

    async def signals(
        self, *, timeout: TimeoutValue = None
    ) -> AsyncGenerator[envelope_pb2.Envelope, None]:
        """The Signals' envelopes, as 0.22.0 yielded them."""
        events = self.events(timeout=timeout)
        try:
            async for event in events:
                yield event.envelope
        finally:
            await events.aclose()

    async def next_signal(self, *, timeout: TimeoutValue = None) -> envelope_pb2.Envelope:
        """The first Signal's envelope."""
        return (await self.next_event(timeout=timeout)).envelope


class PolicyWatcherBase(Watcher[ClientT, policy_pb2.WatchPoliciesResponse, PolicyChange]):
    """The registered policy set: now, then after every change; adds :meth:`wait_for_policy`."""

    _what = "policy change"

    def _convert(self, raw: policy_pb2.WatchPoliciesResponse) -> PolicyChange:
        return policy_change(raw)

    def wait_for_policy(
        self, policy_id: str, *, timeout: TimeoutValue = None
    ) -> policy_pb2.PolicyDescriptor:
        """The descriptor of ``policy_id`` once it is registered (at once if it already is)."""
        change = self._first(
            timeout, lambda c: c.policy(policy_id) is not None, f"policy {policy_id!r}"
        )
        return _found(change, policy_id, self._operation)


class AsyncPolicyWatcherBase(AsyncWatcher[ClientT, policy_pb2.WatchPoliciesResponse, PolicyChange]):
    """The asyncio twin of :class:`PolicyWatcherBase`."""

    _what = "policy change"

    def _convert(self, raw: policy_pb2.WatchPoliciesResponse) -> PolicyChange:
        return policy_change(raw)

    async def wait_for_policy(
        self, policy_id: str, *, timeout: TimeoutValue = None
    ) -> policy_pb2.PolicyDescriptor:
        change = await self._first(
            timeout, lambda c: c.policy(policy_id) is not None, f"policy {policy_id!r}"
        )
        return _found(change, policy_id, self._operation)
