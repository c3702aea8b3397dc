"""Step 2: descriptors + options -> the frozen SdkModel. All naming decisions happen here."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from google.protobuf import descriptor_pb2

from . import __version__, field_types, naming, record_layout
from .core_contract import SDK_PACKAGE
from .errors import NameCollisionError, OptionError, ReservedNameError, SourceLocation
from .literals import python_literal
from .locations import (
    FIELD_OPTIONS,
    FILE_MESSAGE,
    FILE_OPTIONS,
    FILE_SYNTAX,
    MESSAGE_FIELD,
    MESSAGE_OPTIONS,
    SourceIndex,
)
from .model import (
    ActionModel,
    CorePayload,
    FieldChecks,
    FieldModel,
    ModeModel,
    OneofModel,
    SdkModel,
    Signature,
)
from .options import ActionOptions, FieldOptions, OptionReader

FDP = descriptor_pb2.FieldDescriptorProto
CORE_PACKAGE = "macp.v1"
MODES_PACKAGE = "modes"  # macp_sdk.modes: generated sessions
PROJECTIONS_PACKAGE = "projections"  # macp_sdk.projections: bases and user scaffolds
TOOLING_PACKAGES = ("macp.sdk.", "google.")
COMMITMENT = "Commitment"
DETERMINISM_CLASSES = frozenset(
    {"structural-only", "semantic-deterministic", "context-frozen", "non-deterministic"}
)
PARTICIPANT_MODELS = frozenset({"declared", "quorum", "orchestrated", "peer", "delegated"})
MODE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.v\d+$")
# Parameters every builder and session method takes besides the payload fields.
BUILDER_PARAMS = frozenset({"session_id", "sender", "auth", "message_id", "timestamp_unix_ms"})
# Attributes every decoded record carries besides the payload fields.
RECORD_ATTRS = frozenset({"sender", "message_id", "timestamp_unix_ms", "session_id"})
# Message types the core owns: a mode payload of that type would shadow the core's payload.
CORE_MESSAGE_TYPES = frozenset(
    {"SessionStart", "Commitment", "Progress", "Signal", "SessionCancel", "SessionSuspend"}
    | {"SessionResume"}
)
# The runtime reserves this id prefix for standards-track modes (RegisterExtMode refuses it).
STANDARD_ID_PREFIX = "macp.mode."

_NUMERIC = frozenset(
    {
        "double",
        "float",
        "int32",
        "int64",
        "uint32",
        "uint64",
        "sint32",
        "sint64",
        "fixed32",
        "fixed64",
        "sfixed32",
        "sfixed64",
    }
)


def build_model(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
    targets: tuple[str, ...],
    source_paths: dict[str, Path],
    reserved_session_names: frozenset[str] = frozenset(),
    sdk_package: str = SDK_PACKAGE,
) -> SdkModel:
    reader = OptionReader(descriptor_set)
    types = field_types.TypeIndex(descriptor_set)
    files = {f.name: f for f in descriptor_set.file}
    core_payloads: list[CorePayload] = []
    modes: list[ModeModel] = []
    for name in sorted(targets):
        file = files[name]
        index = SourceIndex(file, source_paths.get(name, Path(name)))
        if file.package == CORE_PACKAGE:
            core_payloads.extend(_core_payloads(file))
        elif not file.package.startswith(TOOLING_PACKAGES) and _is_mode_file(file, reader):
            modes.append(
                _build_mode(file, index, reader, reserved_session_names, types, sdk_package)
            )
    _check_mode_collisions(modes)
    return SdkModel(
        generator_version=__version__,
        sources=tuple(sorted(targets)),
        core_payloads=tuple(sorted(core_payloads, key=lambda p: p.message_type)),
        modes=tuple(sorted(modes, key=lambda m: m.id)),
        sdk_package=sdk_package,
        base_sdk_package=SDK_PACKAGE,
        entry_point_group=naming.modes_entry_point_group(SDK_PACKAGE),
    )


def _is_mode_file(file: descriptor_pb2.FileDescriptorProto, reader: OptionReader) -> bool:
    if reader.mode(file).present:
        return True
    return any(m.name.endswith("Payload") for m in file.message_type)


def _core_payloads(file: descriptor_pb2.FileDescriptorProto) -> list[CorePayload]:
    module = naming.pb2_module(file.name)
    return [
        CorePayload(naming.message_type_of(m.name), m.name, module)
        for m in file.message_type
        if m.name.endswith("Payload")
    ]


def _build_mode(
    file: descriptor_pb2.FileDescriptorProto,
    index: SourceIndex,
    reader: OptionReader,
    reserved_session_names: frozenset[str],
    types: field_types.TypeIndex,
    sdk_package: str = SDK_PACKAGE,
) -> ModeModel:
    options = reader.mode(file)
    where = index.location(FILE_OPTIONS)
    mode_id = options.id or naming.default_mode_id(file.package)
    if not MODE_ID.match(mode_id):
        raise OptionError(
            where,
            f"mode id {mode_id!r} is not of the form <name>.v<major>",
            'use e.g. "macp.mode.auction.v1" or "ext.auction.v1"',
        )
    short_name = options.short_name or naming.default_short_name(file.package)
    _check_identifier(short_name, where, "mode short_name", "set (macp.sdk.v1.mode).short_name")
    _check_choice(options.determinism_class, DETERMINISM_CLASSES, "determinism_class", where)
    _check_choice(options.participant_model, PARTICIPANT_MODELS, "participant_model", where)
    session_class = options.session_class or naming.session_class(short_name)
    _check_identifier(session_class, where, "session_class", "set (macp.sdk.v1.mode).session_class")

    pb2 = naming.pb2_module(file.name)
    context = _FieldContext(
        _literal_aliases(file, reader),
        types,
        field_types.ModuleAliases(file.name, naming.module_basename(pb2)),
    )
    actions = _build_actions(file, index, reader, reserved_session_names, context)
    message_types = [a.message_type for a in actions]
    if not actions:
        raise OptionError(
            where if options.present else index.location(FILE_SYNTAX),
            f"mode {mode_id!r} in {file.name} defines no payload messages",
            "add a message named <Type>Payload, or mark one with (macp.sdk.v1.action)",
        )
    terminal = options.terminal_message_types or (COMMITMENT,)
    for terminal_type in terminal:
        # The runtime ends a session only on Commitment (runtime-behavior.md): any other
        # terminal type would be advertised but never end a session.
        if terminal_type != COMMITMENT:
            raise OptionError(
                where,
                f"terminal message type {terminal_type!r} is not accepted by the runtime, "
                f"which ends sessions only on {COMMITMENT!r}",
                f'set terminal_message_types: ["{COMMITMENT}"] or leave it out',
            )
    standard = (
        options.standard if options.standard is not None else mode_id.startswith(STANDARD_ID_PREFIX)
    )
    if not standard and mode_id.startswith(STANDARD_ID_PREFIX):
        raise OptionError(
            where,
            f"mode id {mode_id!r} is an extension mode, but the runtime reserves "
            f"{STANDARD_ID_PREFIX}* for standards-track modes and refuses to register it",
            f'set (macp.sdk.v1.mode).id to "ext.{short_name}.{mode_id.rsplit(".", 1)[-1]}"',
        )
    module = naming.mode_module(short_name)
    base_module = naming.projection_base_module(short_name)
    session_module = naming.qualified_name(MODES_PACKAGE, module)
    projection_module = naming.qualified_name(PROJECTIONS_PACKAGE, module)
    mode = ModeModel(
        id=mode_id,
        short_name=short_name,
        version=options.version or "1.0.0",
        title=options.title or naming.pascal_case(short_name),
        description=options.description or index.comment(FILE_SYNTAX),
        determinism_class=options.determinism_class,
        participant_model=options.participant_model,
        terminal_message_types=tuple(terminal),
        message_types=_flow(message_types, terminal),
        standard=standard,
        package=file.package,
        proto_file=file.name,
        pb2_module=pb2,
        pb2_package=naming.module_package(pb2),
        pb2_alias=naming.module_basename(pb2),
        module=module,
        session_path=naming.module_file(sdk_package, session_module),
        base_path=naming.module_file(
            sdk_package, naming.qualified_name(PROJECTIONS_PACKAGE, base_module)
        ),
        scaffold_path=naming.module_file(sdk_package, projection_module),
        session_module=session_module,
        projection_module=projection_module,
        session_class=session_class,
        session_reference=naming.session_reference(module, session_class),
        async_session_class=naming.async_session_class(session_class),
        projection_class=naming.projection_class(short_name),
        projection_base_class=naming.projection_base_class(short_name),
        projection_accessor=naming.projection_accessor(short_name),
        actions=actions,
        literal_aliases=tuple(sorted(set(context.literals.values()))),
        field_checks=tuple((name, source) for source, name in context.field_checks.items()),
        enum_aliases=_enum_aliases(actions),
        pb2_imports=context.modules.imports(file.name),
        records_union=naming.records_union(short_name),
        base_module=base_module,
        doc=index.comment(FILE_SYNTAX),
        location=index.location(FILE_SYNTAX),
        compat_names=options.compat_names,
        options_location=where,
    )
    _check_module_names(mode)
    return mode


def _check_module_names(mode: ModeModel) -> None:
    """Every top-level name the mode's generated modules define must be distinct."""
    claimed: dict[str, str] = {}

    def claim(name: str, source: str) -> None:
        if name in claimed and claimed[name] != source:
            raise NameCollisionError(
                mode.location,
                f"generated name {name!r} would come from both {claimed[name]} and {source}",
                "rename one with (macp.sdk.v1.mode).session_class or (macp.sdk.v1.action).method",
            )
        claimed[name] = source

    for name, source in (
        (mode.session_class, "the session class"),
        (mode.async_session_class, "the async session class"),
        (mode.projection_class, "the projection class"),
        (mode.projection_base_class, "the projection base class"),
        (mode.records_union, "the record union alias"),
        ("MODE", "the mode id constant"),
        ("MODE_VERSION", "the mode version constant"),
    ):
        claim(name, source)
    for alias, _ in mode.literal_aliases:
        claim(alias, f"allowed values {alias}")
    for alias, _ in mode.enum_aliases:
        claim(alias, f"the value names of enum {alias.removesuffix('Name')}")
    for _, _, alias in mode.pb2_imports:
        claim(alias, f"the protobuf module {alias}")
    for action in mode.actions:
        origin = f"{action.message_name} ({action.location})"
        for name in {
            action.record_class,
            action.builder,
            action.payload_builder,
            action.payload_impl,
        }:
            claim(name, origin)


def _flow(message_types: list[str], terminal: Iterable[str]) -> tuple[str, ...]:
    flow = ["SessionStart", *message_types]
    flow.extend(t for t in terminal if t not in flow)
    return tuple(flow)


def _build_actions(
    file: descriptor_pb2.FileDescriptorProto,
    index: SourceIndex,
    reader: OptionReader,
    reserved_session_names: frozenset[str],
    context: _FieldContext,
) -> tuple[ActionModel, ...]:
    actions: list[ActionModel] = []
    seen_types: dict[str, ActionModel] = {}
    seen_methods: dict[str, ActionModel] = {}
    for message_index, message in enumerate(file.message_type):
        options = reader.action(message)
        if options.skip or (not options.present and not message.name.endswith("Payload")):
            continue
        action = _build_action(file, message, message_index, index, reader, options, context)
        where = action.location
        if action.message_type in seen_types:
            other = seen_types[action.message_type]
            raise NameCollisionError(
                where,
                f"message_type {action.message_type!r} is produced by both "
                f"{other.message_name} ({other.location}) and {action.message_name}",
                "set a distinct (macp.sdk.v1.action).message_type",
            )
        seen_types[action.message_type] = action
        if action.message_type in CORE_MESSAGE_TYPES:
            raise ReservedNameError(
                where,
                f"{action.message_name} would carry message_type {action.message_type!r}, "
                "which the core protocol already defines",
                "rename the message or set (macp.sdk.v1.action).message_type",
            )
        for name in (action.method, *action.aliases):
            if name in reserved_session_names:
                raise ReservedNameError(
                    where,
                    f"session method {name!r} for {action.message_name} would shadow the base "
                    "session's own member of that name",
                    "set (macp.sdk.v1.action).method to another name",
                )
            if name in seen_methods:
                other = seen_methods[name]
                raise NameCollisionError(
                    where,
                    f"session method {name!r} is produced by both {other.message_name} "
                    f"({other.location}) and {action.message_name}",
                    "set a distinct (macp.sdk.v1.action).method or alias",
                )
            seen_methods[name] = action
        actions.append(action)
    _check_references(actions)
    return tuple(actions)


def _check_references(actions: list[ActionModel]) -> None:
    """A `references` option must name a message type of the same mode (or Commitment)."""
    known = {a.message_type for a in actions}
    for action in actions:
        for f in action.fields:
            if f.references and f.references not in known:
                raise OptionError(
                    f.location,
                    f"field {action.message_name}.{f.name} references {f.references!r}, "
                    "which is not a message type of this mode",
                    f"use one of {', '.join(sorted(known))}",
                )


def _build_action(
    file: descriptor_pb2.FileDescriptorProto,
    message: descriptor_pb2.DescriptorProto,
    message_index: int,
    index: SourceIndex,
    reader: OptionReader,
    options: ActionOptions,
    context: _FieldContext,
) -> ActionModel:
    path = (FILE_MESSAGE, message_index)
    where = index.location(*path)
    option_where = index.location(*path, MESSAGE_OPTIONS)
    message_type = options.message_type or naming.message_type_of(message.name)
    method = options.method or naming.snake_case(message_type)
    for name in (method, *options.aliases):
        _check_identifier(name, option_where, "session method", "set (macp.sdk.v1.action).method")
    fields = tuple(
        _build_field(
            message,
            i,
            proto_field,
            index,
            path,
            reader.field(proto_field),
            context,
        )
        for i, proto_field in enumerate(message.field)
    )
    by_name = {f.name: f for f in fields}
    _check_params_unique(fields, where, message.name)
    _check_generated_locals(
        fields, message.name, naming.module_basename(naming.pb2_module(file.name))
    )
    subject = options.subject_field or (
        fields[0].name
        if fields and fields[0].name.endswith("_id") and fields[0].kind == "scalar"
        else ""
    )
    if subject and subject not in by_name:
        raise OptionError(
            option_where,
            f"subject_field {subject!r} is not a field of {message.name}",
            f"use one of {', '.join(by_name) or '(no fields)'}",
        )
    if subject and (
        by_name[subject].kind != "scalar" or by_name[subject].repeated or by_name[subject].presence
    ):
        # Records are grouped by the subject's value, so it must be a plain value, never None.
        raise OptionError(
            option_where,
            f"subject_field {subject!r} of {message.name} is not a singular scalar field "
            "(outside oneofs, not optional)",
            "pick a string or number field as the subject",
        )
    positional_names = options.positional or ((subject,) if subject else ())
    for name in positional_names:
        if name not in by_name or by_name[name].hidden or by_name[name].oneof:
            raise OptionError(
                option_where,
                f"positional field {name!r} is not a settable field of {message.name} "
                "outside a oneof",
                f"use one of {', '.join(f.name for f in fields if not f.hidden and not f.oneof)}",
            )
    positional = tuple(by_name[n] for n in positional_names)
    keyword = tuple(f for f in fields if f.name not in positional_names and not f.hidden)
    oneofs = _oneofs(message, fields)
    payload_builder = naming.payload_builder_function(method)
    layout = record_layout.record_fields(
        fields, oneofs, options.record_fields, message.name, option_where
    )
    return ActionModel(
        message_type=message_type,
        message_name=message.name,
        full_name=naming.qualified_name(file.package, message.name),
        method=method,
        aliases=options.aliases,
        builder=naming.builder_function(method),
        payload_builder=payload_builder,
        record_class=naming.record_class(message_type),
        hook=naming.hook_method(method),
        apply_method=naming.apply_method(method),
        records_attr=naming.records_attribute(message_type),
        senders=options.senders,
        sender_phrases=options.sender_phrases,
        subject_field=subject,
        fields=fields,
        positional=positional,
        keyword=keyword,
        oneofs=oneofs,
        overloads=_overloads(positional, keyword, tuple(f for f in fields if not f.hidden), oneofs),
        payload_impl=naming.private_name(payload_builder) if oneofs else payload_builder,
        doc=index.comment(*path),
        location=where,
        record_fields=layout,
        record_aliases=record_layout.record_aliases(
            options.record_aliases,
            layout,
            naming.record_class(message_type),
            message.name,
            option_where,
        ),
    )


@dataclass(frozen=True)
class _FieldContext:
    """What field modelling needs from the file and descriptor set around it."""

    literals: dict[tuple[str, str], tuple[str, tuple[str, ...]]]  # (message, field) -> alias
    types: field_types.TypeIndex
    modules: field_types.ModuleAliases
    # The mode module's bound field checks, filled while its fields are modelled:
    # `field_check(...)` source -> module-level name (one per distinct check).
    field_checks: dict[str, str] = field(default_factory=dict)


def _field_check_call(context: _FieldContext, param: str, definition: str) -> str:
    """The check a builder runs on {v}: a call of the mode's bound check, or PLACEHOLDER."""
    if not definition:
        return field_types.PLACEHOLDER
    name = context.field_checks.get(definition)
    if name is None:
        name = naming.field_check_name(param, context.field_checks.values())
        context.field_checks[definition] = name
    return f"{name}({field_types.PLACEHOLDER})"


def _build_field(
    message: descriptor_pb2.DescriptorProto,
    field_index: int,
    proto_field: descriptor_pb2.FieldDescriptorProto,
    index: SourceIndex,
    message_path: tuple[int, ...],
    options: FieldOptions,
    context: _FieldContext,
) -> FieldModel:
    path = (*message_path, MESSAGE_FIELD, field_index)
    where = index.location(*path)
    option_where = index.location(*path, FIELD_OPTIONS)
    param = options.param_name or proto_field.name
    if naming.is_reserved(param) or not param.isidentifier():
        raise ReservedNameError(
            where,
            f"field {message.name}.{proto_field.name} would become the parameter {param!r}, "
            "which is a Python keyword or not an identifier",
            f'set [(macp.sdk.v1.field) = {{param_name: "{param}_value"}}] or rename the field',
        )
    if param in BUILDER_PARAMS or proto_field.name in RECORD_ATTRS:
        raise ReservedNameError(
            where,
            f"field {message.name}.{proto_field.name} would become the parameter {param!r}, "
            "which every builder already takes",
            f'set [(macp.sdk.v1.field) = {{param_name: "{param}_field"}}]',
        )
    oneof = _real_oneof(message, proto_field)
    literal_alias, _ = context.literals.get((message.name, proto_field.name), ("", ()))
    is_scalar = proto_field.type in field_types.SCALARS
    is_repeated = proto_field.label == FDP.LABEL_REPEATED  # maps too
    scalar_type = field_types.SCALARS[proto_field.type][0] if is_scalar else ""
    _check_field_options(
        options,
        scalar_type,
        is_repeated,
        option_where,
        proto_field.name,
    )
    # Client-side checks apply to singular scalars; elsewhere `required` only means "no default".
    shape = field_types.shape_field(
        proto_field,
        context.types,
        context.modules,
        param,
        in_oneof=bool(oneof),
        literal_alias=literal_alias,
        checked_call=_field_check_call(
            context,
            param,
            field_types.check_definition(
                param,
                required=options.required and is_scalar and not is_repeated,
                allowed=options.allowed,
                normalize=options.normalize,
                minimum=options.minimum,
                maximum=options.maximum,
            )
            if is_scalar
            else "",
        ),
    )
    repeated = proto_field.label == FDP.LABEL_REPEATED and shape.kind != "map"
    if oneof and (options.hidden or options.from_sender):
        raise OptionError(
            option_where,
            f"field {proto_field.name!r} is a member of oneof {oneof!r}, so it cannot be "
            "hidden or filled from the sender",
            "drop the option or move the field out of the oneof",
        )
    if shape.presence and options.from_sender:
        raise OptionError(
            option_where,
            f"field {proto_field.name!r} tracks presence, so from_sender would always set it",
            "drop from_sender or make the field a plain string",
        )
    default = shape.default
    if options.default_string:
        default = python_literal(options.default_string)
    # A required value or one from a closed set has no sensible default: callers pass it.
    # A oneof member never has one here: its group's overloads say which member is required.
    no_default = not oneof and (
        options.no_default
        or options.required
        or bool(literal_alias and not options.default_string and not shape.presence)
    )
    return FieldModel(
        name=proto_field.name,
        param=param,
        number=proto_field.number,
        proto_type=shape.proto_type,
        kind=shape.kind,
        annotation=shape.bare_annotation if no_default else shape.annotation,
        bare_annotation=shape.bare_annotation,
        record_annotation=shape.record_annotation,
        # What an unset field decodes to (a map's default is a fresh dict per record).
        record_default=(
            "dataclasses.field(default_factory=dict)" if shape.kind == "map" else shape.default
        ),
        repeated=repeated,
        presence=shape.presence,
        oneof=oneof,
        build_value=shape.build_value,
        decode_value=shape.decode_value,
        set_member=shape.set_member,
        enums=tuple((e.name, e.values) for e in shape.enums),
        required=options.required,
        no_default=no_default,
        default=default,
        allowed=options.allowed,
        normalize=options.normalize,
        minimum=options.minimum,
        maximum=options.maximum,
        from_sender=options.from_sender,
        hidden=options.hidden,
        references=options.references,
        literal_alias=literal_alias,
        checks=FieldChecks(
            required=options.required and is_scalar and not is_repeated,
            allowed=options.allowed,
            normalize=options.normalize,
            minimum=options.minimum,
            maximum=options.maximum,
        ),
        doc=index.comment(*path),
        location=where,
    )


def _real_oneof(
    message: descriptor_pb2.DescriptorProto, proto_field: descriptor_pb2.FieldDescriptorProto
) -> str:
    """The oneof a field belongs to, "" for none or for proto3 `optional` (a synthetic one)."""
    if not proto_field.HasField("oneof_index") or proto_field.proto3_optional:
        return ""
    return message.oneof_decl[proto_field.oneof_index].name


def _oneofs(
    message: descriptor_pb2.DescriptorProto, fields: tuple[FieldModel, ...]
) -> tuple[OneofModel, ...]:
    groups: dict[str, list[FieldModel]] = {}
    for f in fields:
        if f.oneof:
            groups.setdefault(f.oneof, []).append(f)
    for name, members in groups.items():
        if name in RECORD_ATTRS or name in BUILDER_PARAMS or not naming.is_identifier(name):
            raise ReservedNameError(
                members[0].location,
                f"oneof {message.name}.{name} would become a record attribute {name!r}, which "
                "every record already has or which is not an identifier",
                "rename the oneof",
            )
    return tuple(OneofModel(name, tuple(members)) for name, members in groups.items())


def _overloads(
    positional: tuple[FieldModel, ...],
    keyword: tuple[FieldModel, ...],
    settable: tuple[FieldModel, ...],
    oneofs: tuple[OneofModel, ...],
) -> tuple[Signature, ...]:
    """One signature per choice of a member in each oneof: that member required, the others
    of its group absent, so passing two members of a group matches no overload."""
    if not oneofs:
        return ()
    signatures = []
    for choice in itertools.product(*(group.members for group in oneofs)):
        chosen = {f.name for f in choice}

        def pick(
            fields: tuple[FieldModel, ...], chosen: set[str] = chosen
        ) -> tuple[FieldModel, ...]:
            return tuple(
                replace(f, annotation=f.bare_annotation, no_default=True) if f.name in chosen else f
                for f in fields
                if not f.oneof or f.name in chosen
            )

        signatures.append(Signature(positional, pick(keyword), pick(settable)))
    return tuple(signatures)


def _enum_aliases(
    actions: tuple[ActionModel, ...],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The Literal alias of every enum a payload uses, each name once."""
    found: dict[str, tuple[str, ...]] = {}
    for action in actions:
        for f in action.fields:
            for name, values in f.enums:
                if found.get(name, values) != values:
                    raise NameCollisionError(
                        f.location,
                        f"two enums used by this mode would both be named {name}",
                        "rename one of the enums",
                    )
                found[name] = values
    return tuple(sorted(found.items()))


def _check_field_options(
    options: FieldOptions, proto_type: str, repeated: bool, where: SourceLocation, name: str
) -> None:
    string_only = [
        key
        for key in ("allowed", "normalize", "default_string", "from_sender")
        if key in options.present
    ]
    if string_only and (proto_type != "string" or repeated):
        raise OptionError(
            where,
            f"option(s) {', '.join(string_only)} on field {name!r} need a singular string field",
            "remove them or change the field type",
        )
    ranged = [key for key in ("min", "max") if key in options.present]
    if ranged and (proto_type not in _NUMERIC or repeated):
        raise OptionError(
            where,
            f"option(s) {', '.join(ranged)} on field {name!r} need a singular numeric field",
            "remove them or change the field type",
        )
    if options.hidden and (options.required or options.no_default):
        raise OptionError(
            where, f"field {name!r} is hidden, so it cannot be required", "drop one of the two"
        )
    bounds = [b for b in (options.minimum, options.maximum) if b is not None]
    if not all(math.isfinite(b) for b in bounds):
        raise OptionError(
            where, f"field {name!r} has a bound that is not a finite number", "use finite min/max"
        )
    if (
        options.minimum is not None
        and options.maximum is not None
        and options.minimum > options.maximum
    ):
        raise OptionError(where, f"field {name!r} has min > max", "swap or fix the bounds")


def _literal_values(options: FieldOptions) -> tuple[str, ...]:
    if not options.allowed:
        return ()
    values = list(options.allowed)
    variants = {
        "upper": [v.lower() for v in options.allowed],
        "lower": [v.upper() for v in options.allowed],
    }.get(options.normalize, [])
    values.extend(v for v in variants if v not in values)
    return tuple(values)


def _literal_aliases(
    file: descriptor_pb2.FileDescriptorProto, reader: OptionReader
) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """Names each allowed-value set `<Field>Value`, qualified by message type on a conflict.

    Keyed by (message name, field name); computed before any model object exists so the
    model can stay frozen.
    """
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for message in file.message_type:
        for proto_field in message.field:
            values = _literal_values(reader.field(proto_field))
            if values:
                found.append((message.name, proto_field.name, values))
    value_sets: dict[str, set[tuple[str, ...]]] = {}
    for _, field_name, values in found:
        value_sets.setdefault(naming.literal_alias(field_name), set()).add(values)
    result: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for message_name, field_name, values in found:
        unique = len(value_sets[naming.literal_alias(field_name)]) == 1
        qualifier = "" if unique else naming.message_type_of(message_name)
        name = naming.literal_alias(field_name, qualifier)
        result[(message_name, field_name)] = (name, values)
    return result


def _check_generated_locals(fields: tuple[FieldModel, ...], msg: str, pb2_alias: str) -> None:
    """A parameter may not shadow a name the generated builders and methods use."""
    for f in fields:
        if (
            f.param in naming.GENERATED_LOCALS
            or f.param.startswith(naming.FIELD_CHECK_PREFIX)
            or f.param == pb2_alias
        ):
            raise ReservedNameError(
                f.location,
                f"field {msg}.{f.name} would become the parameter {f.param!r}, a name the "
                "generated code relies on",
                f'set [(macp.sdk.v1.field) = {{param_name: "{f.param}_value"}}] or rename it',
            )


def _check_params_unique(fields: tuple[FieldModel, ...], where: SourceLocation, msg: str) -> None:
    seen: dict[str, FieldModel] = {}
    for f in fields:
        if f.param in seen:
            raise NameCollisionError(
                f.location,
                f"parameter {f.param!r} of {msg} comes from both field {seen[f.param].name!r} "
                f"({seen[f.param].location}) and field {f.name!r}",
                "set a distinct (macp.sdk.v1.field).param_name",
            )
        seen[f.param] = f


def _check_identifier(name: str, where: SourceLocation, what: str, hint: str) -> None:
    if not naming.is_identifier(name):
        raise ReservedNameError(
            where, f"{what} {name!r} is a Python keyword or not a valid identifier", hint
        )


def _check_choice(value: str, allowed: frozenset[str], what: str, where: SourceLocation) -> None:
    if value and value not in allowed:
        raise OptionError(
            where,
            f"unknown {what} {value!r}",
            f"use one of {', '.join(sorted(allowed))}",
        )


def _check_mode_collisions(modes: list[ModeModel]) -> None:
    claimed: dict[tuple[str, str], ModeModel] = {}
    for mode in modes:
        names = {
            ("mode id", mode.id),
            ("module", mode.module),
            ("class", mode.session_class),
            ("class", mode.projection_class),
        }
        for key in sorted(names):
            if key in claimed:
                other = claimed[key]
                raise NameCollisionError(
                    mode.location,
                    f"{key[0]} {key[1]!r} is produced by both {other.proto_file} "
                    f"({other.location}) and {mode.proto_file}",
                    "set a distinct (macp.sdk.v1.mode).short_name, session_class or id",
                )
            claimed[key] = mode
