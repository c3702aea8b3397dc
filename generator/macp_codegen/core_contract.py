"""What the hand-written core offers the generated SDK, read from its contract module.

`macp_core.contract` is plain data (no grpc import), shared by the core and the generator:
the public modules the SDK re-exports and the base-session members a generated method must
not shadow.
"""

from __future__ import annotations

from dataclasses import dataclass

from macp_core import contract

from .errors import NameCollisionError, SourceLocation

SDK_PACKAGE = "macp_sdk"
CONTRACT_FILE = "macp_core/contract.py"


@dataclass(frozen=True)
class ReexportModel:
    """One generated module that re-exports a hand-written one."""

    path: str  # output path, e.g. macp_sdk/local_runtime/__init__.py
    module: str  # relative to macp_sdk, e.g. local_runtime
    source: str  # the hand-written module, e.g. macp_local_runtime
    names: tuple[str, ...]
    top_level: bool
    # Names generated from the protos that this module also offers (absolute module, name),
    # e.g. the mode ids in `constants`, as 0.22.0 had them there.
    generated: tuple[tuple[str, str], ...] = ()
    # Generated names imported on first use, so importing this module stays as cheap as its
    # core source (e.g. a mode's payload builder in `envelope`, where 0.22.0 had it).
    lazy: tuple[tuple[str, str], ...] = ()
    # Names defined (and exported at the top level) by another public module, offered here too.
    shared: tuple[str, ...] = ()
    # Deprecated aliases (alias, target), resolved by the source's `deprecated_alias`.
    deprecated: tuple[tuple[str, str], ...] = ()


def reexports() -> tuple[ReexportModel, ...]:
    found: list[ReexportModel] = []
    packages = {module.rsplit(".", 1)[0] for module in contract.PUBLIC_MODULES if "." in module}
    for module, spec in sorted(contract.PUBLIC_MODULES.items()):
        relative = module.replace(".", "/")
        path = (
            f"{SDK_PACKAGE}/{relative}/__init__.py"
            if module in packages
            else f"{SDK_PACKAGE}/{relative}.py"
        )
        found.append(
            ReexportModel(
                path,
                module,
                spec.source,
                spec.names,
                spec.top_level,
                shared=spec.shared,
                deprecated=spec.deprecated,
            )
        )
    return tuple(found)


def generated_module_reexports() -> dict[str, contract.Reexport]:
    """`macp_sdk.<module>` written from the service -> the core names it also re-exports."""
    return dict(contract.GENERATED_MODULES)


def reserved_session_names() -> frozenset[str]:
    return contract.SESSION_MEMBERS


def core_exports() -> list[tuple[str, str]]:
    """(module relative to macp_sdk, name) for every top-level public core name."""
    modules = {**contract.PUBLIC_MODULES, **contract.GENERATED_MODULES}
    return [
        (module, name)
        for module, spec in sorted(modules.items())
        if spec.top_level
        for name in spec.names
    ]


def check_unique_exports(exports: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for module, name in exports:
        if name in seen and seen[name] != module:
            raise NameCollisionError(
                SourceLocation(CONTRACT_FILE),
                f"public name {name!r} is exported by both {SDK_PACKAGE}.{seen[name]} and "
                f"{SDK_PACKAGE}.{module}",
                "rename one of them, or drop it from one module's PUBLIC_MODULES entry",
            )
        seen[name] = module
