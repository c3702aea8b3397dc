"""The participant model of each mode: typed actions and typed handler registration.

Names come from naming.py; a name that would shadow a member of the core's participant or
actions classes (listed in `macp_core.contract`) is a located error naming the proto element.
"""

from __future__ import annotations

from macp_core import contract

from . import naming
from .errors import NameCollisionError, ReservedNameError
from .model import HandlerModel, ModeModel, ParticipantModel


def build_participant_model(mode: ModeModel) -> ParticipantModel:
    handlers: list[HandlerModel] = []
    seen: dict[str, str] = {}
    for action in mode.actions:
        for method in (action.method, *action.aliases):
            if method in contract.PARTICIPANT_ACTIONS_MEMBERS:
                raise ReservedNameError(
                    action.location,
                    f"action method {method!r} of {action.message_type} would shadow "
                    f"ParticipantActions.{method} in the generated participant actions",
                    "rename the method with the (macp.sdk.v1.action).method option",
                )
        handler = naming.handler_method(action.message_type)
        if handler in contract.PARTICIPANT_MEMBERS:
            raise ReservedNameError(
                action.location,
                f"message type {action.message_type!r} would register as {handler}(), which is "
                "already a member of Participant",
                "rename the payload message (its message type follows from the name)",
            )
        if handler in seen:
            raise NameCollisionError(
                action.location,
                f"message types {seen[handler]!r} and {action.message_type!r} both register "
                f"as {handler}()",
                "rename one of the payload messages",
            )
        seen[handler] = action.message_type
        handlers.append(HandlerModel(action.message_type, handler, action.record_class))
    participant = naming.participant_class(mode.short_name)
    actions = naming.actions_class(mode.short_name)
    context = naming.context_alias(mode.short_name)
    return ParticipantModel(
        mode=mode,
        participant_class=participant,
        async_participant_class=naming.asyncio_twin(participant),
        actions_class=actions,
        async_actions_class=naming.asyncio_twin(actions),
        context_alias=context,
        async_context_alias=naming.asyncio_twin(context),
        handlers=tuple(handlers),
    )
