"""``Dispatcher``: which handlers run for a message, a phase change and the end."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .._logging import get_logger
from .types import (
    AnyContext,
    IncomingMessage,
    MessageHandler,
    PhaseChangeHandler,
    TerminalHandler,
    TerminalResult,
)

logger = get_logger("agent")

WILDCARD = "*"


class Dispatcher:
    """Handlers per message type and per phase (``'*'`` matches all, after the specific
    ones, each in registration order) and one terminal handler.

    Handlers are stored untyped so the asyncio participant can keep coroutine functions in
    the same structure; ``dispatch*`` call them synchronously.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Any]] = defaultdict(list)
        self._wildcard_handlers: list[Any] = []
        self._phase_handlers: dict[str, list[Any]] = defaultdict(list)
        self._wildcard_phase_handlers: list[Any] = []
        self._terminal_handler: Any = None

    def on(self, message_type: str, handler: Any) -> None:
        if message_type == WILDCARD:
            self._wildcard_handlers.append(handler)
        else:
            self._handlers[message_type].append(handler)

    def on_phase_change(self, phase: str, handler: Any) -> None:
        if phase == WILDCARD:
            self._wildcard_phase_handlers.append(handler)
        else:
            self._phase_handlers[phase].append(handler)

    def on_terminal(self, handler: Any) -> None:
        """Register the terminal handler (a later one replaces an earlier one)."""
        self._terminal_handler = handler

    # -- lookups (shared with the asyncio participant) -----------------------------------
    def message_handlers(self, message_type: str) -> list[Any]:
        found = [*self._handlers.get(message_type, ()), *self._wildcard_handlers]
        if not found:
            logger.debug("no handler for message_type=%s", message_type)
        return found

    def phase_handlers(self, phase: str) -> list[Any]:
        return [*self._phase_handlers.get(phase, ()), *self._wildcard_phase_handlers]

    @property
    def terminal_handler(self) -> Any:
        return self._terminal_handler

    # -- synchronous dispatch ------------------------------------------------------------
    def dispatch(self, message: IncomingMessage, ctx: AnyContext) -> None:
        handler: MessageHandler
        for handler in self.message_handlers(message.message_type):
            handler(message, ctx)

    def dispatch_phase_change(self, phase: str, ctx: AnyContext) -> None:
        handler: PhaseChangeHandler
        for handler in self.phase_handlers(phase):
            handler(phase, ctx)

    def dispatch_terminal(self, result: TerminalResult) -> None:
        handler: TerminalHandler | None = self._terminal_handler
        if handler is None:
            logger.debug("terminal result with no handler: state=%s", result.state)
            return
        handler(result)

    @property
    def registered_message_types(self) -> list[str]:
        return [k for k, v in self._handlers.items() if v]

    @property
    def registered_phases(self) -> list[str]:
        return [k for k, v in self._phase_handlers.items() if v]

    @property
    def has_terminal_handler(self) -> bool:
        return self._terminal_handler is not None
