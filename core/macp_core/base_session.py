"""Base classes the generated mode sessions extend: :class:`BaseSession` (blocking) and
:class:`AsyncBaseSession` (asyncio).

A session owns a session id, a version triple and a projection. Every send goes through
``send_payload``: resolve and check the sender, build the envelope, send it (with the
session's retry policy), and apply it to the projection once the runtime accepted it.
Envelope building lives in :class:`_SessionCore`, so both flavours send identical bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from time import time_ns
from typing import TYPE_CHECKING, ClassVar

from google.protobuf.message import Message
from macp.v1 import core_pb2, envelope_pb2

from ._identity import resolve_sender
from ._lazy import lazy_class
from ._logging import get_logger
from .constants import (
    DEFAULT_CONFIGURATION_VERSION as DEFAULT_CONFIGURATION_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    DEFAULT_MODE_VERSION as DEFAULT_MODE_VERSION,  # re-exported (0.22.0)
)
from .constants import (
    DEFAULT_POLICY_VERSION as DEFAULT_POLICY_VERSION,  # re-exported (0.22.0)
)
from .envelope import (
    _NO_MAPS,
    MACP_VERSION,
    CommitmentRefLike,
    RootLike,
    _id_pool,
    build_commitment_payload,
    build_session_start_payload,
    new_message_id,
    new_session_id,
    serialize_message,
    validate_required,
    validate_session_id,
)
from .errors import MacpAckError, MacpSessionError

if TYPE_CHECKING:  # annotations only: a session class loads no stream or retry machinery
    from .auth import AuthConfig
    from .base_projection import BaseProjection
    from .retry import RetryPolicy
    from .session_client import AsyncSessionClient, SessionClient
    from .streams import AsyncMacpStream, InlineErrorCallback, MacpStream

logger = get_logger("session")
_Envelope = envelope_pb2.Envelope
_pooled_id = _id_pool.pop  # new_message_id's fast case, without its frame


class _SessionCore:
    """Identity, versions, sender resolution and envelope building (no I/O)."""

    MODE: ClassVar[str]
    MODE_VERSION: ClassVar[str] = DEFAULT_MODE_VERSION
    PROJECTION_CLASS: ClassVar[type[BaseProjection]] = lazy_class(
        ".base_projection", "BaseProjection", __package__
    )
    ALLOW_EMPTY_PARTICIPANTS: ClassVar[bool] = False

    def _init_core(
        self,
        *,
        client_auth: AuthConfig | None,
        session_id: str | None,
        auth: AuthConfig | None,
        mode: str | None,
        mode_version: str | None,
        configuration_version: str,
        policy_version: str,
        retry: RetryPolicy | None,
    ) -> None:
        resolved_mode = mode if mode is not None else getattr(type(self), "MODE", "")
        if not resolved_mode:
            raise MacpSessionError(
                f"{type(self).__name__} has no MODE: use a generated mode session or pass mode="
            )
        self.mode: str = resolved_mode
        # None or "" makes a new id, as 0.22.0 did; anything else must be a valid one.
        self.session_id: str = validate_session_id(session_id) if session_id else new_session_id()
        self.auth = auth
        self._client_auth = client_auth
        self.mode_version: str = validate_required(
            "mode_version", mode_version if mode_version is not None else self.MODE_VERSION
        )
        self.configuration_version = validate_required(
            "configuration_version", configuration_version
        )
        self.policy_version = policy_version
        self.retry = retry
        self.projection: BaseProjection = self.PROJECTION_CLASS(
            session_id=self.session_id, mode=self.mode
        )

    def _auth_for(self, auth: AuthConfig | None) -> AuthConfig | None:
        """Per-call auth, else the session's, else the client's."""
        if auth is not None:
            return auth
        return self.auth if self.auth is not None else self._client_auth

    def resolve_sender(self, sender: str | None, auth: AuthConfig | None) -> str:
        """The sender for this call; raises MacpIdentityMismatchError when it cannot match."""
        return resolve_sender(sender, self._auth_for(auth))

    def _outgoing(
        self,
        message_type: str,
        payload: Message,
        sender: str | None,
        auth: AuthConfig | None,
    ) -> tuple[envelope_pb2.Envelope, AuthConfig | None, str, str, int]:
        """What ``send_payload`` sends: the envelope, the auth the call uses (per-call auth,
        else the session's, else the client's) and the envelope's message id, sender and
        timestamp (handed to the projection once accepted: it need not read them back).

        This is every send's path, shared by both flavours, so it does in one frame what
        ``_auth_for``, ``build_envelope``, ``new_message_id`` and ``serialize_message`` do:
        mode and session id were checked when the session was made, and it checks the
        message type and the sender (as ``resolve_sender``) once here.
        """
        if auth is None:
            auth = self.auth if self.auth is not None else self._client_auth
        if message_type.__class__ is not str or not message_type.strip():
            validate_required("message_type", message_type)  # raises, naming the field
        if auth is not None:
            sender = resolve_sender(sender, auth)
        try:
            message_id = _pooled_id()
        except IndexError:  # the pool is empty: refill it
            message_id = new_message_id()
        sender = sender or ""
        timestamp_unix_ms = time_ns() // 1_000_000
        envelope = _Envelope(
            macp_version=MACP_VERSION,
            mode=self.mode,
            message_type=message_type,
            message_id=message_id,
            session_id=self.session_id,
            sender=sender,
            timestamp_unix_ms=timestamp_unix_ms,
            payload=(
                payload.SerializeToString()
                if _NO_MAPS.get(payload.__class__)
                else serialize_message(payload)  # maps, a class not seen yet, or no message
            ),
        )
        return envelope, auth, message_id, sender, timestamp_unix_ms

    def _start_payload(
        self,
        *,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str,
        extensions: Mapping[str, bytes] | None,
        roots: Iterable[RootLike] | None,
        max_suspend_ms: int,
    ) -> core_pb2.SessionStartPayload:
        return build_session_start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            mode_version=self.mode_version,
            configuration_version=self.configuration_version,
            policy_version=self.policy_version,
            context_id=context_id,
            extensions=extensions,
            roots=roots,
            max_suspend_ms=max_suspend_ms,
            allow_empty_participants=self.ALLOW_EMPTY_PARTICIPANTS,
        )

    def _commit_payload(
        self,
        *,
        action: str,
        authority_scope: str,
        reason: str,
        commitment_id: str | None,
        outcome_positive: bool | None,
        supersedes: CommitmentRefLike | None,
    ) -> core_pb2.CommitmentPayload:
        return build_commitment_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            mode_version=self.mode_version,
            configuration_version=self.configuration_version,
            policy_version=self.policy_version,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )

    def _rejected(self, envelope: envelope_pb2.Envelope, error: MacpAckError) -> None:
        logger.warning(
            "%s %s in session %s rejected: %s",
            self.mode,
            envelope.message_type,
            self.session_id,
            error.code,
        )

    def _subscribe_position(self, subscribe: bool | None, after_sequence: int | None) -> int | None:
        """Where a session stream should subscribe from, or None to not subscribe.

        By default a stream subscribes once this object has seen its session start, from the
        number of envelopes the projection holds: nothing this session may have missed is
        skipped (at worst a few already-seen envelopes are replayed; projections dedupe).
        """
        known = self.projection.session_start is not None
        if subscribe is False or (subscribe is None and not known and after_sequence is None):
            return None
        return len(self.projection.transcript) if after_sequence is None else after_sequence

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(session_id={self.session_id!r}, mode={self.mode!r}, "
            f"phase={self.projection.phase!r})"
        )


class BaseSession(_SessionCore):
    """A blocking session of one mode. Generated subclasses add one method per action."""

    # Declared here so tools that read this class (the generator's name-clash check) see them.
    client: SessionClient
    session_id: str
    mode: str
    mode_version: str
    configuration_version: str
    policy_version: str
    auth: AuthConfig | None
    retry: RetryPolicy | None
    projection: BaseProjection

    def __init__(
        self,
        client: SessionClient,
        *,
        session_id: str | None = None,
        auth: AuthConfig | None = None,
        mode_version: str | None = None,
        configuration_version: str = DEFAULT_CONFIGURATION_VERSION,
        policy_version: str = DEFAULT_POLICY_VERSION,
        retry: RetryPolicy | None = None,
        mode: str | None = None,
    ) -> None:
        self.client = client
        self._init_core(
            client_auth=client.auth,
            session_id=session_id,
            auth=auth,
            mode=mode,
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            retry=retry,
        )

    def send_payload(
        self,
        message_type: str,
        payload: Message,
        *,
        sender: str | None,
        auth: AuthConfig | None,
    ) -> envelope_pb2.Ack:
        """Build, send (retrying per policy), and on acceptance apply to the projection."""
        envelope, auth, message_id, sender, sent_at = self._outgoing(
            message_type, payload, sender, auth
        )
        try:
            ack = self.client.send(envelope, auth=auth, retry=self.retry)
        except MacpAckError as exc:
            self._rejected(envelope, exc)
            raise
        # Accepted: the projection takes the payload message and the header values this
        # session built (it neither decodes envelope.payload nor reads those fields back).
        self.projection._apply_sent(
            envelope,
            payload,
            self.mode,
            self.session_id,
            message_id,
            message_type,
            sender,
            sent_at,
        )
        return ack

    def start(
        self,
        *,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str = "",
        extensions: Mapping[str, bytes] | None = None,
        roots: Iterable[RootLike] | None = None,
        max_suspend_ms: int = 0,
        sender: str | None = None,
        auth: AuthConfig | None = None,
    ) -> envelope_pb2.Ack:
        """Send SessionStart, binding this session's mode and version triple."""
        payload = self._start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            context_id=context_id,
            extensions=extensions,
            roots=roots,
            max_suspend_ms=max_suspend_ms,
        )
        return self.send_payload("SessionStart", payload, sender=sender, auth=auth)

    def commit(
        self,
        *,
        action: str,
        authority_scope: str,
        reason: str,
        commitment_id: str | None = None,
        outcome_positive: bool | None = None,
        supersedes: CommitmentRefLike | None = None,
        sender: str | None = None,
        auth: AuthConfig | None = None,
    ) -> envelope_pb2.Ack:
        """Send the terminal Commitment. ``outcome_positive=None`` is inferred from the
        action's suffix; ``supersedes`` references a commitment of another session."""
        payload = self._commit_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )
        return self.send_payload("Commitment", payload, sender=sender, auth=auth)

    def cancel(self, *, reason: str = "", auth: AuthConfig | None = None) -> envelope_pb2.Ack:
        return self.client.cancel_session(self.session_id, reason=reason, auth=self._auth_for(auth))

    def suspend(self, *, reason: str = "", auth: AuthConfig | None = None) -> envelope_pb2.Ack:
        return self.client.suspend_session(
            self.session_id, reason=reason, auth=self._auth_for(auth)
        )

    def resume(self, *, reason: str = "", auth: AuthConfig | None = None) -> envelope_pb2.Ack:
        return self.client.resume_session(self.session_id, reason=reason, auth=self._auth_for(auth))

    def metadata(self, *, auth: AuthConfig | None = None) -> core_pb2.GetSessionResponse:
        """The runtime's GetSession answer (its ``metadata`` field holds the state), the type
        0.22.0 returned."""
        return self.client.get_session(self.session_id, auth=self._auth_for(auth))

    def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        subscribe: bool | None = None,
        after_sequence: int | None = None,
        on_error: InlineErrorCallback | None = None,
    ) -> MacpStream:
        """A stream of this session's accepted envelopes (see ``_subscribe_position``)."""
        position = self._subscribe_position(subscribe, after_sequence)
        stream = self.client.open_stream(auth=self._auth_for(auth), on_error=on_error)
        if position is not None:
            stream.subscribe(self.session_id, position)
        return stream


class AsyncBaseSession(_SessionCore):
    """The asyncio twin of :class:`BaseSession`; takes an :class:`AsyncMacpClient`."""

    # Declared here so tools that read this class (the generator's name-clash check) see them.
    client: AsyncSessionClient
    session_id: str
    mode: str
    mode_version: str
    configuration_version: str
    policy_version: str
    auth: AuthConfig | None
    retry: RetryPolicy | None
    projection: BaseProjection

    def __init__(
        self,
        client: AsyncSessionClient,
        *,
        session_id: str | None = None,
        auth: AuthConfig | None = None,
        mode_version: str | None = None,
        configuration_version: str = DEFAULT_CONFIGURATION_VERSION,
        policy_version: str = DEFAULT_POLICY_VERSION,
        retry: RetryPolicy | None = None,
        mode: str | None = None,
    ) -> None:
        self.client = client
        self._init_core(
            client_auth=client.auth,
            session_id=session_id,
            auth=auth,
            mode=mode,
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            retry=retry,
        )

    async def send_payload(
        self,
        message_type: str,
        payload: Message,
        *,
        sender: str | None,
        auth: AuthConfig | None,
    ) -> envelope_pb2.Ack:
        """Build, send (retrying per policy), and on acceptance apply to the projection."""
        envelope, auth, message_id, sender, sent_at = self._outgoing(
            message_type, payload, sender, auth
        )
        try:
            ack = await self.client.send(envelope, auth=auth, retry=self.retry)
        except MacpAckError as exc:
            self._rejected(envelope, exc)
            raise
        # Accepted: the projection takes the payload message and the header values this
        # session built (it neither decodes envelope.payload nor reads those fields back).
        self.projection._apply_sent(
            envelope,
            payload,
            self.mode,
            self.session_id,
            message_id,
            message_type,
            sender,
            sent_at,
        )
        return ack

    async def start(
        self,
        *,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str = "",
        extensions: Mapping[str, bytes] | None = None,
        roots: Iterable[RootLike] | None = None,
        max_suspend_ms: int = 0,
        sender: str | None = None,
        auth: AuthConfig | None = None,
    ) -> envelope_pb2.Ack:
        payload = self._start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            context_id=context_id,
            extensions=extensions,
            roots=roots,
            max_suspend_ms=max_suspend_ms,
        )
        return await self.send_payload("SessionStart", payload, sender=sender, auth=auth)

    async def commit(
        self,
        *,
        action: str,
        authority_scope: str,
        reason: str,
        commitment_id: str | None = None,
        outcome_positive: bool | None = None,
        supersedes: CommitmentRefLike | None = None,
        sender: str | None = None,
        auth: AuthConfig | None = None,
    ) -> envelope_pb2.Ack:
        payload = self._commit_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )
        return await self.send_payload("Commitment", payload, sender=sender, auth=auth)

    async def cancel(self, *, reason: str = "", auth: AuthConfig | None = None) -> envelope_pb2.Ack:
        return await self.client.cancel_session(
            self.session_id, reason=reason, auth=self._auth_for(auth)
        )

    async def suspend(
        self, *, reason: str = "", auth: AuthConfig | None = None
    ) -> envelope_pb2.Ack:
        return await self.client.suspend_session(
            self.session_id, reason=reason, auth=self._auth_for(auth)
        )

    async def resume(self, *, reason: str = "", auth: AuthConfig | None = None) -> envelope_pb2.Ack:
        return await self.client.resume_session(
            self.session_id, reason=reason, auth=self._auth_for(auth)
        )

    async def metadata(self, *, auth: AuthConfig | None = None) -> core_pb2.GetSessionResponse:
        """The runtime's GetSession answer, as :meth:`BaseSession.metadata`."""
        return await self.client.get_session(self.session_id, auth=self._auth_for(auth))

    async def open_stream(
        self,
        *,
        auth: AuthConfig | None = None,
        subscribe: bool | None = None,
        after_sequence: int | None = None,
        on_error: InlineErrorCallback | None = None,
    ) -> AsyncMacpStream:
        position = self._subscribe_position(subscribe, after_sequence)
        stream = self.client.open_stream(auth=self._auth_for(auth), on_error=on_error)
        if position is not None:
            await stream.subscribe(self.session_id, position)
        return stream
