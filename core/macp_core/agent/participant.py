"""``Participant``: an agent written as handlers. It subscribes to its session, applies each
accepted envelope to the mode's projection, then calls the handlers registered for the
message, for the phase it moved to, and once for the end of the session.

The loop runs in :meth:`Participant.run` (blocking); ``stop()`` may be called from any
thread and wakes it at once. The asyncio twin is :class:`macp_core.agent.aio.AsyncParticipant`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from google.protobuf import json_format
from macp.v1 import envelope_pb2

from .._logging import get_logger
from ..auth import AuthConfig
from ..base_projection import PHASE_CANCELLED, PHASE_COMMITTED, BaseProjection
from ..errors import MacpSessionError
from ..session_client import SessionClient
from .actions import ParticipantActions, _ActionsCore
from .decoding import envelope_to_message, message_envelope
from .dispatcher import Dispatcher
from .modes import binding_for, payload_class
from .transports import DEFAULT_SESSION_CHECK_INTERVAL, GrpcTransportAdapter, TransportAdapter
from .types import (
    SESSION_CANCELLED,
    SESSION_EVICTED,
    SESSION_EXPIRED,
    AnyContext,
    HandlerContext,
    IncomingMessage,
    MessageHandler,
    PhaseChangeHandler,
    SessionInfo,
    TerminalHandler,
    TerminalResult,
)

__all__ = [
    "PHASE_ENDED",
    "PHASE_EXPIRED",
    "TERMINAL_PHASES",
    "InitiatorConfig",
    "Participant",
    "ParticipantActions",
    "ParticipantCore",
]

logger = get_logger("agent")

PHASE_EXPIRED = "Expired"
PHASE_ENDED = "Ended"  # gone from the runtime before this participant learnt how it ended
# Where a session ends: its projection's terminal phases plus what is never on the stream.
TERMINAL_PHASES: frozenset[str] = frozenset(
    {PHASE_COMMITTED, PHASE_CANCELLED, PHASE_EXPIRED, PHASE_ENDED}
)
_LIFECYCLE_STATES = {
    SESSION_CANCELLED: PHASE_CANCELLED,
    SESSION_EXPIRED: PHASE_EXPIRED,
    SESSION_EVICTED: PHASE_ENDED,
}


@dataclass
class InitiatorConfig:
    """What the initiator sends before it listens: SessionStart, then an optional kickoff.

    ``kickoff_payload`` is either the payload's fields (a dict, proto or JSON field names,
    encoded with the mode's payload class) or payload bytes ready for the envelope.
    """

    intent: str
    participants: list[str]
    ttl_ms: int
    context_id: str = ""
    extensions: dict[str, bytes] = field(default_factory=dict)
    roots: list[dict[str, str]] | None = None
    mode_version: str | None = None
    configuration_version: str | None = None
    policy_version: str | None = None
    max_suspend_ms: int = 0
    kickoff_message_type: str | None = None
    kickoff_payload: dict[str, Any] | bytes = field(default_factory=dict)


class _Closable(Protocol):
    def close(self) -> None: ...


def kickoff_bytes(mode: str, message_type: str, payload: dict[str, Any] | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    message_class = payload_class(mode, message_type)
    if message_class is None:
        raise MacpSessionError(
            f"kickoff {message_type!r} is not a message type of {mode!r}; "
            "pass the payload as bytes, or generate the mode"
        )
    parsed = json_format.ParseDict(payload, message_class())
    return parsed.SerializeToString()


A = TypeVar("A", bound=_ActionsCore)


class ParticipantCore(Generic[A]):
    """State and bookkeeping shared by the blocking and asyncio participants (no I/O)."""

    MODE: ClassVar[str] = ""

    def _init_core(
        self,
        *,
        participant_id: str,
        session_id: str,
        mode: str | None,
        participants: list[str] | None,
        mode_version: str | None,
        configuration_version: str | None,
        policy_version: str | None,
        initiator_config: InitiatorConfig | None,
        projection: BaseProjection | None,
    ) -> None:
        resolved = mode or self.MODE
        if not resolved:
            raise MacpSessionError(f"{type(self).__name__} needs a mode")
        if self.MODE and resolved != self.MODE:
            raise MacpSessionError(
                f"{type(self).__name__} is a {self.MODE} participant, not {resolved}; "
                f"use Participant(mode={resolved!r}) or that mode's participant class"
            )
        self._participant_id = participant_id
        self._session_id = session_id
        self._mode = resolved
        self._binding = binding_for(resolved)
        self._initiator_config = initiator_config
        self._dispatcher = Dispatcher()
        self._session = SessionInfo(
            session_id=session_id,
            mode=resolved,
            participants=list(participants or []),
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
        )
        self._projection = projection or self._binding.projection_class(session_id, mode=resolved)
        # The constructor's phase is not an observed transition: never announced.
        self._last_phase = self._projection.phase
        self._stopped = threading.Event()
        self._terminal: TerminalResult | None = None
        self._pending_terminal: TerminalResult | None = None
        self._cancel_server: _Closable | None = None
        self._actions: A

    # -- facts ---------------------------------------------------------------------------
    @property
    def participant_id(self) -> str:
        return self._participant_id

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def projection(self) -> BaseProjection:
        return self._projection

    @property
    def actions(self) -> A:
        return self._actions

    @property
    def session(self) -> SessionInfo:
        return self._session

    @property
    def initiator_config(self) -> InitiatorConfig | None:
        return self._initiator_config

    @property
    def is_stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def terminal_result(self) -> TerminalResult | None:
        """How the session ended, once ``on_terminal`` fired."""
        return self._terminal

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    # -- the per-message bookkeeping -----------------------------------------------------
    def _context(self) -> AnyContext:
        return HandlerContext(
            participant=self._participant_id,
            projection=self._projection,
            actions=self._actions,
            session=self._session,
            log_fn=logger.info,
        )

    def _apply(self, message: IncomingMessage) -> None:
        if message.message_type in _LIFECYCLE_STATES:
            return  # synthesised by a transport: no envelope to apply
        envelope: envelope_pb2.Envelope = message_envelope(message, self._mode, self._session_id)
        self._projection.apply_envelope(envelope)

    def _transition(self, message: IncomingMessage) -> tuple[str | None, TerminalResult | None]:
        """(the phase just entered or None, the terminal result or None) after ``message``."""
        entered: str | None = None
        phase = self._projection.phase
        if phase and phase != self._last_phase:
            self._last_phase = phase
            entered = phase
        if self._terminal is not None:
            return entered, None
        if self._projection.is_terminal:
            return entered, TerminalResult(state=phase, commitment=self._projection.commitment)
        lifecycle = _LIFECYCLE_STATES.get(message.message_type)
        if lifecycle is not None:
            reason = str(message.payload.get("reason", ""))
            return entered, TerminalResult(state=lifecycle, reason=reason)
        return entered, None

    def _mark_terminal(self, result: TerminalResult) -> bool:
        """Record the end once; False when it was already recorded."""
        if self._terminal is not None:
            return False
        self._terminal = result
        self._stopped.set()
        return True

    def _take_cancel_server(self) -> _Closable | None:
        server, self._cancel_server = self._cancel_server, None
        return server

    def attach_cancel_callback_server(self, server: _Closable) -> None:
        """Tie a cancel-callback server's life to this participant (closed when it stops)."""
        self._cancel_server = server

    def _kickoff(self) -> tuple[str, bytes] | None:
        cfg = self._initiator_config
        if cfg is None or not cfg.kickoff_message_type:
            return None
        data = kickoff_bytes(self._mode, cfg.kickoff_message_type, cfg.kickoff_payload)
        return cfg.kickoff_message_type, data


class Participant(ParticipantCore[ParticipantActions]):
    """A blocking participant of one session (``run()`` in a thread of your choice)."""

    def __init__(
        self,
        *,
        participant_id: str,
        session_id: str,
        client: SessionClient,
        mode: str | None = None,
        auth: AuthConfig | None = None,
        participants: list[str] | None = None,
        mode_version: str | None = None,
        configuration_version: str | None = None,
        policy_version: str | None = None,
        transport: TransportAdapter | None = None,
        initiator_config: InitiatorConfig | None = None,
        projection: BaseProjection | None = None,
        session_check_interval: float | None = DEFAULT_SESSION_CHECK_INTERVAL,
    ) -> None:
        self._init_core(
            participant_id=participant_id,
            session_id=session_id,
            mode=mode,
            participants=participants,
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            initiator_config=initiator_config,
            projection=projection,
        )
        self._client = client
        self._auth = auth
        self._check_interval = session_check_interval
        self._actions = self._binding.actions_class(
            client,
            session_id,
            auth,
            mode=self._mode,
            participant_id=participant_id,
            session=self._session,
        )
        self._transport = transport
        self._transport_lock = threading.Lock()
        # Not re-entrant: a second concurrent run() would interleave dispatches.
        self._run_lock = threading.Lock()

    @property
    def client(self) -> SessionClient:
        return self._client

    # -- registration (fluent) -----------------------------------------------------------
    def on(self, message_type: str, handler: MessageHandler) -> Self:
        """Call ``handler(message, ctx)`` for each ``message_type`` (``'*'``: every one)."""
        self._dispatcher.on(message_type, handler)
        return self

    def on_phase_change(self, phase: str, handler: PhaseChangeHandler) -> Self:
        """Call ``handler(phase, ctx)`` when the projection enters ``phase`` (``'*'``: any)."""
        self._dispatcher.on_phase_change(phase, handler)
        return self

    def on_terminal(self, handler: TerminalHandler) -> Self:
        """Call ``handler(TerminalResult)`` once, when the session ends; the loop then stops."""
        self._dispatcher.on_terminal(handler)
        return self

    def process_event(self, envelope: envelope_pb2.Envelope) -> None:
        """Handle one envelope as if the transport delivered it (tests, custom loops)."""
        self._process(envelope_to_message(envelope))

    def _process(self, message: IncomingMessage) -> None:
        self._apply(message)
        ctx = self._context()
        self._dispatcher.dispatch(message, ctx)  # handlers see the post-apply projection
        entered, terminal = self._transition(message)
        if entered is not None:
            self._dispatcher.dispatch_phase_change(entered, ctx)
        if terminal is not None:
            self._finish(terminal)

    def _finish(self, result: TerminalResult) -> None:
        if self._mark_terminal(result):
            self._dispatcher.dispatch_terminal(result)

    def run(self) -> None:
        """Send SessionStart and the kickoff when this is the initiator, then handle the
        session's messages until it ends or ``stop()`` is called. Raises
        :class:`MacpSessionError` when already running; a stopped participant returns."""
        if not self._run_lock.acquire(blocking=False):
            raise MacpSessionError(
                f"Participant.run() is already executing for session {self._session_id!r}"
            )
        try:
            self._run()
        finally:
            self._run_lock.release()

    def _run(self) -> None:
        if self._stopped.is_set():
            return
        logger.info(
            "participant %s joining session %s (mode=%s, initiator=%s)",
            self._participant_id,
            self._session_id,
            self._mode,
            self._initiator_config is not None,
        )
        completed = False
        try:
            self._emit_initiator_envelopes()
            transport = self._attach_transport()
            if transport is not None:
                self._consume(transport)
            completed = True
        finally:
            pending = self._pending_terminal
            if completed and pending is not None:
                self._finish(pending)
            if self._stopped.is_set():
                server = self._take_cancel_server()
                if server is not None:
                    server.close()

    def _attach_transport(self) -> TransportAdapter | None:
        with self._transport_lock:
            if self._stopped.is_set():
                return None
            if self._transport is None:
                self._transport = GrpcTransportAdapter(
                    self._client,
                    self._session_id,
                    auth=self._auth,
                    session_check_interval=self._check_interval,
                )
            return self._transport

    def _consume(self, transport: TransportAdapter) -> None:
        messages: Iterator[IncomingMessage] = transport.start()
        try:
            for message in messages:
                if self._stopped.is_set():
                    break
                self._process(message)
                if self._stopped.is_set():
                    break
        finally:
            close: Callable[[], None] | None = getattr(messages, "close", None)
            if close is not None:
                close()
            try:
                transport.stop()
            except Exception:  # teardown must not mask the handler's error
                logger.debug("transport stop failed", exc_info=True)

    def _emit_initiator_envelopes(self) -> None:
        cfg = self._initiator_config
        if cfg is None:
            return
        self._actions.start_session(
            cfg.intent,
            cfg.participants,
            cfg.ttl_ms,
            context_id=cfg.context_id,
            extensions=cfg.extensions or None,
            mode_version=cfg.mode_version,
            configuration_version=cfg.configuration_version,
            policy_version=cfg.policy_version,
            max_suspend_ms=cfg.max_suspend_ms,
            roots=[(r.get("uri", ""), r.get("name", "")) for r in cfg.roots or ()],
        )
        kickoff = self._kickoff()
        if kickoff is not None:
            self._actions.send(*kickoff)

    def stop(self) -> None:
        """Stop the loop, from any thread; wakes a blocked read at once."""
        self._stopped.set()
        with self._transport_lock:
            transport = self._transport
        if transport is not None:
            cancel: Callable[[], None] = getattr(transport, "cancel", transport.stop)
            cancel()

    def cancel(self, reason: str = "") -> None:
        """Cancel the session on the runtime as this participant (the initiator, or a role the
        policy allows), then stop; ``on_terminal`` gets ``Cancelled``."""
        self._actions.cancel_session(reason)
        self._pending_terminal = TerminalResult(state=PHASE_CANCELLED, reason=reason)
        self.stop()
