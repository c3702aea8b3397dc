"""Enum values in generated builders and records: names in, names out.

Builders accept an enum value's name (typed as a Literal of the names) or the protobuf
value; records give the name back, or the number when this SDK's proto does not know it
(proto3 enums are open, so a newer peer may send values this proto lacks).
"""

from __future__ import annotations

from google.protobuf.descriptor import EnumDescriptor

from .errors import MacpValidationError


def enum_number(name: str, descriptor: EnumDescriptor, value: str | int) -> int:
    if not isinstance(value, str):
        return value
    found = descriptor.values_by_name.get(value)
    if found is None:
        raise MacpValidationError(
            name, value, "one of " + ", ".join(v.name for v in descriptor.values)
        )
    return int(found.number)


def enum_label(descriptor: EnumDescriptor, number: int) -> str | int:
    found = descriptor.values_by_number.get(number)
    return number if found is None else str(found.name)
