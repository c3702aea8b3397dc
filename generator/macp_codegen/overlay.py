"""The SDK options of the project's protos, laid over descriptors read from installed bindings.

Published bindings (e.g. `macp-proto`) carry the wire: messages, fields, numbers. They do not
carry this project's `(macp.sdk.v1.*)` options, which name the session methods, the mode ids
and the checks. Without them the conventions would apply (`proposal(...)` instead of
`propose(...)`, `macp.mode.multi_round.v1`, which the runtime refuses to register), so the same
mode would get another API from its bindings than from its proto. Where the project's proto
folder has a file of the same name, its options are copied onto the bindings' descriptors —
file, message and field options, each only onto the element with the same name (and, for a
field, the same number and type) — so the wire stays the bindings' and the API the proto's.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pb2

from .compile import CompiledProtos, compile_descriptor_set
from .options import OPTIONS_PACKAGE
from .sources import ordered


def with_project_options(bindings: CompiledProtos, project: CompiledProtos) -> CompiledProtos:
    ours = {f.name: f for f in project.descriptor_set.file}
    options_files = [f.name for f in project.descriptor_set.file if f.package == OPTIONS_PACKAGE]
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    overlaid = False
    for original in bindings.descriptor_set.file:
        file = descriptor_pb2.FileDescriptorProto()
        file.CopyFrom(original)
        files[file.name] = file
        source = ours.get(file.name)
        if source is None or file.package != source.package:
            continue
        overlaid = True
        _copy_options(source, file)
        file.dependency.extend(
            name
            for name in options_files
            if name in source.dependency and name not in file.dependency
        )
        _overlay_messages(source.message_type, file.message_type)
    # The options' own file and what it imports (descriptor.proto), from the project's set.
    pending = [d for f in files.values() for d in f.dependency]
    while pending:
        name = pending.pop()
        if name not in files and name in ours:
            files[name] = ours[name]
            pending.extend(ours[name].dependency)
    if not overlaid:
        return bindings
    targets = tuple(sorted({*bindings.targets, *(n for n in options_files if n in files)}))
    return compile_descriptor_set(ordered(files), targets)


def _overlay_messages(
    sources: Iterable[descriptor_pb2.DescriptorProto],
    targets: Iterable[descriptor_pb2.DescriptorProto],
) -> None:
    by_name = {m.name: m for m in sources}
    for message in targets:
        source = by_name.get(message.name)
        if source is None:
            continue
        _copy_options(source, message)
        fields = {(f.name, f.number, f.type): f for f in source.field}
        for field in message.field:
            match = fields.get((field.name, field.number, field.type))
            if match is not None:
                _copy_options(match, field)
        _overlay_messages(source.nested_type, message.nested_type)


_Element = (
    descriptor_pb2.FileDescriptorProto
    | descriptor_pb2.DescriptorProto
    | descriptor_pb2.FieldDescriptorProto
)


def _copy_options(source: _Element, target: _Element) -> None:
    if source.HasField("options"):
        target.options.ClearField("uninterpreted_option")
        target.options.MergeFromString(source.options.SerializeToString())
