"""The session kernel: SessionStart binding, the per-message pipeline, lifecycle and TTL.

Orders follow runtime-behavior.md §3.1 (SessionStart) and §3.2 (every other session message).
Acceptance within a session is serialized by the session lock, and the accepted envelope is
broadcast while that lock is held, so every stream sees acceptance order.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import grpc
from macp.v1 import core_pb2, envelope_pb2

from .auth import Identity
from .clock import Clock
from .errors import MacpError, StatusError, invalid_payload, session_not_open
from .fanout import Fanout, Subscription
from .modes.base import decode
from .policy import ANY_MODE, DEFAULT_POLICY_ID, Policy, PolicyRegistry, may_commit
from .registry import ModeEntry, ModeRegistry
from .session import (
    CANCELLED,
    DEFAULT_MAX_SUSPEND_MS,
    EXPIRED,
    OPEN,
    RESOLVED,
    SUSPENDED,
    Session,
)
from .session_id import is_valid_session_id
from .streams import StreamHub, StreamOutput

MAX_TTL_MS = 86_400_000
MAX_PARTICIPANTS = 1000
_LIFECYCLE_BUFFER = 64
_SIGNAL_BUFFER = 256
Event = core_pb2.SessionLifecycleEvent


@dataclass(frozen=True)
class SweepResult:
    expired: int
    evicted: int


def make_ack(
    envelope: envelope_pb2.Envelope,
    state: envelope_pb2.SessionState.ValueType,
    now_ms: int,
    duplicate: bool = False,
) -> envelope_pb2.Ack:
    return envelope_pb2.Ack(
        ok=True,
        duplicate=duplicate,
        message_id=envelope.message_id,
        session_id=envelope.session_id,
        accepted_at_unix_ms=now_ms,
        session_state=state,
    )


def error_ack(error: MacpError, session_id: str, message_id: str, now_ms: int) -> envelope_pb2.Ack:
    return envelope_pb2.Ack(
        ok=False,
        duplicate=False,
        message_id=message_id,
        session_id=session_id,
        accepted_at_unix_ms=now_ms,
        session_state=envelope_pb2.SESSION_STATE_UNSPECIFIED,
        error=error.to_proto(session_id, message_id),
    )


def _check_strict_start(start: core_pb2.SessionStartPayload) -> None:
    if not 1 <= start.ttl_ms <= MAX_TTL_MS:
        raise MacpError("InvalidTtl", f"ttl_ms must be in [1, {MAX_TTL_MS}]")
    if not start.mode_version.strip() or not start.configuration_version.strip():
        raise invalid_payload("mode_version and configuration_version are required")
    participants = list(start.participants)
    if not participants or len(participants) > MAX_PARTICIPANTS:
        raise invalid_payload(f"participants must number 1..{MAX_PARTICIPANTS}")
    trimmed = [p.strip() for p in participants]
    if not all(trimmed) or len(set(trimmed)) != len(trimmed):
        raise invalid_payload("participants must be non-blank and unique")
    if start.max_suspend_ms < 0:
        raise invalid_payload("max_suspend_ms must not be negative")


class Kernel:
    def __init__(
        self,
        clock: Clock,
        modes: ModeRegistry,
        policies: PolicyRegistry,
        hub: StreamHub,
        retention_ms: int,
    ) -> None:
        self._clock = clock
        self._modes = modes
        self._policies = policies
        self._hub = hub
        self._retention_ms = retention_ms
        self._sessions: dict[str, Session] = {}
        # Guards the session table and lifecycle publication (so WatchSessions can sync).
        self._lock = threading.RLock()
        self._lifecycle: Fanout[core_pb2.WatchSessionsResponse] = Fanout(_LIFECYCLE_BUFFER)
        self.signals: Fanout[core_pb2.WatchSignalsResponse] = Fanout(_SIGNAL_BUFFER)

    def now_ms(self) -> int:
        return self._clock.now_ms()

    # ---- Send / stream envelopes -------------------------------------------------------

    def process(self, envelope: envelope_pb2.Envelope, identity: Identity) -> envelope_pb2.Ack:
        """Run an envelope that passed the server gates; raises MacpError on rejection."""
        if envelope.message_type in ("Signal", "Progress"):
            return self._ambient(envelope)
        if envelope.message_type == "SessionStart":
            return self._start(envelope, identity)
        return self._message(envelope)

    def _ambient(self, envelope: envelope_pb2.Envelope) -> envelope_pb2.Ack:
        # Signals and Progress are never stored, deduplicated or streamed; only watched.
        if envelope.payload:
            if envelope.message_type == "Signal":
                signal = decode(core_pb2.SignalPayload, envelope.payload)
                if not signal.signal_type.strip():
                    raise invalid_payload("signal_type is blank")
            else:
                decode(core_pb2.ProgressPayload, envelope.payload)
        self.signals.publish(
            core_pb2.WatchSignalsResponse(envelope=envelope, sender_authenticated=True)
        )
        return make_ack(envelope, OPEN, self.now_ms())

    def _start(self, envelope: envelope_pb2.Envelope, identity: Identity) -> envelope_pb2.Ack:
        now = self.now_ms()
        session_id = envelope.session_id
        if not is_valid_session_id(session_id):
            raise MacpError("InvalidSessionId", f"bad session id {session_id!r}")
        entry = self._modes.get(envelope.mode)
        if entry is None:
            raise MacpError("UnknownMode", f"mode {envelope.mode!r} is not registered")
        if not envelope.payload:
            raise invalid_payload("SessionStart needs a payload")
        start = decode(core_pb2.SessionStartPayload, envelope.payload)
        if entry.strict:
            _check_strict_start(start)
        if start.mode_version and start.mode_version != entry.version:
            raise MacpError("InvalidEnvelope", f"mode_version must be {entry.version}")
        if not 1 <= start.ttl_ms <= MAX_TTL_MS:
            raise MacpError("InvalidTtl", f"ttl_ms must be in [1, {MAX_TTL_MS}]")
        existing = self._get(session_id)
        if existing is not None:
            return self._restart(existing, envelope, now)
        policy = self._resolve_policy(start.policy_version, envelope.mode)
        session = self._new_session(envelope, start, entry, policy, now)
        session.rules.on_session_start(session.context(now))
        self._check_open_session_cap(identity, now)
        with session.lock:
            with self._lock:
                existing = self._sessions.get(session_id)
                if existing is None:
                    self._sessions[session_id] = session
            if existing is not None:  # lost a race with a concurrent SessionStart
                return self._restart(existing, envelope, now)
            session.seen_message_ids.add(envelope.message_id)
            session.history.append(envelope)
            self._hub.broadcast(session_id, envelope, session.audience)
            self._publish(Event.EVENT_TYPE_CREATED, session, now)
        return make_ack(envelope, OPEN, now)

    def _restart(
        self, existing: Session, envelope: envelope_pb2.Envelope, now: int
    ) -> envelope_pb2.Ack:
        with existing.lock:
            if envelope.message_id in existing.seen_message_ids:
                return make_ack(envelope, existing.state, now, duplicate=True)
        raise MacpError("SessionAlreadyExists", f"session {envelope.session_id} exists")

    def _resolve_policy(self, policy_version: str, mode: str) -> Policy:
        policy = self._policies.get(policy_version or DEFAULT_POLICY_ID)
        if policy is None:
            raise MacpError("UnknownPolicyVersion", f"policy {policy_version!r} is unknown")
        if policy.mode not in (ANY_MODE, mode):
            raise MacpError("InvalidPolicyDefinition", f"policy targets {policy.mode}")
        return policy

    def _new_session(
        self,
        envelope: envelope_pb2.Envelope,
        start: core_pb2.SessionStartPayload,
        entry: ModeEntry,
        policy: Policy,
        now: int,
    ) -> Session:
        # The TTL is anchored on the client's SessionStart timestamp (server time if absent).
        base = envelope.timestamp_unix_ms or now
        return Session(
            session_id=envelope.session_id,
            mode=envelope.mode,
            rules=entry.new_rules(),
            initiator=envelope.sender,
            participants=tuple(start.participants),
            mode_version=start.mode_version or entry.version,
            configuration_version=start.configuration_version,
            policy=policy,
            started_at_ms=now,
            deadline_ms=base + start.ttl_ms,
            max_suspend_ms=max(start.max_suspend_ms, 0) or DEFAULT_MAX_SUSPEND_MS,
            context_id=start.context_id,
            extension_keys=tuple(start.extensions.keys()),
        )

    def _check_open_session_cap(self, identity: Identity, now: int) -> None:
        cap = identity.max_open_sessions
        if cap is None:
            return
        with self._lock:
            sessions = list(self._sessions.values())
        open_count = sum(
            1
            for s in sessions
            if s.initiator == identity.sender and s.state == OPEN and now <= s.deadline_ms
        )
        if open_count >= cap:
            raise MacpError("RateLimited", f"max_open_sessions {cap} reached")

    def _message(self, envelope: envelope_pb2.Envelope) -> envelope_pb2.Ack:
        session = self._get(envelope.session_id)
        if session is None:
            raise MacpError("UnknownSession", f"session {envelope.session_id} is unknown")
        with session.lock:
            now = self.now_ms()
            if envelope.message_id in session.seen_message_ids:
                return make_ack(envelope, session.state, now, duplicate=True)
            if envelope.mode != session.mode:
                raise MacpError("InvalidEnvelope", "envelope mode differs from the session's")
            if self._expire_if_due(session, now):
                raise MacpError("TtlExpired", "the session's TTL elapsed")
            if session.state != OPEN:
                raise session_not_open()
            ctx = session.context(now)
            session.rules.authorize(ctx, envelope.sender, envelope.message_type)
            # on_message raises only before it changes anything (see ModeRules), so a rejection
            # leaves no trace without copying the state: a message costs what it touches.
            outcome = session.rules.on_message(
                ctx, envelope.sender, envelope.message_type, envelope.payload
            )
            session.seen_message_ids.add(envelope.message_id)
            session.record_activity(envelope.sender, now)
            session.history.append(envelope)
            if outcome.resolves:
                session.state = RESOLVED
                session.resolution = outcome.resolution
                session.ended_at_ms = now
            self._hub.broadcast(session.session_id, envelope, session.audience)
            if outcome.resolves:
                self._publish(Event.EVENT_TYPE_RESOLVED, session, now)
            return make_ack(envelope, session.state, now)

    # ---- TTL and lifecycle -------------------------------------------------------------

    def _expire_if_due(self, session: Session, now: int) -> bool:
        """Lazy expiry; the caller holds the session lock. True when it expired just now."""
        overdue = session.state == OPEN and now > session.deadline_ms
        over_cap = session.state == SUSPENDED and session.suspend_cap_exceeded(now)
        if not (overdue or over_cap):
            return False
        session.state = EXPIRED
        session.ended_at_ms = now
        self._publish(Event.EVENT_TYPE_EXPIRED, session, now)
        return True

    def _publish(self, event_type: Event.EventType.ValueType, session: Session, now: int) -> None:
        event = Event(event_type=event_type, session=session.metadata(), observed_at_unix_ms=now)
        with self._lock:
            self._lifecycle.publish(core_pb2.WatchSessionsResponse(event=event))

    def _get(self, session_id: str) -> Session | None:
        with self._lock:
            return self._sessions.get(session_id)

    def _controlled(self, session_id: str, identity: Identity, verb: str) -> Session:
        session = self._get(session_id)
        if session is None:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"Session '{session_id}' not found")
        sender = identity.sender
        participants = list(session.participants)
        if sender != session.initiator and not may_commit(
            session.policy, sender, session.initiator, participants
        ):
            raise StatusError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"FORBIDDEN: only the session initiator or policy-delegated roles can {verb}",
            )
        return session

    def _control_ack(
        self, session: Session, now: int, error: MacpError | None = None
    ) -> envelope_pb2.Ack:
        if error is not None:
            return error_ack(error, session.session_id, "", now)
        return envelope_pb2.Ack(
            ok=True,
            session_id=session.session_id,
            message_id="",
            accepted_at_unix_ms=now,
            session_state=session.state,
        )

    def cancel(self, session_id: str, identity: Identity) -> envelope_pb2.Ack:
        session = self._controlled(session_id, identity, "cancel")
        with session.lock:
            now = self.now_ms()
            self._expire_if_due(session, now)
            if not session.terminal:  # cancelling a terminal session is an idempotent no-op
                session.state = CANCELLED
                session.suspended_at_ms = None
                session.ended_at_ms = now
                self._publish(Event.EVENT_TYPE_CANCELLED, session, now)
            return self._control_ack(session, now)

    def suspend(self, session_id: str, identity: Identity) -> envelope_pb2.Ack:
        session = self._controlled(session_id, identity, "suspend")
        with session.lock:
            now = self.now_ms()
            if self._expire_if_due(session, now):
                return self._control_ack(session, now, MacpError("TtlExpired"))
            if session.state != OPEN:
                return self._control_ack(session, now, session_not_open())
            session.state = SUSPENDED
            session.suspended_at_ms = now
            self._publish(Event.EVENT_TYPE_SUSPENDED, session, now)
            return self._control_ack(session, now)

    def resume(self, session_id: str, identity: Identity) -> envelope_pb2.Ack:
        session = self._controlled(session_id, identity, "resume")
        with session.lock:
            now = self.now_ms()
            if self._expire_if_due(session, now):
                return self._control_ack(session, now, MacpError("TtlExpired"))
            if session.state != SUSPENDED or session.suspended_at_ms is None:
                return self._control_ack(session, now, session_not_open())
            # Suspended time does not count against the TTL: push the deadline forward.
            banked = now - session.suspended_at_ms
            session.deadline_ms += banked
            session.suspended_total_ms += banked
            session.suspended_at_ms = None
            session.state = OPEN
            self._publish(Event.EVENT_TYPE_RESUMED, session, now)
            return self._control_ack(session, now)

    # ---- Queries and observation -------------------------------------------------------

    def get_session(self, session_id: str, identity: Identity) -> core_pb2.SessionMetadata:
        session = self._get(session_id)
        if session is None:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"Session '{session_id}' not found")
        if not session.audience(identity):
            raise StatusError(grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN: session access denied")
        with session.lock:
            self._expire_if_due(session, self.now_ms())
            return session.metadata()

    def list_sessions(
        self, page_size: int, page_token: str
    ) -> tuple[list[core_pb2.SessionMetadata], str]:
        """Every session in memory, by id; the page token is the last id of the prior page."""
        with self._lock:
            sessions = sorted(self._sessions.values(), key=lambda s: s.session_id)
        if page_token:
            sessions = [s for s in sessions if s.session_id > page_token]
        next_token = ""
        if page_size > 0 and len(sessions) > page_size:
            sessions = sessions[:page_size]
            next_token = sessions[-1].session_id
        return [s.metadata() for s in sessions], next_token

    def session(self, session_id: str) -> Session | None:
        """The session record, for read-only services (receipts, what-if replay)."""
        return self._get(session_id)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def state_of(self, session_id: str) -> tuple[str, int] | None:
        """(mode, state) of a session, for the stream's early checks."""
        session = self._get(session_id)
        return None if session is None else (session.mode, session.state)

    def watch_sessions(self) -> Subscription[core_pb2.WatchSessionsResponse]:
        """Initial CREATED per session in memory, then live events (duplicates dropped)."""
        subscription: Subscription[core_pb2.WatchSessionsResponse] = Subscription(
            _LIFECYCLE_BUFFER + self.session_count()
        )
        with self._lock:
            for session in self._sessions.values():
                event = Event(
                    event_type=Event.EVENT_TYPE_CREATED,
                    session=session.metadata(),
                    observed_at_unix_ms=session.started_at_ms,
                )
                subscription.offer(core_pb2.WatchSessionsResponse(event=event))
            self._lifecycle.attach(subscription)
        return subscription

    def unwatch_sessions(self, subscription: Subscription[core_pb2.WatchSessionsResponse]) -> None:
        self._lifecycle.unsubscribe(subscription)

    def subscribe(
        self, session_id: str, identity: Identity, after_sequence: int, output: StreamOutput
    ) -> None:
        """Passive subscribe: replay ordinals > after_sequence, then live, with no gap."""
        session = self._get(session_id)
        if session is None:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"Session '{session_id}' not found")
        if not session.audience(identity):
            raise StatusError(
                grpc.StatusCode.PERMISSION_DENIED,
                "FORBIDDEN: caller is not a declared participant or observer for this session",
            )
        with session.lock:
            for envelope in session.history[after_sequence:]:
                output.offer(core_pb2.StreamSessionResponse(envelope=envelope))
            self._hub.bind(session_id, output, identity)

    def sweep(self) -> SweepResult:
        """Expire overdue sessions and evict terminal ones past retention (since start)."""
        now = self.now_ms()
        with self._lock:
            sessions = list(self._sessions.values())
        expired = evicted = 0
        for session in sessions:
            with session.lock:
                expired += self._expire_if_due(session, now)
                stale = session.terminal and now - session.started_at_ms >= self._retention_ms
            if stale:
                with self._lock:
                    if self._sessions.get(session.session_id) is session:
                        del self._sessions[session.session_id]
                        evicted += 1
        return SweepResult(expired, evicted)

    def close(self) -> None:
        self._lifecycle.close_all()
        self.signals.close_all()
