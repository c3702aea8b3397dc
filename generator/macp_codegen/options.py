"""Reads this project's custom options (macp_codegen/proto/.../options.proto) from descriptors.

The options are decoded through a private descriptor pool built from the compiled set, so the
generator never imports its own generated code. Absent options decode as empty values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

OPTIONS_PACKAGE = "macp.sdk.v1"
# Enum values are named <PREFIX>_<NAME>; the generator uses NAME in lower case. The role names
# and their phrases (each value's trailing comment) are read from options.proto itself.
_ENUM_PREFIXES = {"Case": "CASE_", "SenderRole": "SENDER_ROLE_"}
_ENUM_TYPE_FIELD, _ENUM_VALUE_FIELD = (
    5,
    2,
)  # FileDescriptorProto.enum_type, EnumDescriptorProto.value


@dataclass(frozen=True)
class ModeOptions:
    id: str = ""
    short_name: str = ""
    version: str = ""
    title: str = ""
    description: str = ""
    determinism_class: str = ""
    participant_model: str = ""
    terminal_message_types: tuple[str, ...] = ()
    session_class: str = ""
    standard: bool | None = None
    schema_uris: tuple[tuple[str, str], ...] = ()
    registry_position: int = 0
    anomaly_kinds: tuple[str, ...] = ()
    compat_names: tuple[tuple[str, str], ...] = ()
    present: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ActionOptions:
    message_type: str = ""
    method: str = ""
    aliases: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    sender_phrases: tuple[str, ...] = ()  # one per sender, from options.proto's comments
    subject_field: str = ""
    positional: tuple[str, ...] = ()
    skip: bool = False
    record_fields: tuple[str, ...] = ()
    record_aliases: tuple[tuple[str, str], ...] = ()
    present: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FieldOptions:
    required: bool = False
    no_default: bool = False
    allowed: tuple[str, ...] = ()
    normalize: str = ""
    minimum: float | None = None
    maximum: float | None = None
    from_sender: bool = False
    hidden: bool = False
    param_name: str = ""
    default_string: str = ""
    references: str = ""
    none_default: bool = False
    present: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class RpcOptions:
    method: str = ""
    auth_required: bool = False
    capability: str = ""
    ack_field: str = ""
    page_items: str = ""
    positional: tuple[str, ...] = ()
    watcher_class: str = ""
    watcher_base: str = ""
    request_check: str = ""
    response_adapter: str = ""
    unsent_params: tuple[str, ...] = ()
    present: frozenset[str] = field(default_factory=frozenset)


class OptionReader:
    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        pool = descriptor_pool.DescriptorPool()
        for file in descriptor_set.file:
            pool.Add(file)
        self._enabled = any(f.package == OPTIONS_PACKAGE for f in descriptor_set.file)
        if not self._enabled:
            return
        self._enums = _enum_names(descriptor_set)
        self._file_options = _options_class(pool, "FileOptions")
        self._message_options = _options_class(pool, "MessageOptions")
        self._field_options = _options_class(pool, "FieldOptions")
        self._method_options = _options_class(pool, "MethodOptions")
        self._mode = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.mode")
        self._action = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.action")
        self._field = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.field")
        self._rpc = pool.FindExtensionByName(f"{OPTIONS_PACKAGE}.rpc")

    def mode(self, file: descriptor_pb2.FileDescriptorProto) -> ModeOptions:
        spec = self._extension(self._file_options if self._enabled else None, file.options, "mode")
        if spec is None:
            return ModeOptions()
        return ModeOptions(
            id=spec.id,
            short_name=spec.short_name,
            version=spec.version,
            title=spec.title,
            description=spec.description,
            determinism_class=spec.determinism_class,
            participant_model=spec.participant_model,
            terminal_message_types=tuple(spec.terminal_message_types),
            session_class=spec.session_class,
            standard=spec.standard if spec.HasField("standard") else None,
            schema_uris=tuple(sorted(spec.schema_uris.items())),
            registry_position=spec.registry_position,
            anomaly_kinds=tuple(spec.anomaly_kinds),
            compat_names=tuple(sorted(spec.compat_names.items())),
            present=_present(spec),
        )

    def action(self, message: descriptor_pb2.DescriptorProto) -> ActionOptions:
        options_class = self._message_options if self._enabled else None
        spec = self._extension(options_class, message.options, "action")
        if spec is None:
            return ActionOptions()
        return ActionOptions(
            message_type=spec.message_type,
            method=spec.method,
            aliases=tuple(spec.aliases),
            senders=tuple(self._enum_value("SenderRole", role)[0] for role in spec.senders),
            sender_phrases=tuple(self._enum_value("SenderRole", role)[1] for role in spec.senders),
            subject_field=spec.subject_field,
            positional=tuple(spec.positional),
            skip=spec.skip,
            record_fields=tuple(spec.record_fields),
            record_aliases=tuple(sorted(spec.record_aliases.items())),
            present=_present(spec),
        )

    def field(self, proto_field: descriptor_pb2.FieldDescriptorProto) -> FieldOptions:
        options_class = self._field_options if self._enabled else None
        spec = self._extension(options_class, proto_field.options, "field")
        if spec is None:
            return FieldOptions()
        return FieldOptions(
            required=spec.required,
            no_default=spec.no_default,
            allowed=tuple(spec.allowed),
            normalize=self._enum_value("Case", spec.normalize)[0] if spec.normalize else "",
            minimum=spec.min if spec.HasField("min") else None,
            maximum=spec.max if spec.HasField("max") else None,
            from_sender=spec.from_sender,
            hidden=spec.hidden,
            param_name=spec.param_name,
            default_string=spec.default_string,
            references=spec.references,
            none_default=spec.none_default,
            present=_present(spec),
        )

    def rpc(self, method: descriptor_pb2.MethodDescriptorProto) -> RpcOptions:
        options_class = self._method_options if self._enabled else None
        spec = self._extension(options_class, method.options, "rpc")
        if spec is None:
            return RpcOptions()
        return RpcOptions(
            method=spec.method,
            auth_required=spec.auth_required,
            capability=spec.capability,
            request_check=spec.request_check,
            response_adapter=spec.response_adapter,
            ack_field=spec.ack_field,
            page_items=spec.page_items,
            positional=tuple(spec.positional),
            unsent_params=tuple(spec.unsent_params),
            watcher_class=spec.watcher.class_name,
            watcher_base=spec.watcher.base,
            present=_present(spec),
        )

    def _enum_value(self, enum: str, number: int) -> tuple[str, str]:
        """(name, phrase) of an enum value of options.proto."""
        return self._enums.get((enum, number), (str(number), str(number)))

    def _extension(self, options_class: Any, options: Any, which: str) -> Any:
        if options_class is None or not options.ByteSize():
            return None
        decoded = options_class.FromString(options.SerializeToString())
        extension = getattr(self, f"_{which}")
        if not decoded.HasExtension(extension):
            return None
        return decoded.Extensions[extension]


def _options_class(pool: descriptor_pool.DescriptorPool, name: str) -> Any:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"google.protobuf.{name}"))


def _present(spec: Any) -> frozenset[str]:
    return frozenset(descriptor.name for descriptor, _ in spec.ListFields())


def _enum_names(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
) -> dict[tuple[str, int], tuple[str, str]]:
    """(enum, number) -> (name without prefix, lower case; trailing comment of the value)."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for file in descriptor_set.file:
        if file.package != OPTIONS_PACKAGE:
            continue
        comments = {
            tuple(loc.path): loc.trailing_comments.strip()
            for loc in file.source_code_info.location
            if loc.trailing_comments
        }
        for enum_index, enum in enumerate(file.enum_type):
            prefix = _ENUM_PREFIXES.get(enum.name, "")
            for value_index, value in enumerate(enum.value):
                name = value.name.removeprefix(prefix).lower()
                path = (_ENUM_TYPE_FIELD, enum_index, _ENUM_VALUE_FIELD, value_index)
                found[(enum.name, value.number)] = (
                    name,
                    comments.get(path) or name.replace("_", " "),
                )
    return found
