"""Alternative inputs: descriptors compiled elsewhere, instead of .proto sources.

- a serialized FileDescriptorSet file (`protoc --descriptor_set_out`, `buf build -o`),
- an installed bindings package (e.g. the published `macp-proto`): every `*_pb2` module under it
  is imported and its `DESCRIPTOR` serialized.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import DecodeError

from .compile import CompiledProtos, compile_descriptor_set
from .config import Config
from .errors import CodegenError, SourceLocation

SKIPPED_PREFIXES = ("google/protobuf/",)


def load_descriptor_input(config: Config) -> CompiledProtos | None:
    if config.descriptor_set is not None:
        return from_descriptor_set_file(config.descriptor_set)
    if config.bindings is not None:
        return from_bindings(config.bindings, exclude=config.output)
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


def from_bindings(package: str, exclude: Path | None = None) -> CompiledProtos:
    """Reads the installed package's `*_pb2.py` files without importing them.

    The package is looked up on the import path, skipping `exclude` (the project's own output):
    in this project's environment `macp` is also the generator's own output, which must never
    stand in for the installed bindings. Each module's embedded descriptor is read from its
    source, so bindings that own the name `macp` can be read beside this SDK's `macp`.
    """
    root = _installed_package(package, exclude)
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for module in sorted(root.rglob("*_pb2.py")):
        proto = _embedded_descriptor(module)
        if proto is not None:
            files[proto.name] = proto
    if not files:
        raise CodegenError(SourceLocation(str(root)), "no *_pb2 modules found in the package")
    _add_missing_dependencies(files)
    return _compiled(ordered(files), str(root))


def _installed_package(package: str, exclude: Path | None) -> Path:
    skipped = exclude.resolve() if exclude is not None else None
    seen_own = False
    for entry in sys.path:
        base = Path(entry or ".").resolve()
        candidate = base / package.replace(".", "/")
        if not candidate.is_dir():
            continue
        if skipped is not None and candidate.is_relative_to(skipped):
            seen_own = True
            continue
        return candidate
    found = " (only this project's own output holds it)" if seen_own else ""
    raise CodegenError(
        SourceLocation(package),
        f"no installed bindings package {package!r} on the import path{found}",
        "install it (e.g. `pip install --target DIR macp-proto`) and put DIR on PYTHONPATH, "
        "or pass --descriptor-set",
    )


def _embedded_descriptor(module: Path) -> descriptor_pb2.FileDescriptorProto | None:
    """The FileDescriptorProto protoc embedded in a `_pb2.py` (`AddSerializedFile(b'...')`)."""
    tree = ast.parse(module.read_text(encoding="utf-8"), str(module))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return descriptor_pb2.FileDescriptorProto.FromString(node.args[0].value)
    return None


def _add_missing_dependencies(files: dict[str, descriptor_pb2.FileDescriptorProto]) -> None:
    """Imports the bindings do not ship (well-known types) come from protobuf's own pool."""
    pool = descriptor_pool.Default()
    pending = [d for f in files.values() for d in f.dependency]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        try:
            found = pool.FindFileByName(name)
        except KeyError:
            continue  # reported by the compile step as an unresolved import
        proto = descriptor_pb2.FileDescriptorProto()
        found.CopyToProto(proto)
        files[name] = proto
        pending.extend(proto.dependency)


def _add_with_dependencies(
    descriptor: object, files: dict[str, descriptor_pb2.FileDescriptorProto]
) -> None:
    for dependency in getattr(descriptor, "dependencies", ()):
        name = dependency.name
        if name not in files:
            files[name] = descriptor_pb2.FileDescriptorProto.FromString(dependency.serialized_pb)
            _add_with_dependencies(dependency, files)


def ordered(
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
