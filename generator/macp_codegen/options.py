"""Reads this project's custom options (proto/macp/sdk/v1/options.proto) out of descriptors.

The options are decoded through a private descriptor pool built from the compiled set, so the
generator never imports its own generated code. Absent options decode as empty values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

OPTIONS_PACKAGE = "macp.sdk.v1"
CASES = {0: "", 1: "upper", 2: "lower"}
SENDER_ROLES = {
    1: "initiator",
    2: "participant",
    3: "requested_assignee",
    4: "active_assignee",
    5: "offer_target",
    6: "proposal_author",
    7: "owner",
}


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
    present: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ActionOptions:
    message_type: str = ""
    method: str = ""
    aliases: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    subject_field: str = ""
    positional: tuple[str, ...] = ()
    skip: bool = False
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
    present: frozenset[str] = field(default_factory=frozenset)


class OptionReader:
    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        pool = descriptor_pool.DescriptorPool()
        for file in descriptor_set.file:
            pool.Add(file)
        self._enabled = any(f.package == OPTIONS_PACKAGE for f in descriptor_set.file)
        if not self._enabled:
            return
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
            senders=tuple(SENDER_ROLES.get(role, str(role)) for role in spec.senders),
            subject_field=spec.subject_field,
            positional=tuple(spec.positional),
            skip=spec.skip,
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
            normalize=CASES.get(spec.normalize, ""),
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
            ack_field=spec.ack_field,
            page_items=spec.page_items,
            positional=tuple(spec.positional),
            watcher_class=spec.watcher.class_name,
            watcher_base=spec.watcher.base,
            present=_present(spec),
        )

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
