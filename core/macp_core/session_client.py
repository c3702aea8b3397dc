"""What a session needs from a client, as Protocols.

The clients are generated (``macp_sdk.client.MacpClient``, ``macp_sdk.async_client``); the
hand-written sessions must not import generated code, so they are typed against these
structural interfaces, which the generated clients satisfy.
"""

from __future__ import annotations

from typing import Protocol

from macp.v1 import core_pb2, envelope_pb2

from ._requests import TimeoutValue
from .auth import AuthConfig
from .retry import RetryPolicy
from .streams import AsyncMacpStream, InlineErrorCallback, MacpStream


class SessionClient(Protocol):
    """The blocking client calls a :class:`~macp_core.base_session.BaseSession` (and a
    generated session's ``register_mode``) makes."""

    @property
    def auth(self) -> AuthConfig | None: ...

    def send(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
        retry: RetryPolicy | None = None,
    ) -> envelope_pb2.Ack: ...

    def cancel_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    def suspend_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    def resume_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    def get_session(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetSessionResponse: ...

    def register_ext_mode(
        self,
        descriptor: core_pb2.ModeDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.RegisterExtModeResponse: ...

    def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        session_id: str | None = None,
        after_sequence: int = 0,
        on_error: InlineErrorCallback | None = None,
    ) -> MacpStream: ...


class AsyncSessionClient(Protocol):
    """The asyncio client calls an :class:`~macp_core.base_session.AsyncBaseSession` makes."""

    @property
    def auth(self) -> AuthConfig | None: ...

    async def send(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
        retry: RetryPolicy | None = None,
    ) -> envelope_pb2.Ack: ...

    async def cancel_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    async def suspend_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    async def resume_session(
        self,
        session_id: str,
        *,
        reason: str = "",
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
        raise_on_nack: bool = True,
    ) -> envelope_pb2.Ack: ...

    async def get_session(
        self, session_id: str, *, auth: AuthConfig | None = None, timeout: TimeoutValue = None
    ) -> core_pb2.GetSessionResponse: ...

    async def register_ext_mode(
        self,
        descriptor: core_pb2.ModeDescriptor,
        *,
        auth: AuthConfig | None = None,
        timeout: TimeoutValue = None,
    ) -> core_pb2.RegisterExtModeResponse: ...

    def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        on_error: InlineErrorCallback | None = None,
    ) -> AsyncMacpStream: ...
