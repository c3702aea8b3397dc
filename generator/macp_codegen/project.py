"""The one orchestrator: config -> descriptors -> model -> rendered files -> writer."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import jinja2
from macp_core import contract

from . import __version__, naming
from .compat_model import CompatModule, build_compat_modules
from .compile import CompiledProtos, compile_protos
from .config import Config
from .core_contract import (
    CONTRACT_FILE,
    SDK_PACKAGE,
    ReexportModel,
    check_unique_exports,
    core_exports,
    generated_module_reexports,
    reexports,
    reserved_session_names,
)
from .errors import NameCollisionError, SourceLocation
from .facts import FactsModel, build_facts
from .formatting import format_python
from .model import ModeModel, SdkModel
from .modeling import build_model
from .policy_model import PolicyModel, load_policy_model
from .render import make_environment, render
from .service_modeling import build_service, client_flavours
from .sources import load_descriptor_input
from .writer import Manifest, OutputFile, Plan, Writer, WriteReport

PROTO_PACKAGE = "macp"
TOOLKIT_DIR = Path(__file__).resolve().parent  # generator source, templates, shipped protos
CONTRACT_PATH = Path(contract.__file__).resolve()
PINNED_TOOLS = ("protobuf", "grpcio-tools", "mypy-protobuf", "jinja2", "libcst", "ruff")


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
        # First repair an interrupted swap: the build reads the user's scaffolds from the
        # output folder, and building without them would replace their code with fresh stubs.
        self.writer.recover()
        compiled = self.compile()
        model = build_model(
            compiled.descriptor_set,
            compiled.targets,
            compiled.source_paths,
            reserved_session_names(),
        )
        service = build_service(compiled.descriptor_set, compiled.targets, compiled.source_paths)
        model = replace(model, service=service)
        notes: list[str] = []
        policy = load_policy_model(self.config.proto_root, self.config.project_root, model.modes)
        files = self._render(model, compiled, notes, policy)
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
        """Hash of everything that shapes the output: the protos (and include paths), the
        toolkit's own source and templates, the core contract, user templates, the
        configuration and the pinned tools' versions."""
        h = hashlib.sha256()
        config = self.config
        roots = {"proto": config.proto_root, "toolkit": TOOLKIT_DIR, "contract": CONTRACT_PATH}
        roots.update({f"include {self._label(p)}": p for p in config.include})
        if config.templates is not None:
            roots["templates"] = config.templates
        if config.descriptor_set is not None:
            roots["descriptor set"] = config.descriptor_set
        if config.bindings is not None:
            roots.update(_bindings_roots(config.bindings))
        for label, root in roots.items():
            h.update(f"{label}\0".encode())
            for path in _digest_files(root):
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
        # Where the inputs come from and where the output goes, machine-independently.
        for key in ("descriptor_set", "bindings", "output"):
            value = getattr(config, key)
            shown = self._label(value) if isinstance(value, Path) else str(value)
            h.update(f"{key}={shown}\0".encode())
        h.update(__version__.encode())
        for tool in PINNED_TOOLS:
            h.update(f"{tool}={_version_of(tool)}".encode())
        return h.hexdigest()

    def _label(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.project_root).as_posix()
        except ValueError:
            return path.as_posix()

    def _render(
        self,
        model: SdkModel,
        compiled: CompiledProtos,
        notes: list[str],
        policy: PolicyModel | None = None,
    ) -> tuple[OutputFile, ...]:
        env = make_environment(self.config.templates)
        files: list[OutputFile] = []
        for path, text in compiled.modules.items():
            # protoc's and mypy-protobuf's own output: typed (mypy reads the stubs) but not
            # written to this project's lint rules, so say so instead of excluding folders.
            header = _header([_proto_source_of(path)]) + "\n# ruff: noqa"
            files.append(OutputFile(path, _with_header(text, header)))
        facts = build_facts(compiled.descriptor_set, model)
        compat = build_compat_modules(model.modes, _taken_modules())
        # macp_sdk/projections/__init__.py comes from _render_compat (it exports the projections).
        sdk_packages = [f"{SDK_PACKAGE}/facts", f"{SDK_PACKAGE}/modes"] if model.modes else []
        for package_dir in _package_dirs(compiled.modules) + sdk_packages:
            init = render(env, "package_init.py.jinja", {"header": _header(model.sources)})
            files.append(OutputFile(f"{package_dir}/__init__.py", init.encode()))
        files.append(OutputFile(f"{PROTO_PACKAGE}/py.typed", b""))
        rendered = self._render_sdk(env, model, facts, policy, compat)
        rendered.extend(self._render_service(env, model))
        if policy is not None:
            # Policy builders: generated from the rule schemas beside the protos.
            context = {"policy": policy, "header": _header(policy.sources)}
            text = render(env, "sdk/policy/policy.py.jinja", context)
            rendered.append(OutputFile(f"{SDK_PACKAGE}/policy.py", text.encode()))
        for mode in model.modes:
            rendered.extend(self._render_mode(env, model, mode, notes))
        rendered.extend(self._render_compat(env, model, compat, facts))
        for mode_facts in facts.modes:
            context = {"facts": mode_facts, "header": _header([mode_facts.mode.proto_file])}
            text = render(env, "sdk/facts.py.jinja", context)
            rendered.append(
                OutputFile(f"{SDK_PACKAGE}/facts/{mode_facts.module}.py", text.encode())
            )
        files.extend(_formatted(rendered, self.config.output))
        _check_unique_paths(files)
        return tuple(sorted(files, key=lambda f: f.path))

    def _render_sdk(
        self,
        env: jinja2.Environment,
        model: SdkModel,
        facts: FactsModel,
        policy: PolicyModel | None = None,
        compat: tuple[CompatModule, ...] = (),
    ) -> list[OutputFile]:
        header = _header(model.sources)
        exports = _exports(model, facts, policy, compat)
        # A top-level name equal to a module's name (commitment_hash) must stay the name's object.
        modules = {module.split(".")[0] for module, _ in exports}
        context = {
            "model": model,
            "facts": facts,
            "header": header,
            "exports": exports,
            "eager_exports": tuple(e for e in exports if e[1] in modules),
        }
        rendered = {
            f"{SDK_PACKAGE}/__init__.py": "sdk/__init__.py.jinja",
            f"{SDK_PACKAGE}/_registry.py": "sdk/_registry.py.jinja",
        }
        files = [
            OutputFile(path, render(env, template, context).encode())
            for path, template in rendered.items()
        ]
        files.append(OutputFile(f"{SDK_PACKAGE}/py.typed", b""))
        for reexport in _with_generated_names(reexports(), facts, compat):
            shim: dict[str, object] = {
                "header": _header([CONTRACT_FILE]),
                "reexport": reexport,
                "sdk_package": SDK_PACKAGE,
            }
            text = render(env, "sdk/reexport.py.jinja", shim)
            files.append(OutputFile(reexport.path, text.encode()))
        return files

    def _render_service(self, env: jinja2.Environment, model: SdkModel) -> list[OutputFile]:
        """The clients and watchers, from the service model (nothing without a service)."""
        if model.service is None:
            return []
        header = _header([model.service.proto_file])
        extra = generated_module_reexports()
        files = []
        for flavour in client_flavours():
            context = {
                "header": header,
                "service": model.service,
                "flavour": flavour,
                "reexport": extra[flavour.module],
                # Annotations need TimeoutValue; import it unless the module re-exports it.
                "import_timeout": "TimeoutValue" not in extra[flavour.module].names,
            }
            text = render(env, "sdk/client.py.jinja", context)
            files.append(OutputFile(f"{SDK_PACKAGE}/{flavour.module}.py", text.encode()))
        context = {"header": header, "service": model.service, "reexport": extra["watchers"]}
        text = render(env, "sdk/watchers.py.jinja", context)
        files.append(OutputFile(f"{SDK_PACKAGE}/watchers.py", text.encode()))
        return files

    def _render_compat(
        self,
        env: jinja2.Environment,
        model: SdkModel,
        compat: tuple[CompatModule, ...],
        facts: FactsModel,
    ) -> list[OutputFile]:
        """macp-sdk-python 0.22.0's paths: `macp_sdk.<mode>` and the projections package."""
        if not model.modes:
            return []
        # Each mode's anomaly kinds, offered where 0.22.0 had them (its mode modules).
        anomalies = {
            f.mode.short_name: (
                f"{SDK_PACKAGE}.facts.{f.module}",
                tuple(a.name for a in f.anomalies),
            )
            for f in facts.modes
        }
        files = []
        for module in compat:
            context: dict[str, object] = {"compat": module, "sdk_package": SDK_PACKAGE}
            context["anomalies"] = anomalies.get(module.mode.short_name, ("", ()))
            context["header"] = _header([module.mode.proto_file])
            text = render(env, "sdk/compat/mode.py.jinja", context)
            files.append(OutputFile(module.path, text.encode()))
        names = sorted(
            {m.mode.projection_class for m in compat}
            | {a.name for m in compat for a in m.aliases if a.is_projection}
        )
        constants = [(f"{SDK_PACKAGE}._registry", m.mode_constant) for m in compat]
        constants += [(source, n) for source, kinds in anomalies.values() for n in kinds]
        context = {
            "modules": compat,
            "names": sorted([*names, *(n for _, n in constants)]),
            "constants": constants,
            "header": _header(model.sources),
        }
        text = render(env, "sdk/compat/projections_init.py.jinja", context)
        files.append(OutputFile(f"{SDK_PACKAGE}/projections/__init__.py", text.encode()))
        context = {"sdk_package": SDK_PACKAGE, "header": _header(model.sources)}
        context["mode_constants"] = sorted(m.mode_constant for m in compat)
        text = render(env, "sdk/compat/proto_registry.py.jinja", context)
        files.append(OutputFile(f"{SDK_PACKAGE}/proto_registry.py", text.encode()))
        return files

    def _render_mode(
        self, env: jinja2.Environment, model: SdkModel, mode: ModeModel, notes: list[str]
    ) -> list[OutputFile]:
        context = {"model": model, "mode": mode, "header": _header([mode.proto_file])}
        files = [
            OutputFile(mode.session_path, render(env, "sdk/modes/mode.py.jinja", context).encode()),
            OutputFile(
                mode.base_path, render(env, "sdk/projections/base.py.jinja", context).encode()
            ),
        ]
        scaffold_path = mode.scaffold_path
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
        hooks = tuple(
            naming.qualified_name(mode.projection_class, action.hook) for action in mode.actions
        )
        files.append(OutputFile(scaffold_path, fresh.encode(), "scaffold", requires=hooks))
        return files


def _taken_modules() -> frozenset[str]:
    """Top-level modules of macp_sdk that a mode's 0.22.0-path module must not replace."""
    modules = {*contract.PUBLIC_MODULES, *contract.GENERATED_MODULES, "_registry"}
    return frozenset(m.split(".")[0] for m in modules)


def _with_generated_names(
    shims: tuple[ReexportModel, ...],
    facts: FactsModel,
    compat: tuple[CompatModule, ...] = (),
) -> tuple[ReexportModel, ...]:
    """Generated facts also offered where 0.22.0 offered them: mode ids in `constants`, the
    modes' anomaly kinds in `base_projection`, the field validators in `validation`."""
    registry = f"{SDK_PACKAGE}._registry"
    extra: dict[str, list[tuple[str, str]]] = {
        "constants": [(registry, f.mode_constant) for f in facts.modes]
        + [(registry, "STANDARD_MODES")],
        "base_projection": [
            (f"{SDK_PACKAGE}.facts.{f.module}", a.name) for f in facts.modes for a in f.anomalies
        ],
        "validation": [
            (f"{SDK_PACKAGE}.{m.module}", v.function) for m in compat for v in m.validators
        ],
    }
    return tuple(
        replace(shim, generated=tuple(sorted(extra.get(shim.module, []), key=lambda e: e[1])))
        for shim in shims
    )


def _exports(
    model: SdkModel,
    facts: FactsModel,
    policy: PolicyModel | None = None,
    compat: tuple[CompatModule, ...] = (),
) -> tuple[tuple[str, str], ...]:
    """(module relative to macp_sdk, name) for the public API; a name exported twice is an error."""
    exports = core_exports()
    exports.extend(("policy", name) for name in (policy.exports if policy else ()))
    registry_names = ["MODE_REGISTRY", "STANDARD_MODES", "ModeInfo", "decode_envelope"]
    registry_names += ["describe_envelope", *(f.mode_constant for f in facts.modes)]
    for name in registry_names:
        exports.append(("_registry", name))
    for mode_facts in facts.modes:
        for anomaly in mode_facts.anomalies:
            exports.append((f"facts.{mode_facts.module}", anomaly.name))
    if model.service is not None:
        for flavour in client_flavours():
            exports.append((flavour.module, flavour.class_name))
        for rpc in model.service.watchers:
            if rpc.watcher is not None:
                exports.append(("watchers", rpc.watcher.class_name))
                exports.append(("watchers", rpc.watcher.async_class_name))
    else:  # no service, no generated modules to re-export from
        generated = set(generated_module_reexports())
        exports = [e for e in exports if e[0] not in generated]
    for mode in model.modes:
        exports.append((mode.session_module, mode.session_class))
        exports.append((mode.session_module, mode.async_session_class))
        exports.append((mode.projection_module, mode.projection_class))
    if model.modes:
        exports.append(("proto_registry", "ProtoRegistry"))
    for module in compat:
        exports.extend((module.module, a.name) for a in module.aliases)
        exports.extend((module.module, v.function) for v in module.validators)
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


def _bindings_roots(package: str) -> dict[str, Path]:
    """The folders of an installed bindings package, found without importing it."""
    spec = importlib.util.find_spec(package.split(".", 1)[0])
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return {f"bindings {i}": Path(location) for i, location in enumerate(sorted(locations))}


def _digest_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and not any(p.startswith(".") or p == "__pycache__" for p in path.relative_to(root).parts)
    )


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"
