"""Every generated name is computed here, so that naming rules live in one place."""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection

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


# Names the generated builders and session methods use in their bodies: a payload parameter
# of that name would shadow them.
GENERATED_LOCALS = frozenset(
    {"self", "cls", "payload", "build_envelope", "list", "cast", "MODE"}
    | {"MODE_VERSION", "core_pb2", "envelope_pb2", "mode_descriptor", "super"}
)


FIELD_CHECK_PREFIX = "_check_"


def field_check_name(param: str, taken: Collection[str]) -> str:
    """The module-level name of a bound field check: `_check_vote`, then `_check_vote_2`, ...
    when another action checks a field of that name differently."""
    name, number = f"{FIELD_CHECK_PREFIX}{param}", 1
    while name in taken:
        number += 1
        name = f"{FIELD_CHECK_PREFIX}{param}_{number}"
    return name


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


def async_session_class(session_class: str) -> str:
    return f"Async{session_class}"


def projection_base_class(short_name: str) -> str:
    return f"{projection_class(short_name)}Base"


def projection_accessor(short_name: str) -> str:
    """The session property typed as this mode's projection, e.g. `decision_projection`."""
    return f"{short_name}_projection"


def records_union(short_name: str) -> str:
    return f"{pascal_case(short_name)}ModeRecord"


def projection_base_module(short_name: str) -> str:
    """The always-rewritten base next to the user's scaffold, e.g. `_decision_base`."""
    return f"_{mode_module(short_name)}_base"


def records_attribute(message_type: str) -> str:
    return f"{snake_case(message_type)}_records"


def apply_method(method: str) -> str:
    """The projection base's per-action decoder, e.g. `_apply_vote`."""
    return f"_apply_{method}"


def sent_apply_method(method: str) -> str:
    """The sent-path twin of `apply_method`, e.g. `_sent_apply_vote`. Its own prefix: no action
    name can make one family's name equal a name of the other."""
    return f"_sent_apply_{method}"


def hook_attribute(record_class: str) -> str:
    """The class attribute a record class's resolved hook is bound to, e.g.
    `_hook_for_vote_record` (see macp_core._hooks.bind_hooks)."""
    return f"_hook_for_{snake_case(record_class)}"


def record_constructor(record_class: str) -> str:
    """The projection base's fast builder of a record class, e.g. `_new_vote_record`."""
    return f"_new_{snake_case(record_class)}"


def literal_alias(field_name: str, message_type: str = "") -> str:
    """`vote` -> `VoteValue`; qualified (`VoteVoteValue`) when two fields disagree on values."""
    return f"{message_type}{pascal_case(field_name)}Value"


def qualified_name(package: str, name: str) -> str:
    return f"{package}.{name}" if package else name


def module_package(module: str) -> str:
    """`macp.modes.decision.v1.decision_pb2` -> `macp.modes.decision.v1`."""
    return module.rpartition(".")[0]


def module_basename(module: str) -> str:
    """`macp.modes.decision.v1.decision_pb2` -> `decision_pb2`."""
    return module.rpartition(".")[2]


def module_file(package: str, module: str) -> str:
    """`macp_sdk`, `modes.decision` -> `macp_sdk/modes/decision.py`."""
    return f"{package}/{module.replace('.', '/')}.py"


def session_reference(module: str, session_class: str) -> str:
    """`decision`, `DecisionSession` -> `decision:DecisionSession` (the registry's pointer)."""
    return f"{module}:{session_class}"


def constant_name(text: str) -> str:
    """`TaskRequest` -> `TASK_REQUEST`, `multi_round` -> `MULTI_ROUND`, `low` -> `LOW`."""
    return re.sub(r"\W+", "_", snake_case(text)).strip("_").upper()


def mode_id_constant(short_name: str) -> str:
    """`decision` -> `MODE_DECISION` (the name 0.22.0's constants used)."""
    return f"MODE_{constant_name(short_name)}"


def values_constant(field_name: str) -> str:
    """Allowed values of field `vote` -> `VOTE_VALUES`."""
    return f"{constant_name(field_name)}_VALUES"


def value_constant(field_name: str, value: str) -> str:
    """Allowed value `APPROVE` of field `vote` -> `VOTE_APPROVE`."""
    return f"{constant_name(field_name)}_{constant_name(value)}"


def anomaly_constant(kind: str) -> str:
    """Anomaly kind `duplicate_vote` -> `ANOMALY_DUPLICATE_VOTE`."""
    return f"ANOMALY_{constant_name(kind)}"


def facts_module(short_name: str) -> str:
    return short_name


def module_alias(module: str) -> str:
    """`macp.v1.core_pb2` -> `core_pb2`: how generated code imports a pb2 module."""
    return module.rsplit(".", 1)[-1]


def page_method(method: str) -> str:
    """The one-page variant of a paginated client method: `list_sessions_page`."""
    return f"{method}_page"


def async_class(name: str) -> str:
    """The asyncio twin of a generated class: `PolicyWatcher` -> `AsyncPolicyWatcher`."""
    return f"Async{name}"


def base_class(name: str) -> str:
    """The hand-written core base a generated class extends: `MacpClient` -> `MacpClientBase`."""
    return f"{name}Base"


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


def modes_entry_point_group(sdk_package: str) -> str:
    """The entry-point group through which installed mode packages add modes to the SDK."""
    return f"{sdk_package}.modes"


def enum_alias(python_path: str) -> str:
    """The Literal of an enum's value names: `Currency` -> `CurrencyName`,
    `BidPayload.Currency` -> `BidPayloadCurrencyName`."""
    return "".join(python_path.split(".")) + "Name"


def private_name(name: str) -> str:
    """A module-private helper behind a public name: `build_x_payload` -> `_build_x_payload`."""
    return f"_{name}"
