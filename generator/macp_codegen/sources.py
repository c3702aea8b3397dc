"""Alternative inputs: descriptors compiled elsewhere, instead of .proto sources.

- a serialized FileDescriptorSet file (`protoc --descriptor_set_out`, `buf build -o`),
- an installed bindings package (e.g. the published `macp-proto`): every `*_pb2` module under it
  is imported and its `DESCRIPTOR` serialized.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from .compile import CompiledProtos, compile_descriptor_set
from .config import Config
from .errors import CodegenError, SourceLocation

SKIPPED_PREFIXES = ("google/protobuf/",)


def load_descriptor_input(config: Config) -> CompiledProtos | None:
    if config.descriptor_set is not None:
        return from_descriptor_set_file(config.descriptor_set)
    if config.bindings is not None:
        return from_bindings(config.bindings)
    return None


def from_descriptor_set_file(path: Path) -> CompiledProtos:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodegenError(SourceLocation(str(path)), f"cannot read descriptor set: {exc}") from exc
    try:
        descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(data)
    except DecodeError as exc:
        raise CodegenError(
            SourceLocation(str(path)),
            "not a serialized FileDescriptorSet",
            "produce one with `protoc --include_imports --descriptor_set_out=FILE`",
        ) from exc
    return _compiled(descriptor_set, str(path))


def from_bindings(package: str) -> CompiledProtos:
    try:
        root = importlib.import_module(package)
    except ImportError as exc:
        raise CodegenError(
            SourceLocation(package),
            f"cannot import bindings package {package!r}: {exc}",
            "install it in this environment",
        ) from exc
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    search = getattr(root, "__path__", [])
    for info in sorted(pkgutil.walk_packages(search, prefix=f"{package}."), key=lambda i: i.name):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        _add_with_dependencies(module.DESCRIPTOR, files)
        files[proto.name] = proto
    if not files:
        raise CodegenError(SourceLocation(package), "no *_pb2 modules found in the package")
    return _compiled(_ordered(files), package)


def _add_with_dependencies(
    descriptor: object, files: dict[str, descriptor_pb2.FileDescriptorProto]
) -> None:
    for dependency in getattr(descriptor, "dependencies", ()):
        name = dependency.name
        if name not in files:
            files[name] = descriptor_pb2.FileDescriptorProto.FromString(dependency.serialized_pb)
            _add_with_dependencies(dependency, files)


def _ordered(
    files: dict[str, descriptor_pb2.FileDescriptorProto],
) -> descriptor_pb2.FileDescriptorSet:
    """Dependencies before dependents, ties by name, so the output is deterministic."""
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name not in files:
            return
        done.add(name)
        for dependency in sorted(files[name].dependency):
            visit(dependency)
        ordered.append(files[name])

    for name in sorted(files):
        visit(name)
    return descriptor_pb2.FileDescriptorSet(file=ordered)


def _compiled(descriptor_set: descriptor_pb2.FileDescriptorSet, origin: str) -> CompiledProtos:
    targets = tuple(
        sorted(f.name for f in descriptor_set.file if not f.name.startswith(SKIPPED_PREFIXES))
    )
    if not targets:
        raise CodegenError(SourceLocation(origin), "the descriptors hold no files to generate")
    return compile_descriptor_set(descriptor_set, targets)
