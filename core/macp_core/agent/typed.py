"""Adapters behind the generated ``on_<message>`` methods: decode the message into the
mode's typed record, then call the user's handler with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from macp.v1 import envelope_pb2

from .decoding import message_envelope
from .types import AnyContext, IncomingMessage

R = TypeVar("R")


def typed_handler(
    decode: Callable[[envelope_pb2.Envelope], R],
    handler: Callable[[R, Any], None],
    *,
    mode: str,
    session_id: str,
) -> Callable[[IncomingMessage, AnyContext], None]:
    def call(message: IncomingMessage, ctx: AnyContext) -> None:
        handler(decode(message_envelope(message, mode, session_id)), ctx)

    return call


def typed_async_handler(
    decode: Callable[[envelope_pb2.Envelope], R],
    handler: Callable[[R, Any], Awaitable[None] | None],
    *,
    mode: str,
    session_id: str,
) -> Callable[[IncomingMessage, AnyContext], Awaitable[None] | None]:
    def call(message: IncomingMessage, ctx: AnyContext) -> Awaitable[None] | None:
        return handler(decode(message_envelope(message, mode, session_id)), ctx)

    return call
