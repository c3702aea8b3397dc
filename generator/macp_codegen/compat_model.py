"""The model of macp-sdk-python 0.22.0's paths: `macp_sdk.<mode>` modules, from the mode model.

0.22.0 kept each mode in one module (`macp_sdk.decision`, ...) with its own record class names
and field validators (`validate_vote`, ...). Code written for it imports from those paths, so
each mode also gets such a module: it re-exports the session classes and the projection, offers
the names listed in `(macp.sdk.v1.mode).compat_names` as aliases, and defines one validator per
field whose values the proto restricts (allowed values, or a closed numeric range).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from . import naming
from .core_contract import SDK_PACKAGE
from .errors import NameCollisionError, OptionError
from .model import FieldModel, ModeModel
from .modeling import PROJECTIONS_PACKAGE

# Modules of macp_sdk that a mode's 0.22.0-path module must not replace.
_TAKEN_MODULES = frozenset(
    {
        "modes",
        "projections",
        "facts",
        "local_runtime",
        "client",
        "async_client",
        "watchers",
        "policy",
        "validation",
        "proto_registry",
        "async_session",
        "agent",
    }
)
_NUMERIC = frozenset({"double", "float"})


@dataclass(frozen=True)
class CompatAlias:
    name: str  # 0.22.0's name
    target: str  # our class
    module: str  # relative to macp_sdk: the projection base (records) or the user's projection
    sibling: str  # the same module relative to macp_sdk.projections ("" for a builder)

    @property
    def is_projection(self) -> bool:
        """Offered by macp_sdk.projections too (records and projection-module names)."""
        return bool(self.sibling)

    @property
    def is_builder(self) -> bool:
        """A payload or envelope builder: also offered by macp_sdk.envelope, where 0.22.0
        kept its one mode builder (build_contribute_payload)."""
        return not self.sibling


@dataclass(frozen=True)
class FieldValidator:
    function: str  # e.g. validate_vote
    field: str  # proto field name (what the error names)
    annotation: str  # "str" or "float"
    allowed: tuple[str, ...]
    normalize: str
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class CompatModule:
    mode: ModeModel
    module: str  # relative to macp_sdk, e.g. decision
    path: str  # output path
    mode_constant: str  # e.g. MODE_DECISION
    aliases: tuple[CompatAlias, ...]
    validators: tuple[FieldValidator, ...]

    @property
    def projection_sibling(self) -> str:
        """The projection module relative to macp_sdk.projections, e.g. `.decision`."""
        return f".{self.mode.module}"

    @property
    def exports(self) -> tuple[str, ...]:
        names = [
            self.mode.session_class,
            self.mode.async_session_class,
            self.mode.projection_class,
            *(a.name for a in self.aliases),
            *(v.function for v in self.validators),
        ]
        return tuple(names)


def build_compat_modules(
    modes: tuple[ModeModel, ...], taken: frozenset[str]
) -> tuple[CompatModule, ...]:
    """One module per mode; `taken` are the public modules of the core (auth, errors, ...)."""
    built = [_compat_module(mode, taken | _TAKEN_MODULES) for mode in modes]
    # A validator name two modes would both define is left out of both: the top level
    # (`from macp_sdk import validate_x`) could not say which one it means.
    counts = Counter(v.function for m in built for v in m.validators)
    return tuple(
        CompatModule(
            m.mode,
            m.module,
            m.path,
            m.mode_constant,
            m.aliases,
            tuple(v for v in m.validators if counts[v.function] == 1),
        )
        for m in built
    )


def _compat_module(mode: ModeModel, taken: frozenset[str]) -> CompatModule:
    module = mode.module
    where = mode.options_location or mode.location
    if module in taken:
        raise NameCollisionError(
            where,
            f"mode short_name {mode.short_name!r} would replace the module {SDK_PACKAGE}.{module}",
            "set another (macp.sdk.v1.mode).short_name",
        )
    records = {a.record_class for a in mode.actions}
    builders = {b for a in mode.actions for b in (a.builder, a.payload_builder)}
    aliases = []
    for name, target in mode.compat_names:
        if not naming.is_identifier(name) or naming.is_reserved(name):
            raise OptionError(
                where,
                f"compat_names key {name!r} is not a usable Python name",
                "use the class name macp-sdk-python 0.22.0 used, e.g. DecisionVoteRecord",
            )
        if not naming.is_identifier(target):
            raise OptionError(
                where,
                f"compat_names value {target!r} (for {name!r}) is not a Python name",
                f"name a record class or builder of this mode ({', '.join(sorted(records))}, ...) "
                f"or a public "
                f"name of {SDK_PACKAGE}.{mode.projection_module}",
            )
        if target in builders:
            aliases.append(CompatAlias(name, target, mode.session_module, ""))
            continue
        sibling = mode.base_module if target in records else mode.module
        source = naming.qualified_name(PROJECTIONS_PACKAGE, sibling)
        aliases.append(CompatAlias(name, target, source, f".{sibling}"))
    validators = _validators(mode)
    own = {mode.session_class, mode.async_session_class, mode.projection_class}
    clash = own & {a.name for a in aliases}
    if clash:
        raise NameCollisionError(
            where,
            f"compat_names key {sorted(clash)[0]!r} is already a class of this mode",
            "drop it from (macp.sdk.v1.mode).compat_names",
        )
    return CompatModule(
        mode=mode,
        module=module,
        path=naming.module_file(SDK_PACKAGE, module),
        mode_constant=naming.mode_id_constant(mode.short_name),
        aliases=tuple(aliases),
        validators=validators,
    )


def _validators(mode: ModeModel) -> tuple[FieldValidator, ...]:
    found: dict[str, FieldValidator | None] = {}
    for action in mode.actions:
        for field in action.fields:
            validator = _validator(field)
            if validator is None:
                continue
            known = found.get(validator.function, validator)
            # The same parameter restricted differently by two messages: no single validator.
            found[validator.function] = validator if known == validator else None
    return tuple(v for _, v in sorted(found.items()) if v is not None)


def _validator(field: FieldModel) -> FieldValidator | None:
    if field.repeated or field.hidden:
        return None
    closed_range = field.minimum is not None and field.maximum is not None
    if field.allowed and field.proto_type == "string":
        annotation = "str"
    elif closed_range and field.proto_type in _NUMERIC:
        annotation = "float"
    else:
        return None
    return FieldValidator(
        function=f"validate_{field.param}",
        field=field.name,
        annotation=annotation,
        allowed=field.allowed,
        normalize=field.normalize,
        minimum=field.minimum,
        maximum=field.maximum,
    )
