"""Wire breaking rules, read from the descriptors of two versions.

- message-removed: a message type is gone (peers still send and store it).
- field-removed: a field is gone and its number is not `reserved` (it could be reused).
- field-number-reused: a number now names another field, or a reserved number is used again.
- field-retyped: a field kept its number but changed type or cardinality.
- rpc-removed / rpc-changed: a service method is gone, or its request, response or streaming
  changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from .baseline import Version
from .errors import SourceLocation
from .findings import Finding
from .locations import FILE_MESSAGE, MESSAGE_FIELD, SourceIndex

FDP = descriptor_pb2.FieldDescriptorProto
FILE_SERVICE = 6
MESSAGE_NESTED = 3
SERVICE_METHOD = 2


@dataclass(frozen=True)
class _Element:
    """A message or a service method, with where it is declared."""

    name: str  # full name without the leading dot
    file: str
    path: tuple[int, ...]  # SourceCodeInfo path inside the file


def wire_findings(old: Version, new: Version) -> list[Finding]:
    where_old, where_new = _Locator(old), _Locator(new)
    findings: list[Finding] = []
    old_messages, new_messages = _messages(old), _messages(new)
    for name, (element, message) in old_messages.items():
        if name not in new_messages:
            findings.append(
                _wire("message-removed", where_old(element), f"message {name} was removed")
            )
            continue
        new_element, new_message = new_messages[name]
        findings.extend(_field_findings(name, message, new_message, new_element, where_new))
    old_methods, new_methods = _methods(old), _methods(new)
    for name, (element, method) in old_methods.items():
        if name not in new_methods:
            findings.append(_wire("rpc-removed", where_old(element), f"rpc {name} was removed"))
        elif _signature(method) != _signature(new_methods[name][1]):
            new_element, new_method = new_methods[name]
            findings.append(
                _wire(
                    "rpc-changed",
                    where_new(new_element),
                    f"rpc {name} changed from {_signature(method)} to {_signature(new_method)}",
                )
            )
    return findings


def _field_findings(
    name: str,
    old: descriptor_pb2.DescriptorProto,
    new: descriptor_pb2.DescriptorProto,
    element: _Element,
    where: _Locator,
) -> Iterator[Finding]:
    new_fields = {f.number: (index, f) for index, f in enumerate(new.field)}
    old_fields = {f.number: f for f in old.field}
    for number, field in old_fields.items():
        if number not in new_fields:
            if not _reserved(new, number):
                yield _wire(
                    "field-removed",
                    where(element),
                    f"field {field.name} = {number} was removed from {name} without "
                    f"`reserved {number};`",
                )
            continue
        index, new_field = new_fields[number]
        at = where(element, MESSAGE_FIELD, index)
        if new_field.name != field.name:
            yield _wire(
                "field-number-reused",
                at,
                f"field number {number} of {name} was {field.name}, now {new_field.name}",
            )
        if _type_of(field) != _type_of(new_field):
            yield _wire(
                "field-retyped",
                at,
                f"field {name}.{new_field.name} = {number} changed from {_type_of(field)} "
                f"to {_type_of(new_field)}",
            )
    for number, (index, new_field) in new_fields.items():
        if number not in old_fields and _reserved(old, number):
            yield _wire(
                "field-number-reused",
                where(element, MESSAGE_FIELD, index),
                f"field {name}.{new_field.name} uses number {number}, which was reserved",
            )


def _reserved(message: descriptor_pb2.DescriptorProto, number: int) -> bool:
    return any(r.start <= number < r.end for r in message.reserved_range)  # end is exclusive


def _type_of(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM, FDP.TYPE_GROUP):
        base = field.type_name.lstrip(".")
    else:
        base = FDP.Type.Name(field.type).removeprefix("TYPE_").lower()
    return f"repeated {base}" if field.label == FDP.LABEL_REPEATED else base


def _signature(method: descriptor_pb2.MethodDescriptorProto) -> str:
    request = ("stream " if method.client_streaming else "") + method.input_type.lstrip(".")
    response = ("stream " if method.server_streaming else "") + method.output_type.lstrip(".")
    return f"({request}) returns ({response})"


def _wire(rule: str, location: SourceLocation, message: str) -> Finding:
    return Finding("wire", rule, location, message)


def _messages(
    version: Version,
) -> dict[str, tuple[_Element, descriptor_pb2.DescriptorProto]]:
    found: dict[str, tuple[_Element, descriptor_pb2.DescriptorProto]] = {}

    def walk(
        file: str,
        messages: list[descriptor_pb2.DescriptorProto],
        prefix: str,
        path: tuple[int, ...],
    ) -> None:
        for index, message in enumerate(messages):
            if message.options.map_entry:
                continue  # synthetic; the map field itself is compared by type
            name = f"{prefix}{message.name}"
            found[name] = (_Element(name, file, (*path, index)), message)
            walk(file, list(message.nested_type), f"{name}.", (*path, index, MESSAGE_NESTED))

    for file in _targets(version):
        walk(file.name, list(file.message_type), _prefix(file), (FILE_MESSAGE,))
    return found


def _methods(
    version: Version,
) -> dict[str, tuple[_Element, descriptor_pb2.MethodDescriptorProto]]:
    found: dict[str, tuple[_Element, descriptor_pb2.MethodDescriptorProto]] = {}
    for file in _targets(version):
        for s_index, service in enumerate(file.service):
            for m_index, method in enumerate(service.method):
                name = f"{_prefix(file)}{service.name}.{method.name}"
                path = (FILE_SERVICE, s_index, SERVICE_METHOD, m_index)
                found[name] = (_Element(name, file.name, path), method)
    return found


def _targets(version: Version) -> Iterator[descriptor_pb2.FileDescriptorProto]:
    targets = set(version.targets)
    return (f for f in version.descriptor_set.file if f.name in targets)


def _prefix(file: descriptor_pb2.FileDescriptorProto) -> str:
    return f"{file.package}." if file.package else ""


class _Locator:
    """file:line:col of an element (or of a part of it) in one version."""

    def __init__(self, version: Version) -> None:
        self._version = version
        self._indexes: dict[str, SourceIndex] = {}

    def __call__(self, element: _Element, *sub_path: int) -> SourceLocation:
        index = self._indexes.get(element.file)
        if index is None:
            file = next(f for f in self._version.descriptor_set.file if f.name == element.file)
            index = SourceIndex(file, self._version.display.get(element.file, element.file))
            self._indexes[element.file] = index
        return index.location(*element.path, *sub_path)
