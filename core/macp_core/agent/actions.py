"""Actions bound to one participant's session: send as this participant, start, commit,
cancel. Generated subclasses (``macp_sdk.participants.<mode>``) add one typed method per
action of the mode; the envelopes are built by the same payload builders as the sessions'.

The generic classes also offer 0.22.0's decision-centric ``propose``, ``evaluate``,
``raise_objection`` and ``vote`` with 0.22.0's signatures: each sends through the session
mode's typed action of that name (from the mode binding), or raises
:class:`MacpSessionError` when the mode has none. They are declared ``Callable[..., Ack]``
because each mode's typed actions override them with their own, narrower signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final

from google.protobuf.message import Message
from macp.v1 import core_pb2, envelope_pb2

from ..auth import AuthConfig
from ..constants import (
    DEFAULT_CONFIGURATION_VERSION,
    DEFAULT_MODE_VERSION,
    DEFAULT_POLICY_VERSION,
)
from ..envelope import (
    CommitmentRefLike,
    RootLike,
    build_commitment_payload,
    build_envelope,
    build_session_start_payload,
)
from ..errors import MacpSessionError
from ..session_client import AsyncSessionClient, SessionClient
from .modes import binding_for
from .types import SessionInfo

# 0.22.0's "no default": the argument is always passed on.
_REQUIRED: Final = object()


def _offers(actions_class: type, name: str, generic: type) -> bool:
    """Whether ``actions_class`` has its own (typed) action ``name``."""
    found = getattr(actions_class, name, None)
    return callable(found) and found is not getattr(generic, name)


def _forward(
    action: Callable[..., Any],
    mode: str,
    name: str,
    positional: tuple[object, ...],
    keywords: Mapping[str, tuple[object, object]],
) -> Any:
    """Call the mode's typed ``action`` with 0.22.0's arguments. ``keywords`` maps each of
    0.22.0's keyword arguments to (value, 0.22.0's default): one the typed action does not
    take is dropped while at that default (0.22.0 had one signature for every mode) and is
    an error otherwise; one at its default is left to the typed action's own default."""
    params = inspect.signature(action).parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    passed: dict[str, object] = {}
    for key, (value, default) in keywords.items():
        if key in params or open_ended:
            if default is _REQUIRED or value != default:
                passed[key] = value
        elif default is _REQUIRED or value != default:
            raise MacpSessionError(
                f"{name}() in mode {mode!r} takes no {key}= (the mode's action is "
                f"{name}{inspect.signature(action)})"
            )
    return action(*positional, **passed)


def _no_action(name: str, mode: str) -> MacpSessionError:
    return MacpSessionError(
        f"{name}() has no equivalent action in mode {mode!r}; "
        "use the mode's own actions (ctx.actions of its generated participant)"
    )


class _ActionsCore:
    """Envelope building shared by the blocking and asyncio actions (no I/O)."""

    MODE: ClassVar[str] = ""
    # Modes whose SessionStart may name no participants (the runtime's rule for Decision).
    ALLOW_EMPTY_PARTICIPANTS: ClassVar[bool] = False

    def _init_core(
        self,
        session_id: str,
        auth: AuthConfig | None,
        *,
        mode: str,
        participant_id: str,
        session: SessionInfo | None,
    ) -> None:
        self._session_id = session_id
        self._auth = auth
        self._mode = mode or self.MODE
        self._participant_id = participant_id
        self._session = session or SessionInfo(session_id=session_id, mode=self._mode)

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def participant_id(self) -> str:
        return self._participant_id

    def build(self, message_type: str, payload: Message | bytes) -> envelope_pb2.Envelope:
        """The envelope of ``message_type`` in this session, sent by this participant."""
        return build_envelope(
            mode=self._mode,
            message_type=message_type,
            session_id=self._session_id,
            sender=self._participant_id,
            payload=payload,
        )

    def _start_payload(
        self,
        *,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str,
        extensions: Mapping[str, bytes] | None,
        mode_version: str | None,
        configuration_version: str | None,
        policy_version: str | None,
        max_suspend_ms: int,
        roots: Iterable[RootLike] | None,
    ) -> core_pb2.SessionStartPayload:
        info = self._session
        return build_session_start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            mode_version=mode_version or info.mode_version or DEFAULT_MODE_VERSION,
            configuration_version=configuration_version
            or info.configuration_version
            or DEFAULT_CONFIGURATION_VERSION,
            policy_version=policy_version or info.policy_version or DEFAULT_POLICY_VERSION,
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
        info = self._session
        return build_commitment_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            mode_version=info.mode_version or DEFAULT_MODE_VERSION,
            configuration_version=info.configuration_version or DEFAULT_CONFIGURATION_VERSION,
            policy_version=info.policy_version or DEFAULT_POLICY_VERSION,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )


class ParticipantActions(_ActionsCore):
    """Blocking actions; every send returns the runtime's Ack (a NACK raises)."""

    def __init__(
        self,
        client: SessionClient,
        session_id: str,
        auth: AuthConfig | None = None,
        *,
        mode: str = "",
        participant_id: str = "",
        session: SessionInfo | None = None,
    ) -> None:
        self._client = client
        self._init_core(session_id, auth, mode=mode, participant_id=participant_id, session=session)
        self._typed: object = None

    def send_envelope(self, envelope: envelope_pb2.Envelope) -> envelope_pb2.Ack:
        """Send a pre-built envelope with this participant's credentials."""
        return self._client.send(envelope, auth=self._auth)

    def send(self, message_type: str, payload: Message | bytes) -> envelope_pb2.Ack:
        """Send any message of this session (the typed methods of generated actions call it)."""
        return self.send_envelope(self.build(message_type, payload))

    def get_session(self) -> core_pb2.GetSessionResponse:
        return self._client.get_session(self._session_id, auth=self._auth)

    def cancel_session(self, reason: str = "") -> envelope_pb2.Ack:
        return self._client.cancel_session(self._session_id, reason=reason, auth=self._auth)

    def start_session(
        self,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str = "",
        extensions: Mapping[str, bytes] | None = None,
        mode_version: str | None = None,
        configuration_version: str | None = None,
        policy_version: str | None = None,
        max_suspend_ms: int = 0,
        roots: Iterable[RootLike] | None = None,
    ) -> envelope_pb2.Ack:
        """Send SessionStart; unset versions come from the participant's session facts."""
        payload = self._start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            context_id=context_id,
            extensions=extensions,
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            max_suspend_ms=max_suspend_ms,
            roots=roots,
        )
        return self.send("SessionStart", payload)

    def commit(
        self,
        action: str,
        authority_scope: str,
        *,
        reason: str = "",
        commitment_id: str | None = None,
        outcome_positive: bool | None = None,
        supersedes: CommitmentRefLike | None = None,
    ) -> envelope_pb2.Ack:
        """Send the terminal Commitment (``outcome_positive=None``: inferred from ``action``)."""
        payload = self._commit_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )
        return self.send("Commitment", payload)

    # -- 0.22.0's decision-centric actions, through the session mode's typed ones -----------
    def _mode_action(self, name: str) -> Callable[..., Any]:
        actions_class = binding_for(self._mode).actions_class
        if not _offers(actions_class, name, ParticipantActions):
            raise _no_action(name, self._mode)
        if not isinstance(self._typed, actions_class):
            self._typed = actions_class(
                self._client,
                self._session_id,
                self._auth,
                mode=self._mode,
                participant_id=self._participant_id,
                session=self._session,
            )
        action: Callable[..., Any] = getattr(self._typed, name)
        return action

    def _propose(
        self,
        proposal_id: str,
        option_or_title: str,
        *,
        rationale: str = "",
        supporting_data: bytes = b"",
        summary: str = "",
        details: bytes = b"",
        tags: list[str] | None = None,
    ) -> envelope_pb2.Ack:
        """Send the mode's proposal (``option_or_title``: Decision's option, Proposal's
        title); a keyword the mode's ``propose`` does not take must stay at its default."""
        action = self._mode_action("propose")
        result: envelope_pb2.Ack = _forward(
            action,
            self._mode,
            "propose",
            (proposal_id, option_or_title),
            {
                "rationale": (rationale, ""),
                "supporting_data": (supporting_data, b""),
                "summary": (summary, ""),
                "details": (details, b""),
                "tags": (tags, None),
            },
        )
        return result

    def _evaluate(
        self, proposal_id: str, recommendation: str, *, confidence: float, reason: str = ""
    ) -> envelope_pb2.Ack:
        action = self._mode_action("evaluate")
        result: envelope_pb2.Ack = _forward(
            action,
            self._mode,
            "evaluate",
            (proposal_id, recommendation),
            {"confidence": (confidence, _REQUIRED), "reason": (reason, "")},
        )
        return result

    def _raise_objection(
        self, proposal_id: str, *, reason: str, severity: str = "medium"
    ) -> envelope_pb2.Ack:
        action = self._mode_action("raise_objection")
        result: envelope_pb2.Ack = _forward(
            action,
            self._mode,
            "raise_objection",
            (proposal_id,),
            {"reason": (reason, _REQUIRED), "severity": (severity, "medium")},
        )
        return result

    def _vote(self, proposal_id: str, vote: str, *, reason: str = "") -> envelope_pb2.Ack:
        action = self._mode_action("vote")
        result: envelope_pb2.Ack = _forward(
            action, self._mode, "vote", (proposal_id, vote), {"reason": (reason, "")}
        )
        return result

    propose: Callable[..., envelope_pb2.Ack] = _propose
    evaluate: Callable[..., envelope_pb2.Ack] = _evaluate
    raise_objection: Callable[..., envelope_pb2.Ack] = _raise_objection
    vote: Callable[..., envelope_pb2.Ack] = _vote


class AsyncParticipantActions(_ActionsCore):
    """The asyncio twin of :class:`ParticipantActions` (same envelopes)."""

    def __init__(
        self,
        client: AsyncSessionClient,
        session_id: str,
        auth: AuthConfig | None = None,
        *,
        mode: str = "",
        participant_id: str = "",
        session: SessionInfo | None = None,
    ) -> None:
        self._client = client
        self._init_core(session_id, auth, mode=mode, participant_id=participant_id, session=session)
        self._typed: object = None

    async def send_envelope(self, envelope: envelope_pb2.Envelope) -> envelope_pb2.Ack:
        return await self._client.send(envelope, auth=self._auth)

    async def send(self, message_type: str, payload: Message | bytes) -> envelope_pb2.Ack:
        return await self.send_envelope(self.build(message_type, payload))

    async def get_session(self) -> core_pb2.GetSessionResponse:
        return await self._client.get_session(self._session_id, auth=self._auth)

    async def cancel_session(self, reason: str = "") -> envelope_pb2.Ack:
        return await self._client.cancel_session(self._session_id, reason=reason, auth=self._auth)

    async def start_session(
        self,
        intent: str,
        participants: Sequence[str],
        ttl_ms: int,
        context_id: str = "",
        extensions: Mapping[str, bytes] | None = None,
        mode_version: str | None = None,
        configuration_version: str | None = None,
        policy_version: str | None = None,
        max_suspend_ms: int = 0,
        roots: Iterable[RootLike] | None = None,
    ) -> envelope_pb2.Ack:
        payload = self._start_payload(
            intent=intent,
            participants=participants,
            ttl_ms=ttl_ms,
            context_id=context_id,
            extensions=extensions,
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            max_suspend_ms=max_suspend_ms,
            roots=roots,
        )
        return await self.send("SessionStart", payload)

    async def commit(
        self,
        action: str,
        authority_scope: str,
        *,
        reason: str = "",
        commitment_id: str | None = None,
        outcome_positive: bool | None = None,
        supersedes: CommitmentRefLike | None = None,
    ) -> envelope_pb2.Ack:
        payload = self._commit_payload(
            action=action,
            authority_scope=authority_scope,
            reason=reason,
            commitment_id=commitment_id,
            outcome_positive=outcome_positive,
            supersedes=supersedes,
        )
        return await self.send("Commitment", payload)

    # -- 0.22.0's decision-centric actions, through the session mode's typed ones -----------
    def _mode_action(self, name: str) -> Callable[..., Any]:
        actions_class = binding_for(self._mode).async_actions_class
        if not _offers(actions_class, name, AsyncParticipantActions):
            raise _no_action(name, self._mode)
        if not isinstance(self._typed, actions_class):
            self._typed = actions_class(
                self._client,
                self._session_id,
                self._auth,
                mode=self._mode,
                participant_id=self._participant_id,
                session=self._session,
            )
        action: Callable[..., Any] = getattr(self._typed, name)
        return action

    async def _propose(
        self,
        proposal_id: str,
        option_or_title: str,
        *,
        rationale: str = "",
        supporting_data: bytes = b"",
        summary: str = "",
        details: bytes = b"",
        tags: list[str] | None = None,
    ) -> envelope_pb2.Ack:
        """Send the mode's proposal (``option_or_title``: Decision's option, Proposal's
        title); a keyword the mode's ``propose`` does not take must stay at its default."""
        action = self._mode_action("propose")
        result: envelope_pb2.Ack = await _forward(
            action,
            self._mode,
            "propose",
            (proposal_id, option_or_title),
            {
                "rationale": (rationale, ""),
                "supporting_data": (supporting_data, b""),
                "summary": (summary, ""),
                "details": (details, b""),
                "tags": (tags, None),
            },
        )
        return result

    async def _evaluate(
        self, proposal_id: str, recommendation: str, *, confidence: float, reason: str = ""
    ) -> envelope_pb2.Ack:
        action = self._mode_action("evaluate")
        result: envelope_pb2.Ack = await _forward(
            action,
            self._mode,
            "evaluate",
            (proposal_id, recommendation),
            {"confidence": (confidence, _REQUIRED), "reason": (reason, "")},
        )
        return result

    async def _raise_objection(
        self, proposal_id: str, *, reason: str, severity: str = "medium"
    ) -> envelope_pb2.Ack:
        action = self._mode_action("raise_objection")
        result: envelope_pb2.Ack = await _forward(
            action,
            self._mode,
            "raise_objection",
            (proposal_id,),
            {"reason": (reason, _REQUIRED), "severity": (severity, "medium")},
        )
        return result

    async def _vote(self, proposal_id: str, vote: str, *, reason: str = "") -> envelope_pb2.Ack:
        action = self._mode_action("vote")
        result: envelope_pb2.Ack = await _forward(
            action, self._mode, "vote", (proposal_id, vote), {"reason": (reason, "")}
        )
        return result

    propose: Callable[..., Awaitable[envelope_pb2.Ack]] = _propose
    evaluate: Callable[..., Awaitable[envelope_pb2.Ack]] = _evaluate
    raise_objection: Callable[..., Awaitable[envelope_pb2.Ack]] = _raise_objection
    vote: Callable[..., Awaitable[envelope_pb2.Ack]] = _vote
