"""How each proto3 field type of a payload becomes Python: parameter and record types and the
expressions that convert between them and protobuf.

Scalars and bytes pass through; enums are typed as a Literal of their value names (or the
protobuf value); messages (nested or imported) as their generated class; `Timestamp`,
`Duration`, `Struct`, `Any` and the wrapper types as the Python value they stand for. The
conversions live in the core (`macp_core._wkt`, `macp_core._enums`); this module only decides
which one a field needs, as Python source with a `{v}` placeholder for the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from . import naming
from .literals import python_literal

FDP = descriptor_pb2.FieldDescriptorProto
PLACEHOLDER = "{v}"

SCALARS: dict[int, tuple[str, str, str]] = {
    # proto type -> (name, annotation, default literal)
    FDP.TYPE_STRING: ("string", "str", '""'),
    FDP.TYPE_BYTES: ("bytes", "bytes", 'b""'),
    FDP.TYPE_BOOL: ("bool", "bool", "False"),
    FDP.TYPE_DOUBLE: ("double", "float", "0.0"),
    FDP.TYPE_FLOAT: ("float", "float", "0.0"),
    FDP.TYPE_INT32: ("int32", "int", "0"),
    FDP.TYPE_INT64: ("int64", "int", "0"),
    FDP.TYPE_UINT32: ("uint32", "int", "0"),
    FDP.TYPE_UINT64: ("uint64", "int", "0"),
    FDP.TYPE_SINT32: ("sint32", "int", "0"),
    FDP.TYPE_SINT64: ("sint64", "int", "0"),
    FDP.TYPE_FIXED32: ("fixed32", "int", "0"),
    FDP.TYPE_FIXED64: ("fixed64", "int", "0"),
    FDP.TYPE_SFIXED32: ("sfixed32", "int", "0"),
    FDP.TYPE_SFIXED64: ("sfixed64", "int", "0"),
}

# Well-known types with a natural Python value: (kind, parameter type, record type,
# to-protobuf, from-protobuf). `{n}` is the parameter name as a string literal.
_WELL_KNOWN: dict[str, tuple[str, str, str, str, str]] = {
    "google.protobuf.Timestamp": (
        "timestamp",
        "datetime",
        "datetime",
        "to_timestamp({n}, {v})",
        "from_timestamp({v})",
    ),
    "google.protobuf.Duration": (
        "duration",
        "timedelta",
        "timedelta",
        "to_duration({v})",
        "from_duration({v})",
    ),
    "google.protobuf.Struct": (
        "struct",
        "Mapping[str, object]",
        "dict[str, Any]",
        "to_struct({n}, {v})",
        "from_struct({v})",
    ),
    "google.protobuf.Any": ("any", "Message", "any_pb2.Any", "to_any({v})", "{v}"),
}
_WRAPPERS = {
    "DoubleValue": "float",
    "FloatValue": "float",
    "Int64Value": "int",
    "UInt64Value": "int",
    "Int32Value": "int",
    "UInt32Value": "int",
    "BoolValue": "bool",
    "StringValue": "str",
    "BytesValue": "bytes",
}
# Names the generated modules import for conversions; a proto module may not take them.
RESERVED_MODULE_ALIASES = frozenset({"core_pb2", "envelope_pb2", "any_pb2", "wrappers_pb2"})


@dataclass(frozen=True)
class TypeEntry:
    """A message or enum of the descriptor set, with where its Python class lives."""

    full_name: str
    proto_file: str
    python_path: str  # e.g. "BidPayload.Money" inside the file's pb2 module
    message: descriptor_pb2.DescriptorProto | None
    enum: descriptor_pb2.EnumDescriptorProto | None


class TypeIndex:
    """Every message and enum of a descriptor set, by full name."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.entries: dict[str, TypeEntry] = {}
        for file in descriptor_set.file:
            for message in file.message_type:
                self._add_message(file, message, file.package, "")
            for enum in file.enum_type:
                self._add_enum(file, enum, file.package, "")

    def _add_message(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        message: descriptor_pb2.DescriptorProto,
        scope: str,
        path: str,
    ) -> None:
        full = naming.qualified_name(scope, message.name)
        python_path = f"{path}.{message.name}" if path else message.name
        self.entries[full] = TypeEntry(full, file.name, python_path, message, None)
        for nested in message.nested_type:
            self._add_message(file, nested, full, python_path)
        for enum in message.enum_type:
            self._add_enum(file, enum, full, python_path)

    def _add_enum(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        enum: descriptor_pb2.EnumDescriptorProto,
        scope: str,
        path: str,
    ) -> None:
        full = naming.qualified_name(scope, enum.name)
        python_path = f"{path}.{enum.name}" if path else enum.name
        self.entries[full] = TypeEntry(full, file.name, python_path, None, enum)

    def get(self, type_name: str) -> TypeEntry:
        return self.entries[type_name.lstrip(".")]


class ModuleAliases:
    """Which name a mode's generated modules import each pb2 module under (stable, unique)."""

    def __init__(self, own_file: str, own_alias: str) -> None:
        self._by_file: dict[str, str] = {own_file: own_alias}
        self._taken = {own_alias, *RESERVED_MODULE_ALIASES}

    def alias(self, proto_file: str) -> str:
        if proto_file not in self._by_file:
            module = naming.pb2_module(proto_file)
            alias = naming.module_alias(module)
            if alias in self._taken:
                alias = module.replace(".", "_")
            self._by_file[proto_file] = alias
            self._taken.add(alias)
        return self._by_file[proto_file]

    def imports(self, own_file: str) -> tuple[tuple[str, str, str], ...]:
        """(package, module basename, alias) of each pb2 module other than the mode's own."""
        result = []
        for proto_file, alias in sorted(self._by_file.items()):
            if proto_file == own_file:
                continue
            module = naming.pb2_module(proto_file)
            result.append((naming.module_package(module), naming.module_basename(module), alias))
        return tuple(result)


@dataclass(frozen=True)
class EnumAlias:
    name: str  # e.g. CurrencyName
    values: tuple[str, ...]


@dataclass(frozen=True)
class ValueType:
    """One value of a field (its element for repeated fields, its value for maps)."""

    kind: str  # scalar, enum, message, timestamp, duration, struct, any, wrapper
    proto_type: str
    annotation: str  # what builders accept
    record_annotation: str  # what records hold
    to_proto: str  # source with {v}: Python value -> protobuf value ("{v}" when the same)
    from_proto: str  # source with {v}: protobuf value -> record value
    presence: bool  # a singular field of this type tells "unset" from a default
    default: str  # Python literal of a singular parameter's default when it has no presence
    enum: EnumAlias | None = None

    @property
    def identity_in(self) -> bool:
        return self.to_proto == PLACEHOLDER

    @property
    def identity_out(self) -> bool:
        return self.from_proto == PLACEHOLDER


def value_type(
    field: descriptor_pb2.FieldDescriptorProto, types: TypeIndex, aliases: ModuleAliases, param: str
) -> ValueType:
    """The Python side of one field value (not looking at repeated or map)."""
    name = python_literal(param)
    if field.type in SCALARS:
        proto_type, annotation, default = SCALARS[field.type]
        return ValueType(
            "scalar", proto_type, annotation, annotation, PLACEHOLDER, PLACEHOLDER, False, default
        )
    entry = types.get(field.type_name)
    if field.type == FDP.TYPE_ENUM:
        assert entry.enum is not None
        enum_class = f"{aliases.alias(entry.proto_file)}.{entry.python_path}"
        alias = EnumAlias(
            naming.enum_alias(entry.python_path), tuple(v.name for v in entry.enum.value)
        )
        zero = next((v.name for v in entry.enum.value if v.number == 0), entry.enum.value[0].name)
        return ValueType(
            "enum",
            "enum",
            f"{alias.name} | {enum_class}.ValueType",
            f"{alias.name} | int",
            f"{enum_class}.ValueType(enum_number({name}, {enum_class}.DESCRIPTOR, {{v}}))",
            f'cast("{alias.name} | int", enum_label({enum_class}.DESCRIPTOR, {{v}}))',
            False,
            python_literal(zero),
            alias,
        )
    known = _WELL_KNOWN.get(entry.full_name)
    if known is not None:
        kind, annotation, record, to_proto, from_proto = known
        return ValueType(
            kind,
            "message",
            annotation,
            record,
            to_proto.replace("{n}", name),
            from_proto,
            True,
            "None",
        )
    wrapped = _WRAPPERS.get(entry.full_name.removeprefix("google.protobuf."))
    if wrapped is not None and entry.full_name.startswith("google.protobuf."):
        wrapper = entry.full_name.removeprefix("google.protobuf.")
        return ValueType(
            "wrapper",
            "message",
            wrapped,
            wrapped,
            f"wrappers_pb2.{wrapper}(value={{v}})",
            "{v}.value",
            True,
            "None",
        )
    annotation = f"{aliases.alias(entry.proto_file)}.{entry.python_path}"
    return ValueType(
        "message", "message", annotation, annotation, PLACEHOLDER, PLACEHOLDER, True, "None"
    )


def map_entry(
    field: descriptor_pb2.FieldDescriptorProto, types: TypeIndex
) -> tuple[descriptor_pb2.FieldDescriptorProto, descriptor_pb2.FieldDescriptorProto] | None:
    """The key and value fields of a `map<K, V>` field, or None for any other field."""
    if field.type != FDP.TYPE_MESSAGE or field.label != FDP.LABEL_REPEATED:
        return None
    message = types.get(field.type_name).message
    if message is None or not message.options.map_entry:
        return None
    by_number = {f.number: f for f in message.field}
    return by_number[1], by_number[2]


def applied(template: str, value: str) -> str:
    return template.replace(PLACEHOLDER, value)


@dataclass(frozen=True)
class FieldShape:
    """A whole field (repeated, map, presence applied): types and conversion expressions."""

    kind: str  # the value's kind, or "map"
    proto_type: str
    presence: bool  # the parameter may be None (unset) and so may the record attribute
    bare_annotation: str  # the parameter type when the caller must pass a value
    annotation: str  # the parameter type with its default
    default: str
    record_annotation: str
    build_value: str  # protobuf constructor argument, from the parameter
    decode_value: str  # record attribute, from `payload`
    enums: tuple[EnumAlias, ...]
    set_member: str = ""  # oneof members: the statement that sets it on `_payload` (not None)


def shape_field(
    field: descriptor_pb2.FieldDescriptorProto,
    types: TypeIndex,
    aliases: ModuleAliases,
    param: str,
    *,
    in_oneof: bool,
    literal_alias: str,
    checked_call: str,
) -> FieldShape:
    """`checked_call` is the scalar check with {v} (PLACEHOLDER when the field has none)."""
    source = f"payload.{field.name}"
    entry = map_entry(field, types)
    if entry is not None:
        key = value_type(entry[0], types, aliases, param)
        item = value_type(entry[1], types, aliases, param)
        bare = f"Mapping[{key.annotation}, {item.annotation}]"
        build = (
            param
            if item.identity_in
            else "{key: "
            + applied(item.to_proto, "item")
            + f" for key, item in ({param} or {{}}).items()}}"
        )
        decode = (
            f"dict({source})"
            if item.identity_out
            else "{key: "
            + applied(item.from_proto, "item")
            + f" for key, item in {source}.items()}}"
        )
        return FieldShape(
            "map",
            "map",
            True,
            bare,
            f"{bare} | None",
            "None",
            f"dict[{key.record_annotation}, {item.record_annotation}]",
            build,
            decode,
            tuple(e for e in (item.enum,) if e is not None),
        )
    value = value_type(field, types, aliases, param)
    enums = tuple(e for e in (value.enum,) if e is not None)
    element = literal_alias or value.annotation
    to_proto = checked_call if value.kind == "scalar" else value.to_proto
    if field.label == FDP.LABEL_REPEATED:
        build = (
            f"list({param})"
            if to_proto == PLACEHOLDER
            else "[" + applied(to_proto, "item") + f" for item in {param}]"
        )
        decode = (
            f"tuple({source})"
            if value.identity_out
            else "tuple(" + applied(value.from_proto, "item") + f" for item in {source})"
        )
        bare = f"Sequence[{element}]"
        return FieldShape(
            value.kind,
            value.proto_type,
            False,
            bare,
            bare,
            "()",
            f"tuple[{value.record_annotation}, ...]",
            build,
            decode,
            enums,
        )
    presence = value.presence or in_oneof or field.proto3_optional
    converted = applied(to_proto, param)
    decoded = applied(value.from_proto, source)
    if not presence:
        return FieldShape(
            value.kind,
            value.proto_type,
            False,
            element,
            element,
            value.default,
            value.record_annotation,
            converted,
            decoded,
            enums,
        )
    build = param if to_proto == PLACEHOLDER else f"None if {param} is None else {converted}"
    # The stubs type a oneof member's constructor argument without None, so builders set the
    # chosen member after construction instead.
    target = f"_payload.{field.name}"
    set_member = (
        f"{target}.CopyFrom({converted})"
        if field.type == FDP.TYPE_MESSAGE
        else f"{target} = {converted}"
    )
    return FieldShape(
        value.kind,
        value.proto_type,
        True,
        element,
        f"{element} | None",
        "None",
        f"{value.record_annotation} | None",
        build,
        f"{decoded} if payload.HasField({python_literal(field.name)}) else None",
        enums,
        set_member if in_oneof else "",
    )


def check_definition(
    param: str,
    *,
    required: bool,
    allowed: tuple[str, ...],
    normalize: str,
    minimum: float | None,
    maximum: float | None,
) -> str:
    """The core's `field_check(name, ...)` binding one field's checks, or "" when it has none.

    Generated modules bind each once at import (`naming.field_check_name`), so an action sent
    calls a one-argument function per checked field rather than `checked(...)` with keywords.
    """
    arguments = [python_literal(param)]
    if required:
        arguments.append("required=True")
    if allowed:
        values = ", ".join(python_literal(v) for v in allowed)
        arguments.append(f"allowed=({values}{',' if len(allowed) == 1 else ''})")
    if normalize:
        arguments.append(f"normalize={python_literal(normalize)}")
    if minimum is not None:
        arguments.append(f"minimum={python_literal(minimum)}")
    if maximum is not None:
        arguments.append(f"maximum={python_literal(maximum)}")
    if len(arguments) == 1:
        return ""
    return f"field_check({', '.join(arguments)})"
