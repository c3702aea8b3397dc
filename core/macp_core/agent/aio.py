"""The asyncio participant: :class:`AsyncParticipant` over :class:`AsyncGrpcTransportAdapter`.

Same semantics as the blocking :class:`~macp_core.agent.participant.Participant`; handlers
may be plain functions or coroutine functions. ``stop()`` is safe from any thread (it hops
onto the participant's event loop) and wakes a pending read at once.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol, Self

from .._logging import get_logger
from .._requests import Deadline, TimeoutValue, resolve_stream_timeout
from ..auth import AuthConfig
from ..base_projection import PHASE_CANCELLED, BaseProjection
from ..errors import MacpCancelledError, MacpSdkError, MacpSessionError, MacpTimeoutError
from ..retry import RetryPolicy
from ..session_client import AsyncSessionClient
from ..streams import AsyncMacpStream
from .actions import AsyncParticipantActions
from .decoding import envelope_to_message
from .participant import InitiatorConfig, ParticipantCore
from .transports import (
    DEFAULT_SESSION_CHECK_INTERVAL,
    DEFAULT_SUBSCRIBE_RETRY,
    backoff_delay,
    bounded,
    ended_event,
    evicted_event,
    session_missing,
    should_retry,
    stream_deadline_error,
)
from .types import (
    AsyncMessageHandler,
    AsyncPhaseChangeHandler,
    AsyncTerminalHandler,
    IncomingMessage,
    TerminalResult,
)

logger = get_logger("agent")


class AsyncTransportAdapter(Protocol):
    def start(self) -> AsyncIterator[IncomingMessage]: ...

    async def stop(self) -> None: ...


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if inspect.isawaitable(result):
        await result


class _Wake:
    """An asyncio.Event that any thread may set."""

    def __init__(self) -> None:
        self._flag = threading.Event()
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> asyncio.Event:
        if self._event is None:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
            if self._flag.is_set():
                self._event.set()
        return self._event

    def set(self) -> None:
        self._flag.set()
        loop, event = self._loop, self._event
        if loop is None or event is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def is_set(self) -> bool:
        return self._flag.is_set()


class AsyncGrpcTransportAdapter:
    """The asyncio twin of :class:`~macp_core.agent.transports.GrpcTransportAdapter` (the
    same ``timeout``: a bound on the whole subscription)."""

    def __init__(
        self,
        client: AsyncSessionClient,
        session_id: str,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        subscribe_retry: RetryPolicy | None = None,
        session_check_interval: float | None = DEFAULT_SESSION_CHECK_INTERVAL,
    ) -> None:
        self._client = client
        self._session_id = session_id
        self._auth = auth
        self._timeout = resolve_stream_timeout(timeout)
        self._deadline = Deadline(None)
        self._retry = subscribe_retry or DEFAULT_SUBSCRIBE_RETRY
        self._check_interval = session_check_interval
        self._wake = _Wake()
        self._delivered = 0
        self._seq = 0

    @property
    def last_sequence(self) -> int:
        return self._delivered

    async def start(self) -> AsyncIterator[IncomingMessage]:
        wake = self._wake.bind()
        self._deadline = Deadline(self._timeout)
        attempt = 0
        while not wake.is_set():
            if self._deadline.expired():
                raise stream_deadline_error(self._timeout)
            stream = self._client.open_stream(auth=self._auth)
            try:
                await stream.subscribe(self._session_id, self._delivered)
                async for message in self._drain(stream, wake):
                    attempt = 0
                    yield message
                return
            except MacpSdkError as exc:
                if wake.is_set():
                    return  # our own cancel surfaced as an error (or hit a cancelled stream)
                if not should_retry(exc, self._delivered, attempt, self._retry):
                    raise
                delay = backoff_delay(self._retry, attempt)
                attempt += 1
                if await _wait(wake, bounded(delay, self._deadline)):
                    return
            finally:
                await stream.cancel() if wake.is_set() else await stream.close(grace=0.5)

    async def _drain(
        self, stream: AsyncMacpStream, wake: asyncio.Event
    ) -> AsyncIterator[IncomingMessage]:
        while not wake.is_set():
            wait = bounded(self._check_interval, self._deadline)
            read = asyncio.ensure_future(stream.read(timeout=wait))
            stop = asyncio.ensure_future(wake.wait())
            try:
                done, _ = await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (read, stop):
                    if not task.done():
                        task.cancel()
            if read not in done:
                return
            try:
                envelope = read.result()
            except MacpTimeoutError:
                if self._deadline.expired():
                    raise stream_deadline_error(self._timeout) from None
                envelope = None  # a quiet interval: time to ask whether the session ended
            except MacpCancelledError:
                if wake.is_set():
                    return  # stop() cancelled the stream under this read
                raise
            if envelope is None:
                if stream.ended or wake.is_set():
                    return
                ended = await self._session_ended()
                if ended is not None:
                    yield ended
                    return
                continue
            if envelope.session_id != self._session_id:
                continue
            self._seq += 1
            yield envelope_to_message(envelope, seq=self._seq)
            self._delivered += 1

    async def _session_ended(self) -> IncomingMessage | None:
        try:
            response = await self._client.get_session(self._session_id, auth=self._auth)
        except MacpSdkError as exc:
            if session_missing(exc):
                return evicted_event(self._delivered)
            logger.debug("liveness check of %s failed: %s", self._session_id, exc)
            return None
        return ended_event(response.metadata.state)

    def cancel(self) -> None:
        """Wake ``start()`` from any thread; it then cancels its stream and returns."""
        self._wake.set()

    async def stop(self) -> None:
        self.cancel()


async def _wait(event: asyncio.Event, delay: float | None) -> bool:
    try:
        await asyncio.wait_for(event.wait(), delay)
    except TimeoutError:
        return False
    return True


class AsyncParticipant(ParticipantCore[AsyncParticipantActions]):
    """A participant whose ``run()`` is a coroutine; handlers may be coroutine functions."""

    def __init__(
        self,
        *,
        participant_id: str,
        session_id: str,
        client: AsyncSessionClient,
        mode: str | None = None,
        auth: AuthConfig | None = None,
        participants: list[str] | None = None,
        mode_version: str | None = None,
        configuration_version: str | None = None,
        policy_version: str | None = None,
        transport: AsyncTransportAdapter | None = None,
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
        self._actions = self._binding.async_actions_class(
            client,
            session_id,
            auth,
            mode=self._mode,
            participant_id=participant_id,
            session=self._session,
        )
        self._transport: AsyncTransportAdapter = transport or AsyncGrpcTransportAdapter(
            client, session_id, auth=auth, session_check_interval=session_check_interval
        )
        self._running = False

    @property
    def client(self) -> AsyncSessionClient:
        return self._client

    # -- registration (fluent); handlers may be coroutine functions ------------------------
    def on(self, message_type: str, handler: AsyncMessageHandler) -> Self:
        """Call ``handler(message, ctx)`` for each ``message_type`` (``'*'``: every one)."""
        self._dispatcher.on(message_type, handler)
        return self

    def on_phase_change(self, phase: str, handler: AsyncPhaseChangeHandler) -> Self:
        """Call ``handler(phase, ctx)`` when the projection enters ``phase`` (``'*'``: any)."""
        self._dispatcher.on_phase_change(phase, handler)
        return self

    def on_terminal(self, handler: AsyncTerminalHandler) -> Self:
        """Call ``handler(TerminalResult)`` once, when the session ends; the loop then stops."""
        self._dispatcher.on_terminal(handler)
        return self

    async def _process(self, message: IncomingMessage) -> None:
        self._apply(message)
        ctx = self._context()
        for handler in self._dispatcher.message_handlers(message.message_type):
            await _maybe_await(handler(message, ctx))
        entered, terminal = self._transition(message)
        if entered is not None:
            for handler in self._dispatcher.phase_handlers(entered):
                await _maybe_await(handler(entered, ctx))
        if terminal is not None:
            await self._finish(terminal)

    async def _finish(self, result: TerminalResult) -> None:
        if self._mark_terminal(result):
            handler: Any = self._dispatcher.terminal_handler
            if handler is not None:
                await _maybe_await(handler(result))

    async def run(self) -> None:
        """The asyncio twin of ``Participant.run``."""
        if self._running:
            raise MacpSessionError(
                f"AsyncParticipant.run() is already executing for session {self._session_id!r}"
            )
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False

    async def _run(self) -> None:
        if self._stopped.is_set():
            return
        completed = False
        try:
            await self._emit_initiator_envelopes()
            messages = self._transport.start()
            try:
                async for message in messages:
                    if self._stopped.is_set():
                        break
                    await self._process(message)
                    if self._stopped.is_set():
                        break
            finally:
                await messages.aclose()  # type: ignore[attr-defined]
                await self._transport.stop()
            completed = True
        finally:
            pending = self._pending_terminal
            if completed and pending is not None:
                await self._finish(pending)
            if self._stopped.is_set():
                server = self._take_cancel_server()
                if server is not None:
                    await asyncio.to_thread(server.close)

    async def _emit_initiator_envelopes(self) -> None:
        cfg = self._initiator_config
        if cfg is None:
            return
        await self._actions.start_session(
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
            await self._actions.send(*kickoff)

    def stop(self) -> None:
        """Stop the loop, from any thread or from a handler."""
        self._stopped.set()
        cancel = getattr(self._transport, "cancel", None)
        if callable(cancel):
            cancel()

    async def cancel(self, reason: str = "") -> None:
        """Cancel the session on the runtime as this participant, then stop."""
        await self._actions.cancel_session(reason)
        self._pending_terminal = TerminalResult(state=PHASE_CANCELLED, reason=reason)
        self.stop()
