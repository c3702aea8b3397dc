"""The one orchestrator: config -> descriptors -> model -> rendered files -> writer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from . import __version__
from .compile import CompiledProtos, compile_protos
from .config import Config
from .core_contract import (
    CONTRACT_FILE,
    SDK_PACKAGE,
    check_unique_exports,
    core_exports,
    reexports,
    reserved_session_names,
)
from .errors import NameCollisionError, SourceLocation
from .formatting import format_python
from .inputs import inputs_digest
from .model import ModeModel, SdkModel
from .modeling import build_model
from .render import make_environment, render
from .sources import load_descriptor_input
from .writer import Manifest, OutputFile, Plan, Writer, WriteReport

PROTO_PACKAGE = "macp"


@dataclass(frozen=True)
class Build:
    model: SdkModel
    files: tuple[OutputFile, ...]
    manifest: Manifest
    notes: tuple[str, ...] = ()  # things the user should know, e.g. orphaned hooks


class Project:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.writer = Writer(config.output)

    def compile(self) -> CompiledProtos:
        loaded = load_descriptor_input(self.config)
        if loaded is not None:
            return loaded
        return compile_protos(self.config.proto_root, self.config.include)

    def build(self) -> Build:
        compiled = self.compile()
        model = build_model(
            compiled.descriptor_set,
            compiled.targets,
            compiled.source_paths,
            reserved_session_names(),
        )
        notes: list[str] = []
        files = self._render(model, compiled, notes)
        manifest = Manifest(
            generator=__version__,
            inputs=self.inputs_digest(),
            files={f.path: f.kind for f in files},
        )
        return Build(model, files, manifest, tuple(notes))

    def generate(self) -> tuple[Build, WriteReport]:
        build = self.build()
        return build, self.writer.write(build.files, build.manifest)

    def plan(self) -> tuple[Build, Plan]:
        build = self.build()
        return build, self.writer.plan(build.files)

    def inputs_digest(self) -> str:
        """Hash of everything that shapes the output (see :func:`inputs.inputs_digest`)."""
        return inputs_digest(self.config)

    def _label(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.project_root).as_posix()
        except ValueError:
            return path.as_posix()

    def _render(
        self, model: SdkModel, compiled: CompiledProtos, notes: list[str]
    ) -> tuple[OutputFile, ...]:
        env = make_environment(self.config.templates)
        files: list[OutputFile] = []
        for path, text in compiled.modules.items():
            # protoc's and mypy-protobuf's own output: typed (mypy reads the stubs) but not
            # written to this project's lint rules, so say so instead of excluding folders.
            header = _header([_proto_source_of(path)]) + "\n# ruff: noqa"
            files.append(OutputFile(path, _with_header(text, header)))
        sdk_packages = [f"{SDK_PACKAGE}/modes", f"{SDK_PACKAGE}/projections"] if model.modes else []
        for package_dir in _package_dirs(compiled.modules) + sdk_packages:
            init = render(env, "package_init.py.jinja", {"header": _header(model.sources)})
            files.append(OutputFile(f"{package_dir}/__init__.py", init.encode()))
        files.append(OutputFile(f"{PROTO_PACKAGE}/py.typed", b""))
        rendered = self._render_sdk(env, model)
        for mode in model.modes:
            rendered.extend(self._render_mode(env, model, mode, notes))
        files.extend(_formatted(rendered, self.config.output))
        _check_unique_paths(files)
        return tuple(sorted(files, key=lambda f: f.path))

    def _render_sdk(self, env: jinja2.Environment, model: SdkModel) -> list[OutputFile]:
        header = _header(model.sources)
        exports = _exports(model)
        context = {"model": model, "header": header, "exports": exports}
        rendered = {
            f"{SDK_PACKAGE}/__init__.py": "sdk/__init__.py.jinja",
            f"{SDK_PACKAGE}/_registry.py": "sdk/_registry.py.jinja",
        }
        files = [
            OutputFile(path, render(env, template, context).encode())
            for path, template in rendered.items()
        ]
        files.append(OutputFile(f"{SDK_PACKAGE}/py.typed", b""))
        for reexport in reexports():
            shim: dict[str, object] = {
                "header": _header([CONTRACT_FILE]),
                "reexport": reexport,
                "sdk_package": SDK_PACKAGE,
            }
            text = render(env, "sdk/reexport.py.jinja", shim)
            files.append(OutputFile(reexport.path, text.encode()))
        return files

    def _render_mode(
        self, env: jinja2.Environment, model: SdkModel, mode: ModeModel, notes: list[str]
    ) -> list[OutputFile]:
        context = {"model": model, "mode": mode, "header": _header([mode.proto_file])}
        files = [
            OutputFile(
                f"{SDK_PACKAGE}/modes/{mode.module}.py",
                render(env, "sdk/modes/mode.py.jinja", context).encode(),
            ),
            OutputFile(
                f"{SDK_PACKAGE}/projections/{mode.base_module}.py",
                render(env, "sdk/projections/base.py.jinja", context).encode(),
            ),
        ]
        scaffold_path = f"{SDK_PACKAGE}/projections/{mode.module}.py"
        fresh = render(env, "sdk/projections/scaffold.py.jinja", context)
        on_disk = self.config.output / scaffold_path
        if on_disk.is_file():
            # libcst takes ~0.1 s to import; only a regeneration that merges pays for it.
            from .scaffold import merge_scaffold

            merged = merge_scaffold(on_disk.read_text(encoding="utf-8"), fresh, mode, str(on_disk))
            fresh = merged.text
            notes.extend(
                f"{scaffold_path}: hook {hook} has no action any more (kept, not deleted)"
                for hook in merged.orphaned_hooks
            )
            notes.extend(f"{scaffold_path}: added hook {hook}" for hook in merged.added_hooks)
        hooks = tuple(f"{mode.projection_class}.{action.hook}" for action in mode.actions)
        files.append(OutputFile(scaffold_path, fresh.encode(), "scaffold", requires=hooks))
        return files


def _exports(model: SdkModel) -> tuple[tuple[str, str], ...]:
    """(module relative to macp_sdk, name) for the public API; a name exported twice is an error."""
    exports = core_exports()
    for name in ("MODE_REGISTRY", "ModeInfo", "decode_envelope", "describe_envelope"):
        exports.append(("_registry", name))
    for mode in model.modes:
        exports.append((f"modes.{mode.module}", mode.session_class))
        exports.append((f"modes.{mode.module}", mode.async_session_class))
        exports.append((f"projections.{mode.module}", mode.projection_class))
    check_unique_exports(exports)
    return tuple(sorted(set(exports), key=lambda e: (e[1], e[0])))


def _formatted(files: list[OutputFile], output: Path) -> list[OutputFile]:
    """Formats rendered Python; a scaffold that already exists on disk is the user's, untouched."""
    to_format = {
        f.path: f.content.decode()
        for f in files
        if f.path.endswith(".py") and not (f.kind == "scaffold" and (output / f.path).is_file())
    }
    formatted = format_python(to_format)
    return [
        replace(f, content=formatted[f.path].encode()) if f.path in formatted else f for f in files
    ]


def _header(sources: list[str] | tuple[str, ...]) -> str:
    lines = [
        f"# Generated by macp-codegen {__version__}. Do not edit: run `macp-codegen generate`.",
        "# Sources:",
        *(f"#   {source}" for source in sources),
    ]
    return "\n".join(lines)


def _with_header(text: str, header: str) -> bytes:
    return (header + "\n" + text).encode()


def _proto_source_of(module_path: str) -> str:
    stem = module_path.removesuffix(".pyi").removesuffix(".py")
    stem = stem.removesuffix("_grpc").removesuffix("_pb2")
    return stem + ".proto"


def _package_dirs(modules: dict[str, str]) -> list[str]:
    dirs: set[str] = set()
    for path in modules:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs)


def _check_unique_paths(files: list[OutputFile]) -> None:
    seen: set[str] = set()
    for f in files:
        if f.path in seen:
            raise NameCollisionError(
                SourceLocation(f.path),
                f"two outputs would be written to {f.path}",
                "rename the proto (or the contract module) that produces it",
            )
        seen.add(f.path)
