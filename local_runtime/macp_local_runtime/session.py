"""One session's record: bindings, lifecycle state, TTL, dedup set and accepted history."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from macp.v1 import core_pb2, envelope_pb2

from .auth import Identity
from .modes.base import ModeContext, ModeRules
from .policy import Policy

OPEN = envelope_pb2.SESSION_STATE_OPEN
RESOLVED = envelope_pb2.SESSION_STATE_RESOLVED
EXPIRED = envelope_pb2.SESSION_STATE_EXPIRED
SUSPENDED = envelope_pb2.SESSION_STATE_SUSPENDED
CANCELLED = envelope_pb2.SESSION_STATE_CANCELLED
TERMINAL_STATES = frozenset({RESOLVED, EXPIRED, CANCELLED})

DEFAULT_MAX_SUSPEND_MS = 7 * 24 * 3600 * 1000


@dataclass
class Activity:
    message_count: int = 0
    last_message_at_ms: int = 0


@dataclass
class Session:
    session_id: str
    mode: str
    rules: ModeRules
    initiator: str
    participants: tuple[str, ...]
    mode_version: str
    configuration_version: str
    policy: Policy
    started_at_ms: int
    deadline_ms: int
    max_suspend_ms: int
    context_id: str = ""
    extension_keys: tuple[str, ...] = ()
    state: envelope_pb2.SessionState.ValueType = OPEN
    suspended_at_ms: int | None = None
    suspended_total_ms: int = 0
    resolution: bytes | None = None
    ended_at_ms: int | None = None
    seen_message_ids: set[str] = field(default_factory=set)
    # Accepted envelopes in acceptance order; ordinal = index + 1 (passive subscribe replay).
    history: list[envelope_pb2.Envelope] = field(default_factory=list)
    activity: dict[str, Activity] = field(default_factory=dict)
    # Serializes acceptance (and therefore broadcast order) within the session.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def context(self, now_ms: int) -> ModeContext:
        return ModeContext(
            session_id=self.session_id,
            mode=self.mode,
            initiator=self.initiator,
            participants=self.participants,
            mode_version=self.mode_version,
            configuration_version=self.configuration_version,
            policy=self.policy,
            now_ms=now_ms,
        )

    def may_observe(self, sender: str, is_observer: bool) -> bool:
        return is_observer or sender == self.initiator or sender in self.participants

    def audience(self, identity: Identity) -> bool:
        """Whether this caller may see the session's envelopes (streams, GetSession)."""
        return self.may_observe(identity.sender, identity.is_observer)

    def suspend_cap_exceeded(self, now_ms: int) -> bool:
        if self.suspended_at_ms is None:
            return False
        return self.suspended_total_ms + (now_ms - self.suspended_at_ms) > self.max_suspend_ms

    def record_activity(self, sender: str, now_ms: int) -> None:
        activity = self.activity.setdefault(sender, Activity())
        activity.message_count += 1
        activity.last_message_at_ms = now_ms

    def metadata(self) -> core_pb2.SessionMetadata:
        return core_pb2.SessionMetadata(
            session_id=self.session_id,
            mode=self.mode,
            state=self.state,
            started_at_unix_ms=self.started_at_ms,
            expires_at_unix_ms=self.deadline_ms,
            mode_version=self.mode_version,
            configuration_version=self.configuration_version,
            policy_version=self.policy.policy_id,
            participants=list(self.participants),
            participant_activity=[
                core_pb2.ParticipantActivity(
                    participant_id=sender,
                    last_message_at_unix_ms=a.last_message_at_ms,
                    message_count=a.message_count,
                )
                for sender, a in self.activity.items()
            ],
            initiator=self.initiator,
            context_id=self.context_id,
            extension_keys=list(self.extension_keys),
        )
