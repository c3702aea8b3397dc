"""What every mode's rule set implements, and the facts about a session it may read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from ..errors import forbidden, invalid_payload
from ..policy import Policy

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ModeContext:
    """Read-only session facts for one message; `now_ms` is the server acceptance clock."""

    session_id: str
    mode: str
    initiator: str
    participants: tuple[str, ...]
    mode_version: str
    configuration_version: str
    policy: Policy
    now_ms: int

    def is_participant(self, sender: str) -> bool:
        return sender in self.participants


@dataclass(frozen=True)
class ModeOutcome:
    """The effect of an accepted message: resolution bytes when it resolves the session."""

    resolution: bytes | None = None

    @property
    def resolves(self) -> bool:
        return self.resolution is not None


ACCEPTED = ModeOutcome()


class ModeRules(ABC):
    """One session's mode state machine.

    `authorize` runs before `on_message` (kernel steps 6 and 7). `on_message` checks first and
    changes the state only once nothing can raise any more: the kernel applies it to the
    session's own state (copying the state per message would cost in proportion to the
    session), so a rejected message must leave no trace. tests/runtime/test_rules_rollback.py
    checks this for every mode.
    """

    @abstractmethod
    def on_session_start(self, ctx: ModeContext) -> None: ...

    @abstractmethod
    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None: ...

    @abstractmethod
    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome: ...


def decode(message_class: type[M], payload: bytes) -> M:
    message = message_class()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise invalid_payload(f"cannot decode {message_class.__name__}") from exc
    return message


def require_participant(ctx: ModeContext, sender: str) -> None:
    if not ctx.is_participant(sender):
        raise forbidden(f"{sender} is not a declared participant")


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise invalid_payload(reason)
