"""Every generated name is computed here, so that naming rules live in one place."""

from __future__ import annotations

import keyword
import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """`TaskRequest` -> `task_request`, `HTTPProxy` -> `http_proxy`."""
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


def pascal_case(name: str) -> str:
    """`multi_round` -> `MultiRound`; already-Pascal names are kept."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\-.]+", name) if part)


def is_reserved(name: str) -> bool:
    """Python keywords (hard and soft) cannot be used as parameter or module names."""
    return (
        keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in {"None", "True", "False"}
    )


def is_identifier(name: str) -> bool:
    return name.isidentifier() and not is_reserved(name)


def default_mode_id(package: str) -> str:
    """`macp.modes.<n>.v<N>` -> `macp.mode.<n>.v<N>`; anything else -> `ext.<n>.v<N>`."""
    parts = package.split(".")
    short, version = _short_and_version(parts)
    if parts[:2] == ["macp", "modes"] and len(parts) == 4:
        return f"macp.mode.{short}.{version}"
    return f"ext.{short}.{version}"


def default_short_name(package: str) -> str:
    return _short_and_version(package.split("."))[0]


def _short_and_version(parts: list[str]) -> tuple[str, str]:
    if len(parts) >= 2 and re.fullmatch(r"v\d+\w*", parts[-1]):
        return parts[-2], parts[-1]
    return parts[-1], "v1"


def message_type_of(message_name: str) -> str:
    """Payload message `VotePayload` carries message_type `Vote`."""
    return message_name.removesuffix("Payload") if message_name != "Payload" else message_name


def pb2_module(proto_path: str) -> str:
    """`macp/modes/decision/v1/decision.proto` -> `macp.modes.decision.v1.decision_pb2`."""
    return proto_path.removesuffix(".proto").replace("-", "_").replace("/", ".") + "_pb2"


def session_class(short_name: str) -> str:
    return f"{pascal_case(short_name)}Session"


def projection_class(short_name: str) -> str:
    return f"{pascal_case(short_name)}Projection"


def record_class(message_type: str) -> str:
    return f"{message_type}Record"


def builder_function(method: str) -> str:
    return f"build_{method}"


def payload_builder_function(method: str) -> str:
    return f"build_{method}_payload"


def hook_method(method: str) -> str:
    return f"on_{method}"


def mode_module(short_name: str) -> str:
    return short_name


# -- agent participants (macp_sdk.participants.<module>) ---------------------------------
def participant_class(short_name: str) -> str:
    return f"{pascal_case(short_name)}Participant"


def actions_class(short_name: str) -> str:
    return f"{pascal_case(short_name)}Actions"


def context_alias(short_name: str) -> str:
    """The typed HandlerContext alias of a mode's participant, e.g. `DecisionContext`."""
    return f"{pascal_case(short_name)}Context"


def asyncio_twin(name: str) -> str:
    return f"Async{name}"


def handler_method(message_type: str) -> str:
    """`TaskRequest` -> `on_task_request`: typed registration for one message type."""
    return f"on_{snake_case(message_type)}"
