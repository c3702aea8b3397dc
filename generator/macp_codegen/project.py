"""The one orchestrator: config -> descriptors -> model -> rendered files -> writer."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2
from macp_core import contract

from . import __version__, import_plans, naming
from .agent_modeling import build_participant_model
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
from .docs_model import index_path, mode_doc
from .errors import NameCollisionError, OptionError, SourceLocation
from .facts import FactsModel, build_facts
from .formatting import format_python
from .inputs import inputs_digest
from .model import ModeModel, SdkModel
from .modeling import build_model
from .policy_model import PolicyModel, load_policy_model
from .render import make_environment, render
from .service_modeling import build_service, client_flavours
from .sources import load_descriptor_input
from .writer import Manifest, OutputFile, Plan, Prepared, Writer, WriteReport

PROTO_PACKAGE = "macp"
# Modules the installed SDK ships; a mode package of its own never generates them.
INSTALLED_PREFIXES = (f"{PROTO_PACKAGE}/", "google/")


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
        if loaded is not None and self.config.bindings is not None and self._has_protos():
            # Installed bindings carry the wire, the project's protos the SDK options.
            from .overlay import with_project_options

            own = compile_protos(self.config.proto_root, self.config.include)
            return with_project_options(loaded, own)
        if loaded is not None:
            return loaded
        return compile_protos(self.config.proto_root, self.config.include)

    def _has_protos(self) -> bool:
        root = self.config.proto_root
        return root.is_dir() and any(root.rglob("*.proto"))

    def build(
        self, compiled: CompiledProtos | None = None, prepared: Prepared | None = None
    ) -> Build:
        """The model and every output file; `compiled` comes from a protoc/buf plugin request
        (otherwise the configured inputs are compiled). The formatter leaves its files in
        `prepared` when given (see `Writer.preparing`)."""
        # First repair an interrupted swap: the build reads the user's scaffolds from the
        # output folder, and building without them would replace their code with fresh stubs.
        self.writer.recover()
        if compiled is None:
            compiled = self.compile()
        model = build_model(
            compiled.descriptor_set,
            compiled.targets,
            compiled.source_paths,
            reserved_session_names(),
            self.config.sdk_package or SDK_PACKAGE,
        )
        notes: list[str] = []
        policy: PolicyModel | None = None
        if model.is_plugin:
            # A mode package of its own: the installed SDK brings the core, client and policy.
            check_plugin_modes(model)
        else:
            service = build_service(
                compiled.descriptor_set, compiled.targets, compiled.source_paths
            )
            model = replace(model, service=service)
            policy = load_policy_model(
                self.config.proto_root, self.config.project_root, model.modes
            )
        files = self._render(model, compiled, notes, policy, prepared)
        manifest = Manifest(
            generator=__version__,
            inputs=self.inputs_digest(),
            files={f.path: f.kind for f in files},
        )
        return Build(model, files, manifest, tuple(notes))

    def generate(self) -> tuple[Build, WriteReport]:
        # The formatted files are moved into the new tree instead of being written twice.
        with self.writer.preparing() as prepared:
            build = self.build(prepared=prepared)
            return build, self.writer.write(build.files, build.manifest, prepared)

    def plan(self) -> tuple[Build, Plan]:
        build = self.build()
        return build, self.writer.plan(build.files)

    def inputs_digest(self) -> str:
        """Hash of everything that shapes the output (see :func:`inputs.inputs_digest`)."""
        return inputs_digest(self.config)

    def _render(
        self,
        model: SdkModel,
        compiled: CompiledProtos,
        notes: list[str],
        policy: PolicyModel | None = None,
        prepared: Prepared | None = None,
    ) -> tuple[OutputFile, ...]:
        env = make_environment(self.config.templates)
        files: list[OutputFile] = []
        for path, text in compiled.modules.items():
            if model.is_plugin and path.startswith(INSTALLED_PREFIXES):
                continue  # the installed SDK ships these modules (macp.v1, options, ...)
            # protoc's and mypy-protobuf's own output: typed (mypy reads the stubs) but not
            # written to this project's lint rules, so say so instead of excluding folders.
            header = _header([_proto_source_of(path)]) + "\n# ruff: noqa"
            files.append(OutputFile(path, _with_header(text, header)))
        facts = build_facts(compiled.descriptor_set, model)
        sdk = model.sdk_package
        compat = () if model.is_plugin else build_compat_modules(model.modes, _taken_modules())
        compat = _with_defined_targets(compat, self.config.output, notes)
        # The SDK's projections/__init__.py comes from _render_compat (it exports the
        # projections); without compat modules (a mode package) it is a plain package marker.
        sdk_packages = [f"{sdk}/facts", f"{sdk}/modes"] if model.modes else []
        if not compat and model.modes:
            sdk_packages.append(f"{sdk}/projections")
        proto_dirs = _package_dirs(
            {
                p: t
                for p, t in compiled.modules.items()
                if not model.is_plugin or not p.startswith(INSTALLED_PREFIXES)
            }
        )
        # Every package marker has the same context: rendered once, not once per folder.
        init = render(env, "package_init.py.jinja", {"header": _header(model.sources)}).encode()
        for package_dir in proto_dirs + sdk_packages:
            files.append(OutputFile(f"{package_dir}/__init__.py", init))
        if model.is_plugin:
            rendered = self._render_plugin(env, model, facts, proto_dirs)
        else:
            files.append(OutputFile(f"{PROTO_PACKAGE}/py.typed", b""))
            rendered = self._render_sdk(env, model, facts, policy, compat)
        rendered.extend(self._render_service(env, model))
        if policy is not None:
            # Policy builders: generated from the rule schemas beside the protos.
            context = {
                "policy": policy,
                "header": _header(policy.sources),
                "imports": import_plans.policy_imports(policy, sdk),
            }
            text = render(env, "sdk/policy/policy.py.jinja", context)
            rendered.append(OutputFile(f"{sdk}/policy.py", text.encode()))
        for mode in model.modes:
            rendered.extend(self._render_mode(env, model, mode, notes))
        rendered.extend(self._render_compat(env, model, compat, facts))
        docs = [mode_doc(m) for m in facts.modes]  # each page, and the index of them all
        facts_imports = import_plans.facts_imports(sdk)
        for mode_facts, doc in zip(facts.modes, docs, strict=True):
            context = {
                "facts": mode_facts,
                "header": _header([mode_facts.mode.proto_file]),
                "imports": facts_imports,
            }
            text = render(env, "sdk/facts.py.jinja", context)
            rendered.append(OutputFile(f"{sdk}/facts/{mode_facts.module}.py", text.encode()))
            # The mode's reference page (docs/modes/<mode>.md), read by the documentation site.
            header = f"Generated by macp-codegen {__version__} from {mode_facts.mode.proto_file}."
            header += " Do not edit: run `macp-codegen generate`."
            text = render(env, "docs/mode.md.jinja", {"doc": doc, "header": header})
            rendered.append(OutputFile(doc.path, text.encode()))
        if docs:
            header = f"Generated by macp-codegen {__version__}."
            header += " Do not edit: run `macp-codegen generate`."
            text = render(env, "docs/index.md.jinja", {"docs": docs, "header": header})
            rendered.append(OutputFile(index_path(), text.encode()))
        rendered.extend(_render_participants(env, model, sdk))
        # Built-in templates print exact import blocks; a user's overlay may not.
        overlay = self.config.templates is not None
        files.extend(_formatted(rendered, self.config.output, prepared, fix_imports=overlay))
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
        eager = tuple(e for e in exports if e[1] in modules)
        context = {
            "model": model,
            "facts": facts,
            "header": header,
            "exports": exports,
            "eager_exports": eager,
        }
        rendered = {
            f"{SDK_PACKAGE}/__init__.py": (
                "sdk/__init__.py.jinja",
                import_plans.package_init_imports(SDK_PACKAGE, exports, bool(eager)),
            ),
            f"{SDK_PACKAGE}/_registry.py": (
                "sdk/_registry.py.jinja",
                import_plans.registry_imports(SDK_PACKAGE),
            ),
        }
        files = [
            OutputFile(path, render(env, template, {**context, "imports": imports}).encode())
            for path, (template, imports) in rendered.items()
        ]
        files.append(OutputFile(f"{SDK_PACKAGE}/py.typed", b""))
        for reexport in _with_generated_names(reexports(), facts, compat):
            shim: dict[str, object] = {
                "header": _header([CONTRACT_FILE]),
                "reexport": reexport,
                "sdk_package": SDK_PACKAGE,
                "imports": import_plans.reexport_imports(reexport, SDK_PACKAGE),
            }
            text = render(env, "sdk/reexport.py.jinja", shim)
            files.append(OutputFile(reexport.path, text.encode()))
        return files

    def _render_plugin(
        self, env: jinja2.Environment, model: SdkModel, facts: FactsModel, proto_dirs: list[str]
    ) -> list[OutputFile]:
        """A mode package of its own: its registry (named by an entry point), its public names,
        and a pyproject.toml that installs it with that entry point."""
        sdk = model.sdk_package
        header = _header(model.sources)
        exports = _plugin_exports(model, facts)
        context = {
            "model": model,
            "facts": facts,
            "header": header,
            "exports": exports,
            "eager_exports": (),
        }
        packages = sorted({d.split("/")[0] for d in proto_dirs} | {sdk})
        project = {
            "model": model,
            "distribution": sdk.replace("_", "-"),
            "packages": [name for p in packages for name in (p, f"{p}.*")],
        }
        init = {**context, "imports": import_plans.package_init_imports(sdk, exports, False)}
        registry = {**context, "imports": import_plans.plugin_registry_imports(model)}
        return [
            OutputFile(f"{sdk}/__init__.py", render(env, "sdk/__init__.py.jinja", init).encode()),
            OutputFile(
                f"{sdk}/_registry.py",
                render(env, "sdk/_plugin_registry.py.jinja", registry).encode(),
            ),
            OutputFile(f"{sdk}/py.typed", b""),
            OutputFile(
                "pyproject.toml", render(env, "plugin_pyproject.toml.jinja", project).encode()
            ),
        ]

    def _render_service(self, env: jinja2.Environment, model: SdkModel) -> list[OutputFile]:
        """The clients and watchers, from the service model (nothing without a service)."""
        if model.service is None:
            return []
        header = _header([model.service.proto_file])
        extra = generated_module_reexports()
        files = []
        for flavour in client_flavours():
            reexport = extra[flavour.module]
            # Annotations need TimeoutValue; import it unless the module re-exports it.
            timeout = "TimeoutValue" not in reexport.names
            context = {
                "header": header,
                "service": model.service,
                "flavour": flavour,
                "reexport": reexport,
                "import_timeout": timeout,  # read by templates written before `imports`
                "imports": import_plans.client_imports(
                    model.service, flavour, reexport, SDK_PACKAGE, import_timeout=timeout
                ),
            }
            text = render(env, "sdk/client.py.jinja", context)
            files.append(OutputFile(f"{SDK_PACKAGE}/{flavour.module}.py", text.encode()))
        context = {
            "header": header,
            "service": model.service,
            "reexport": extra["watchers"],
            "imports": import_plans.watchers_imports(model.service, extra["watchers"], SDK_PACKAGE),
        }
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
        if not compat:
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
            mode_anomalies = anomalies.get(module.mode.short_name, ("", ()))
            context: dict[str, object] = {"compat": module, "sdk_package": SDK_PACKAGE}
            context["anomalies"] = mode_anomalies
            context["header"] = _header([module.mode.proto_file])
            context["imports"] = import_plans.compat_imports(module, mode_anomalies, SDK_PACKAGE)
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
            "imports": import_plans.projections_init_imports(compat, constants, SDK_PACKAGE),
        }
        text = render(env, "sdk/compat/projections_init.py.jinja", context)
        files.append(OutputFile(f"{SDK_PACKAGE}/projections/__init__.py", text.encode()))
        context = {"sdk_package": SDK_PACKAGE, "header": _header(model.sources)}
        mode_constants = sorted(m.mode_constant for m in compat)
        context["mode_constants"] = mode_constants
        context["imports"] = import_plans.proto_registry_imports(mode_constants, SDK_PACKAGE)
        text = render(env, "sdk/compat/proto_registry.py.jinja", context)
        files.append(OutputFile(f"{SDK_PACKAGE}/proto_registry.py", text.encode()))
        return files

    def _render_mode(
        self, env: jinja2.Environment, model: SdkModel, mode: ModeModel, notes: list[str]
    ) -> list[OutputFile]:
        context = {"model": model, "mode": mode, "header": _header([mode.proto_file])}
        package = model.sdk_package
        base = render(
            env,
            "sdk/projections/base.py.jinja",
            {**context, "imports": import_plans.projection_base_imports(mode, package)},
        )
        session = render(
            env,
            "sdk/modes/mode.py.jinja",
            {**context, "imports": import_plans.session_imports(mode, package)},
        )
        files = [
            OutputFile(mode.session_path, session.encode()),
            OutputFile(mode.base_path, base.encode()),
        ]
        handlers = tuple(action.hook for action in mode.actions)
        scaffold_path = mode.scaffold_path
        fresh = render(
            env,
            "sdk/projections/scaffold.py.jinja",
            {**context, "imports": import_plans.scaffold_imports(mode, package)},
        )
        on_disk = self.config.output / scaffold_path
        if on_disk.is_file():
            # libcst takes ~0.1 s to import; only a regeneration that merges pays for it.
            from .scaffold import merge_scaffold

            merged = merge_scaffold(
                on_disk.read_text(encoding="utf-8"), fresh, mode, str(on_disk), _top_names(base)
            )
            fresh, handlers = merged.text, merged.handlers
            notes.extend(
                f"{scaffold_path}: hook {hook} has no action any more (kept, not deleted)"
                for hook in merged.orphaned_hooks
            )
            notes.extend(f"{scaffold_path}: added hook {hook}" for hook in merged.added_hooks)
        hooks = tuple(naming.qualified_name(mode.projection_class, h) for h in handlers)
        files.append(OutputFile(scaffold_path, fresh.encode(), "scaffold", requires=hooks))
        return files


def _with_defined_targets(
    compat: tuple[CompatModule, ...], output: Path, notes: list[str]
) -> tuple[CompatModule, ...]:
    """0.22.0 names may point at classes the user's projection defines (compat_names): an alias
    whose class the projection does not (yet) define is left out, with a note, rather than
    generated as an import that fails."""
    kept = []
    for module in compat:
        mode = module.mode
        scaffold = output / mode.scaffold_path
        # A scaffold not yet written defines just the projection class.
        defined = (
            _top_names(scaffold.read_text(encoding="utf-8"))
            if scaffold.is_file()
            else frozenset({mode.projection_class})
        )
        aliases = []
        for alias in module.aliases:
            if alias.module == mode.projection_module and alias.target not in defined:
                notes.append(
                    f"{mode.scaffold_path}: compat name {alias.name} is left out: "
                    f"{alias.target} is not defined there (define it, then regenerate)"
                )
                continue
            aliases.append(alias)
        kept.append(replace(module, aliases=tuple(aliases)))
    return tuple(kept)


def _top_names(source: str) -> frozenset[str]:
    """The names a rendered module defines at top level (classes, functions, assignments)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def _taken_modules() -> frozenset[str]:
    """Top-level modules of macp_sdk that a mode's 0.22.0-path module must not replace."""
    modules = {*contract.PUBLIC_MODULES, *contract.GENERATED_MODULES, "_registry"}
    return frozenset(m.split(".")[0] for m in modules)


def _with_generated_names(
    shims: tuple[ReexportModel, ...],
    facts: FactsModel,
    compat: tuple[CompatModule, ...] = (),
) -> tuple[ReexportModel, ...]:
    """Generated facts also offered where 0.22.0 offered them: mode ids in `constants`,
    `base_session` and `agent.participant`, the modes' anomaly kinds in `base_projection`, the
    field validators in `validation`, and (imported on first use) the modes' builders that
    0.22.0 named in `envelope`."""
    registry = f"{SDK_PACKAGE}._registry"
    extra: dict[str, list[tuple[str, str]]] = {
        "constants": [(registry, f.mode_constant) for f in facts.modes]
        + [(registry, "STANDARD_MODES")],
        "agent.participant": [(registry, f.mode_constant) for f in facts.modes],
        "base_projection": [
            (f"{SDK_PACKAGE}.facts.{f.module}", a.name) for f in facts.modes for a in f.anomalies
        ],
        "validation": [
            (f"{SDK_PACKAGE}.{m.module}", v.function) for m in compat for v in m.validators
        ],
    }
    lazy: dict[str, list[tuple[str, str]]] = {
        "base_session": [(registry, f.mode_constant) for f in facts.modes],
        "envelope": [
            (f"{SDK_PACKAGE}.{m.module}", a.name) for m in compat for a in m.aliases if a.is_builder
        ],
    }
    return tuple(
        replace(
            shim,
            generated=tuple(sorted(extra.get(shim.module, []), key=lambda e: e[1])),
            lazy=tuple(sorted(lazy.get(shim.module, []), key=lambda e: e[1])),
        )
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
        participant = build_participant_model(mode)
        for name in (participant.participant_class, participant.async_participant_class):
            exports.append((f"participants.{mode.module}", name))
    if model.modes:
        exports.append(("proto_registry", "ProtoRegistry"))
    for module in compat:
        exports.extend((module.module, a.name) for a in module.aliases)
        exports.extend((module.module, v.function) for v in module.validators)
    check_unique_exports(exports)
    return tuple(sorted(set(exports), key=lambda e: (e[1], e[0])))


def _render_participants(env: jinja2.Environment, model: SdkModel, sdk: str) -> list[OutputFile]:
    """<sdk>/participants: one module of typed agent participants per mode."""
    participants = [build_participant_model(mode) for mode in model.modes]
    if not participants:
        return []
    files = [
        OutputFile(
            f"{sdk}/participants/{p.mode.module}.py",
            render(
                env,
                "sdk/participants/mode.py.jinja",
                {
                    "participant": p,
                    "header": _header([p.mode.proto_file]),
                    "imports": import_plans.participant_imports(p, sdk),
                },
            ).encode(),
        )
        for p in participants
    ]
    init = render(
        env,
        "sdk/participants/__init__.py.jinja",
        {
            "participants": participants,
            "header": _header(model.sources),
            "imports": import_plans.participants_init_imports(participants, sdk),
        },
    )
    files.append(OutputFile(f"{sdk}/participants/__init__.py", init.encode()))
    return files


def check_plugin_modes(model: SdkModel) -> None:
    """A mode package's protos need a package of their own: `macp` is the installed SDK's."""
    for mode in model.modes:
        if mode.pb2_module.startswith(f"{PROTO_PACKAGE}."):
            raise OptionError(
                mode.location,
                f"mode {mode.id} is in proto package {mode.package}, inside the installed "
                f"SDK's {PROTO_PACKAGE!r} package, so the mode package {model.sdk_package} "
                "could not ship its protobuf module",
                "move the proto to a package of your own, e.g. acme.auction.v1",
            )


def _plugin_exports(model: SdkModel, facts: FactsModel) -> tuple[tuple[str, str], ...]:
    """A mode package's public names: its sessions, projections and mode id constants."""
    exports = [("_registry", "MODES"), *(("_registry", f.mode_constant) for f in facts.modes)]
    for mode in model.modes:
        exports.append((mode.session_module, mode.session_class))
        exports.append((mode.session_module, mode.async_session_class))
        exports.append((mode.projection_module, mode.projection_class))
    check_unique_exports(exports)
    return tuple(sorted(set(exports), key=lambda e: (e[1], e[0])))


def _formatted(
    files: list[OutputFile],
    output: Path,
    prepared: Prepared | None = None,
    *,
    fix_imports: bool = False,
) -> list[OutputFile]:
    """Formats rendered Python; a scaffold that already exists on disk is the user's, untouched.
    The formatter's files stay in `prepared`, which records their bytes for the writer."""
    to_format = {
        f.path: f.content
        for f in files
        if f.path.endswith(".py") and not (f.kind == "scaffold" and (output / f.path).is_file())
    }
    folder = prepared.folder if prepared is not None else None
    formatted = format_python(to_format, folder, fix_imports=fix_imports)
    if prepared is not None:
        prepared.holds.update(formatted)
    return [replace(f, content=formatted[f.path]) if f.path in formatted else f for f in files]


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
