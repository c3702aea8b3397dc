"""Step 1: .proto sources -> FileDescriptorSet (with source info) and protobuf Python modules.

protoc runs in-process (grpcio-tools' bundled compiler), once for all files. Only when it fails
is each file parsed with `get_protos`, which reports errors as data, so bad input becomes a
located CodegenError instead of text on stderr (parsing every file up front cost more than the
compile itself: each parse re-reads all its imports). mypy-protobuf then renders the typed
stubs in-process from the same request.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import _protoc_compiler as protoc
from mypy_protobuf import main as mypy_protobuf

from .errors import CodegenError, ProtoSyntaxError, SourceLocation, UnresolvedImportError
from .tree import files_under

WELL_KNOWN_INCLUDE = Path(os.path.dirname(grpc_tools.__file__)) / "_proto"
# The toolkit's own protos (options.proto) ship as package data and are always on the include
# path, ahead of the user's folders: the toolkit's copy is the one definition of the options.
TOOLKIT_PROTO_ROOT = Path(str(resources.files("macp_codegen").joinpath("proto")))
OPTIONS_PROTO = "macp/sdk/v1/options.proto"


def toolkit_protos() -> tuple[str, ...]:
    """The proto files the toolkit ships, relative to TOOLKIT_PROTO_ROOT."""
    return tuple(
        sorted(
            p.relative_to(TOOLKIT_PROTO_ROOT).as_posix()
            for p in TOOLKIT_PROTO_ROOT.rglob("*.proto")
        )
    )


@dataclass(frozen=True)
class CompiledProtos:
    """What the compile step hands to the model builder and to the writer."""

    descriptor_set: descriptor_pb2.FileDescriptorSet
    # Proto files to generate, relative to their include root, sorted.
    targets: tuple[str, ...]
    # Where each target lives on disk, for error messages.
    source_paths: dict[str, Path]
    # Generated protobuf modules and stubs: relative output path -> text.
    modules: dict[str, str]


def discover_protos(proto_root: Path) -> tuple[str, ...]:
    if not proto_root.is_dir():
        raise CodegenError(
            SourceLocation(str(proto_root)),
            "the proto root does not exist",
            "set proto_root in [tool.macp-codegen] or pass --proto-root",
        )
    found = sorted(
        "/".join(parts) for parts in files_under(str(proto_root)) if parts[-1].endswith(".proto")
    )
    if not found:
        raise CodegenError(
            SourceLocation(str(proto_root)), "no .proto files found", "add mode .proto files"
        )
    return tuple(found)


def compile_protos(proto_root: Path, include: tuple[Path, ...] = ()) -> CompiledProtos:
    shipped = toolkit_protos()
    # A copy of a shipped file in the user's folder (an older layout, a git baseline) is
    # shadowed by the toolkit's: it is neither parsed nor generated from there.
    targets = tuple(t for t in discover_protos(proto_root) if t not in shipped)
    include_paths = [TOOLKIT_PROTO_ROOT, proto_root, *include, WELL_KNOWN_INCLUDE]
    with _captured_stderr() as protoc_output:
        try:
            descriptor_set, python_modules = _run_protoc(targets, include_paths)
        except CodegenError as failure:
            for target in targets:  # the located error, when one file is at fault
                _check_parses(target, proto_root, include_paths)
            raise failure
    if protoc_output:
        sys.stderr.write(protoc_output[0])  # warnings of a successful run, as protoc wrote them
    modules = dict(python_modules)
    # Generated modules import options_pb2 at run time, so a shipped file that any input
    # imports is generated too.
    imported = tuple(f.name for f in descriptor_set.file if f.name in shipped)
    if imported:
        with tempfile.TemporaryDirectory(prefix="macp-codegen-") as tmp:
            args = [f"-I{p}" for p in include_paths]
            modules.update(_protoc_python(imported, args, Path(tmp)))
    sources = {t: proto_root / t for t in targets}
    sources.update({t: TOOLKIT_PROTO_ROOT / t for t in imported})
    targets = tuple(sorted({*targets, *imported}))
    modules.update(_typed_stubs(descriptor_set, targets))
    return CompiledProtos(
        descriptor_set=descriptor_set,
        targets=targets,
        source_paths=dict(sorted(sources.items())),
        modules=dict(sorted(modules.items())),
    )


def compile_descriptor_set(
    descriptor_set: descriptor_pb2.FileDescriptorSet, targets: tuple[str, ...]
) -> CompiledProtos:
    """Same outputs from descriptors compiled elsewhere (a .pb file, installed bindings)."""
    descriptor_set = _without_default_json_names(descriptor_set)
    with tempfile.TemporaryDirectory(prefix="macp-codegen-") as tmp:
        fds_in = Path(tmp) / "in.pb"
        fds_in.write_bytes(descriptor_set.SerializeToString(deterministic=True))
        modules = _protoc_python(targets, [f"--descriptor_set_in={fds_in}"], Path(tmp))
    modules.update(_typed_stubs(descriptor_set, targets))
    return CompiledProtos(
        descriptor_set=descriptor_set,
        targets=targets,
        source_paths={t: Path(t) for t in targets},
        modules=dict(sorted(modules.items())),
    )


def _without_default_json_names(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
) -> descriptor_pb2.FileDescriptorSet:
    """`protoc --descriptor_set_out` (and buf) fill in every field's json_name, which protoc
    leaves out of the descriptors it embeds when compiling from source; the same proto must give
    the same `_pb2.py` bytes either way, so a json_name equal to the default one is dropped."""
    result = descriptor_pb2.FileDescriptorSet()
    result.CopyFrom(descriptor_set)
    for file in result.file:
        for field in file.extension:
            _drop_default_json_name(field)
        for message in file.message_type:
            _strip_message(message)
    return result


def _strip_message(message: descriptor_pb2.DescriptorProto) -> None:
    for field in [*message.field, *message.extension]:
        _drop_default_json_name(field)
    for nested in message.nested_type:
        _strip_message(nested)


def _drop_default_json_name(field: descriptor_pb2.FieldDescriptorProto) -> None:
    if field.HasField("json_name") and field.json_name == _default_json_name(field.name):
        field.ClearField("json_name")


def _default_json_name(name: str) -> str:
    """protoc's ToJsonName: underscores dropped, the letter after each one upper-cased."""
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Collects what protoc writes to file descriptor 2 (C++ code, not ``sys.stderr``).

    The list is filled on exit; a CodegenError raised inside carries the text instead.
    """
    output: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield output
        except CodegenError as exc:
            os.dup2(saved, 2)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace").strip()
            if text and exc.hint == "see protoc output":
                raise CodegenError(exc.location, exc.message, text) from None
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read().decode("utf-8", errors="replace")
        if text:
            output.append(text)


def _check_parses(target: str, proto_root: Path, include_paths: list[Path]) -> None:
    try:
        protoc.get_protos(target.encode(), [str(p).encode() for p in include_paths])
    except protoc.ProtocErrors as exc:
        raise _located_error(exc.errors(), proto_root) from None


def _located_error(errors: list[object], proto_root: Path) -> CodegenError:
    # protoc reports "File not found" (no line) for the missing import and then a located
    # error at the import statement; the located one is the useful one.
    located = [e for e in errors if getattr(e, "line", -1) >= 0] or errors
    first = located[0]
    filename = getattr(first, "filename", b"").decode()
    message = getattr(first, "message", b"").decode()
    line = getattr(first, "line", -1) + 1
    column = getattr(first, "column", -1) + 1
    where = SourceLocation(
        str(proto_root / filename) if filename else str(proto_root), line, column
    )
    if message.startswith("Import ") and "was not found" in message:
        return UnresolvedImportError(
            where,
            message,
            "fix the import path, or add the folder that holds it to "
            "[tool.macp-codegen] include / --include",
        )
    if "option" in message.lower():
        return ProtoSyntaxError(
            where,
            message,
            f"use a value defined in {TOOLKIT_PROTO_ROOT / OPTIONS_PROTO} (see docs/options.md)",
        )
    return ProtoSyntaxError(where, message, "fix the .proto syntax at this position")


def _run_protoc(
    targets: tuple[str, ...], include_paths: list[Path]
) -> tuple[descriptor_pb2.FileDescriptorSet, dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="macp-codegen-") as tmp:
        fds_path = Path(tmp) / "descriptors.pb"
        args = [f"-I{p}" for p in include_paths] + [
            f"--descriptor_set_out={fds_path}",
            "--include_source_info",
            "--include_imports",
        ]
        modules = _protoc_python(targets, args, Path(tmp))
        descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(fds_path.read_bytes())
    return descriptor_set, modules


def _protoc_python(targets: tuple[str, ...], args: list[str], tmp: Path) -> dict[str, str]:
    # protoc writes an output path ending in .zip as one archive: one file created instead of
    # two per proto (creating files is what staging a large tree mostly costs).
    out = tmp / "py.zip"
    argv = ["grpc_tools.protoc", *args, f"--python_out={out}", f"--grpc_python_out={out}"]
    status = protoc.run_main([a.encode() for a in [*argv, *targets]])
    if status != 0:
        raise CodegenError(
            SourceLocation(targets[0]), f"protoc failed with status {status}", "see protoc output"
        )
    with zipfile.ZipFile(out) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in sorted(archive.namelist())
            if name.endswith(".py")
        }


def _typed_stubs(
    descriptor_set: descriptor_pb2.FileDescriptorSet, targets: tuple[str, ...]
) -> dict[str, str]:
    request = plugin_pb2.CodeGeneratorRequest(
        file_to_generate=list(targets), proto_file=list(descriptor_set.file), parameter="quiet"
    )
    stubs: dict[str, str] = {}
    descriptors = mypy_protobuf.Descriptors(request)  # read-only: one index for both passes
    for grpc_stubs in (False, True):
        response = plugin_pb2.CodeGeneratorResponse()
        if grpc_stubs:
            mypy_protobuf.generate_mypy_grpc_stubs(
                descriptors,
                response,
                True,
                False,
                False,
                False,
                False,
                mypy_protobuf.GRPCType.from_parameter(""),
            )
        else:
            mypy_protobuf.generate_mypy_stubs(
                descriptors, response, True, False, False, False, False
            )
        stubs.update({f.name: f.content for f in response.file})
    return stubs
