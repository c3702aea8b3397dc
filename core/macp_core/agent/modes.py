"""What a participant needs per mode (projection, actions, payload classes), registered by
the generated SDK.

The core cannot import generated code, so each generated ``macp_sdk.participants.<mode>``
module registers its :class:`ModeBinding` here on import. ``binding_for`` imports the
generated package on first need, so ``Participant(mode=...)`` works without the caller
importing anything else first. A mode nobody registered gets the generic binding: a
:class:`BaseProjection`, the generic actions and no payload classes.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

from .._logging import get_logger
from ..base_projection import BaseProjection

if TYPE_CHECKING:
    from .actions import AsyncParticipantActions, ParticipantActions
    from .aio import AsyncParticipant
    from .participant import Participant

logger = get_logger("agent")

# The generated package whose import registers every generated mode.
GENERATED_PARTICIPANTS = "macp_sdk.participants"


@dataclass(frozen=True)
class ModeBinding:
    mode: str
    projection_class: type[BaseProjection]
    actions_class: type[ParticipantActions]
    async_actions_class: type[AsyncParticipantActions]
    payloads: Mapping[str, type[Message]] = field(default_factory=dict)
    # Actions method (or alias) -> the message type it sends, e.g. the generated Decision
    # binding maps "vote" to its Vote message: the strategies react by action, not by name.
    action_message_types: Mapping[str, str] = field(default_factory=dict)
    # The generated typed participants, used by ``from_bootstrap``.
    participant_class: type[Participant] | None = None
    async_participant_class: type[AsyncParticipant] | None = None


_bindings: dict[str, ModeBinding] = {}
_lock = threading.Lock()
_loaded = False


def register_mode_binding(binding: ModeBinding) -> None:
    """Make ``binding`` the one used for ``binding.mode`` (a later one replaces it)."""
    with _lock:
        _bindings[binding.mode] = binding


def _load_generated() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    try:
        importlib.import_module(GENERATED_PARTICIPANTS)
    except ImportError:
        logger.debug(
            "%s is not importable; only registered modes are known", GENERATED_PARTICIPANTS
        )


def _load_mode_package(mode: str) -> None:
    """A mode of an installed mode package (the SDK's registry knows it through the package's
    entry point): importing the package's participants module registers its binding."""
    sdk = GENERATED_PARTICIPANTS.split(".", 1)[0]
    try:
        info = importlib.import_module(f"{sdk}._registry").MODE_REGISTRY.get(mode)
        package = getattr(info, "sdk_package", sdk) if info is not None else sdk
        if package != sdk:
            importlib.import_module(f"{package}.participants")
    except ImportError as exc:
        logger.debug("no participants for %s: %s", mode, exc)


def binding_for(mode: str) -> ModeBinding:
    """The registered binding of ``mode``, or the generic one."""
    if mode not in _bindings:
        _load_generated()
    if mode not in _bindings:
        _load_mode_package(mode)
    found = _bindings.get(mode)
    if found is not None:
        return found
    from .actions import AsyncParticipantActions, ParticipantActions

    return ModeBinding(mode, BaseProjection, ParticipantActions, AsyncParticipantActions)


def registered_modes() -> tuple[str, ...]:
    _load_generated()
    return tuple(sorted(_bindings))


def payload_class(mode: str, message_type: str) -> type[Message] | None:
    """The payload class of ``message_type`` in ``mode``; core types apply in every mode."""
    from macp.v1 import core_pb2

    found = binding_for(mode).payloads.get(message_type) if mode else None
    if found is not None:
        return found
    core: dict[str, Any] = {
        "SessionStart": core_pb2.SessionStartPayload,
        "Commitment": core_pb2.CommitmentPayload,
        "SessionCancel": core_pb2.SessionCancelPayload,
        "Signal": core_pb2.SignalPayload,
        "Progress": core_pb2.ProgressPayload,
    }
    result: type[Message] | None = core.get(message_type)
    return result
