"""The values handlers receive: messages, session facts, terminal results, the context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from macp.v1 import core_pb2, envelope_pb2

# Lifecycle events the runtime never puts on a session stream; transports synthesise them
# (from GetSession when the stream goes quiet) so a participant still learns the session ended.
SESSION_CANCELLED = "SessionCancel"
SESSION_EXPIRED = "TtlExpired"
# The runtime no longer knows a session this participant saw: it ended and was evicted.
SESSION_EVICTED = "SessionEvicted"


@dataclass(slots=True)
class IncomingMessage:
    """One accepted envelope of the session, decoded.

    ``payload`` is the payload as a dict with proto field names (empty when undecodable);
    ``raw`` is the envelope itself (``None`` for events a polling transport built from JSON).
    """

    message_type: str
    sender: str
    payload: dict[str, Any]
    proposal_id: str | None = None
    raw: envelope_pb2.Envelope | None = None
    seq: int | None = None


@dataclass(slots=True)
class SessionInfo:
    """What a participant knows about its session up front."""

    session_id: str
    mode: str
    participants: list[str] = field(default_factory=list)
    mode_version: str | None = None
    configuration_version: str | None = None
    policy_version: str | None = None


@dataclass(slots=True)
class TerminalResult:
    """How the session ended: ``state`` is a terminal phase (Committed, Cancelled, Expired)."""

    state: str
    commitment: core_pb2.CommitmentPayload | None = None
    reason: str = ""


ActionsT = TypeVar("ActionsT", covariant=True)
ProjectionT = TypeVar("ProjectionT", covariant=True)


class HandlerContext(Generic[ActionsT, ProjectionT]):
    """What a handler gets besides the message: who it is, the projection after the message
    was applied, the actions bound to the session, the session facts and a logger."""

    __slots__ = ("actions", "log", "participant", "projection", "session")

    def __init__(
        self,
        participant: str,
        projection: ProjectionT,
        actions: ActionsT,
        session: SessionInfo,
        log_fn: Callable[..., None],
    ) -> None:
        self.participant = participant
        self.projection = projection
        self.actions = actions
        self.session = session
        self.log = log_fn


AnyContext = HandlerContext[Any, Any]
MessageHandler = Callable[[IncomingMessage, AnyContext], None]
PhaseChangeHandler = Callable[[str, AnyContext], None]
TerminalHandler = Callable[[TerminalResult], None]
# The asyncio participant also accepts coroutine functions.
AsyncMessageHandler = Callable[[IncomingMessage, AnyContext], Awaitable[None] | None]
AsyncPhaseChangeHandler = Callable[[str, AnyContext], Awaitable[None] | None]
AsyncTerminalHandler = Callable[[TerminalResult], Awaitable[None] | None]
