"""The constructor layout of a decoded record: which fields lead, in what order, with defaults.

One rule for every mode, so that code which built an earlier SDK's records positionally keeps
working: the plain values a sender sets (singular non-bytes scalars and enums outside oneofs,
not hidden) lead in proto order, then `sender`. Those before `sender` are required. Everything
else is extra data and trails with a default: the other payload fields in proto order (bytes
`b""`, repeated `()`, messages and oneof members `None`, maps an empty dict), which member of
each oneof is set, `message_id` and `timestamp_unix_ms`. A mode whose earlier records took
another order names the leading fields in `(macp.sdk.v1.action).record_fields`;
`record_aliases` adds deprecated read-only names of attributes.
"""

from __future__ import annotations

from .errors import OptionError, ReservedNameError, SourceLocation
from .literals import python_literal
from .model import FieldModel, OneofModel, RecordAliasModel, RecordFieldModel
from .naming import is_identifier

SENDER = "sender"
# The template spells a map's default `dataclasses.field(...)`; an attribute of that name
# would shadow the module inside the class body.
_SHADOWING = frozenset({"dataclasses"})
_ENVELOPE_TAIL = (
    # A local, not a field read: the apply path has read the id already (a protobuf field
    # read makes a new string each time) and hands it to `_apply_<method>`.
    RecordFieldModel("message_id", "str", "message_id", '""'),
    RecordFieldModel(
        "timestamp_unix_ms",
        "int",
        "envelope.timestamp_unix_ms",
        "0",
        sent_value="timestamp_unix_ms",
    ),
)


def is_plain(f: FieldModel) -> bool:
    """A value a sender sets and an earlier SDK's record took positionally."""
    return (
        f.kind in ("scalar", "enum")
        and f.proto_type != "bytes"
        and not f.repeated
        and not f.presence
        and not f.oneof
        and not f.hidden
    )


def record_fields(
    fields: tuple[FieldModel, ...],
    oneofs: tuple[OneofModel, ...],
    leading: tuple[str, ...],
    message: str,
    where: SourceLocation,
) -> tuple[RecordFieldModel, ...]:
    """The record's constructor fields; `leading` is the record_fields option (() when unset)."""
    by_name = {f.name: f for f in fields}
    for f in fields:
        if f.name in _SHADOWING:
            raise ReservedNameError(
                f.location,
                f"field {message}.{f.name} would become a record attribute that shadows the "
                f"{f.name} module the generated record uses",
                "rename the field",
            )
    if leading:
        _check_leading(leading, by_name, message, where)
    names = leading or (*(f.name for f in fields if is_plain(f)), SENDER)
    if SENDER not in names:
        names = (*names, SENDER)
    required = names[: names.index(SENDER)]
    layout = [
        RecordFieldModel(SENDER, "str", "envelope.sender", '""', sent_value=SENDER)
        if name == SENDER
        else _payload_field(by_name[name], required=name in required)
        for name in names
    ]
    # The payload's other fields, then oneof choices and the envelope's facts.
    layout += [_payload_field(f, required=False) for f in fields if f.name not in names]
    choices = tuple(
        RecordFieldModel(
            o.name,
            o.record_annotation,
            f"payload.WhichOneof({python_literal(o.name)})",
            "None",
            f"Which member of oneof {o.name} is set.",
        )
        for o in oneofs
    )
    return (*layout, *choices, *_ENVELOPE_TAIL)


def _payload_field(f: FieldModel, *, required: bool) -> RecordFieldModel:
    default = "" if required else f.record_default
    return RecordFieldModel(f.name, f.record_annotation, f.decode_value, default)


def _check_leading(
    names: tuple[str, ...], by_name: dict[str, FieldModel], message: str, where: SourceLocation
) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise OptionError(
                where,
                f"record_fields of {message} lists {name!r} twice",
                "list each field once",
            )
        seen.add(name)
        field = by_name.get(name)
        if name != SENDER and (field is None or field.oneof):
            choices = ", ".join([*(f.name for f in by_name.values() if not f.oneof), SENDER])
            raise OptionError(
                where,
                f"record_fields entry {name!r} is not a field of {message} outside a oneof "
                "(nor 'sender')",
                f"use one of {choices}",
            )


def record_aliases(
    aliases: tuple[tuple[str, str], ...],
    layout: tuple[RecordFieldModel, ...],
    record_class: str,
    message: str,
    where: SourceLocation,
) -> tuple[RecordAliasModel, ...]:
    annotations = {f.name: f.annotation for f in layout}
    attributes = list(annotations)
    for name, target in aliases:
        if not is_identifier(name) or name in attributes:
            raise OptionError(
                where,
                f"record_aliases key {name!r} of {message} is not an identifier, or is already "
                "an attribute of the record",
                "use another name",
            )
        if target not in attributes:
            raise OptionError(
                where,
                f"record_aliases of {message} maps {name!r} to {target!r}, which is not an "
                "attribute of the record",
                f"use one of {', '.join(attributes)}",
            )
    return tuple(
        RecordAliasModel(
            name,
            target,
            annotations[target],
            f"{record_class}.{name} is deprecated; use {target} instead.",
        )
        for name, target in aliases
    )
