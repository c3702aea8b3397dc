"""Rule schemas + modes -> the frozen model the policy template prints (`macp_sdk.policy`).

Every name and decision is made here: class names, field types and defaults, which checks a
builder runs and which members it emits. The template only prints this model.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import naming, policy_naming
from .errors import NameCollisionError, ReservedNameError, SourceLocation
from .model import ModeModel
from .policy_schema import (
    SCHEMA_SUFFIX,
    Overrides,
    PolicySchemaError,
    Prop,
    RulesSchema,
    Section,
    find_overrides,
    find_rules_schemas,
    read_rules_schema,
)

_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}

CheckArgs = tuple[tuple[str, str], ...]  # (check_value keyword, Python expression)


@dataclass(frozen=True)
class RuleField:
    name: str
    annotation: str
    default: str  # the dataclass default, as Python source
    doc: tuple[str, ...]  # docstring lines, wrapped


@dataclass(frozen=True)
class RuleClass:
    name: str
    doc: tuple[str, ...]
    fields: tuple[RuleField, ...]


@dataclass(frozen=True)
class EnumConstant:
    name: str
    values: str  # a frozenset literal
    doc: str


@dataclass(frozen=True)
class Check:
    path: str  # e.g. voting.quorum.type, for the error message
    attribute: str
    args: CheckArgs


@dataclass(frozen=True)
class Foreign:
    """A field of a shared class that this mode's schema lacks: it must stay at its default."""

    path: str
    attribute: str
    default: str


@dataclass(frozen=True)
class Member:
    """One emitted JSON member: a field, or a nested object of (key, attribute, default)."""

    key: str
    attribute: str | None
    nested: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class SectionUse:
    key: str
    param: str
    local: str
    class_name: str
    checks: tuple[Check, ...]
    foreign: tuple[Foreign, ...]
    members: tuple[Member, ...]


@dataclass(frozen=True)
class ConditionalUse:
    local: str
    attribute: str
    value: str  # Python literal
    because: str
    required: tuple[tuple[str, str, str], ...]  # (path, local, attribute)
    checks: tuple[tuple[str, str, CheckArgs], ...]  # (path, local.attribute, args)


@dataclass(frozen=True)
class Builder:
    function: str
    mode_id: str
    source: str
    title: str
    doc: tuple[str, ...]
    sections: tuple[SectionUse, ...]
    conditionals: tuple[ConditionalUse, ...]
    schema_version: int  # the parameter's default
    schema_version_check: CheckArgs


@dataclass(frozen=True)
class PolicyModel:
    sources: tuple[str, ...]
    enums: tuple[EnumConstant, ...]
    classes: tuple[RuleClass, ...]
    builders: tuple[Builder, ...]

    @property
    def uses_field_factory(self) -> bool:
        return any("default_factory" in f.default for c in self.classes for f in c.fields)

    @property
    def exports(self) -> tuple[str, ...]:
        names = [e.name for e in self.enums] + [c.name for c in self.classes]
        names += [b.function for b in self.builders]
        return tuple(sorted(names))


def load_policy_model(
    proto_root: Path, project_root: Path, modes: tuple[ModeModel, ...]
) -> PolicyModel | None:
    """None when the project has no rule schemas (then no `macp_sdk.policy` is generated)."""
    paths = find_rules_schemas(proto_root)
    if not paths:
        return None
    overrides: dict[Path, Overrides] = {}
    for path in paths:
        found = find_overrides(path)
        if found is not None and found not in overrides:
            overrides[found] = Overrides(found, _label(found, project_root))
            beside = {p.name.removesuffix(SCHEMA_SUFFIX) for p in paths if p.parent == path.parent}
            overrides[found].check_modes(beside)
    schemas = []
    for path in paths:
        found = find_overrides(path)
        label = _label(path, project_root)
        schemas.append(read_rules_schema(path, label, overrides[found] if found else None))
    return build_policy_model(schemas, modes)


def _label(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def build_policy_model(schemas: list[RulesSchema], modes: tuple[ModeModel, ...]) -> PolicyModel:
    by_name = {mode.short_name: mode for mode in modes}
    for schema in schemas:
        if schema.mode_name not in by_name:
            raise PolicySchemaError(
                SourceLocation(schema.source, 1, 1),
                f"no mode has the short name {schema.mode_name!r} this rule schema is named for",
                f"name it <short name>-rules.schema.json; modes: {', '.join(sorted(by_name))}",
            )
    for schema in schemas:
        _check_section_names(schema)
    classes = _classes(schemas)
    _check_class_names(classes, schemas)
    enums: dict[str, EnumConstant] = {}
    builders = tuple(
        _builder(schema, by_name[schema.mode_name], classes, enums) for schema in schemas
    )
    unique = {c.name: c for c in classes.values()}
    return PolicyModel(
        sources=tuple(s.source for s in schemas),
        enums=tuple(sorted(enums.values(), key=lambda e: e.name)),
        classes=tuple(unique.values()),
        builders=builders,
    )


def _check_section_names(schema: RulesSchema) -> None:
    for section in schema.sections:
        if section.key in policy_naming.BUILDER_PARAMETERS or not naming.is_identifier(section.key):
            raise ReservedNameError(
                SourceLocation(schema.source, 1, 1),
                f"rule section {section.key!r} cannot be a parameter of "
                f"{policy_naming.builder_function(schema.mode_name)}",
                f"{', '.join(sorted(policy_naming.BUILDER_PARAMETERS))} and Python keywords "
                "are taken",
            )


def _check_class_names(
    classes: dict[tuple[str, str], RuleClass], schemas: list[RulesSchema]
) -> None:
    """Two different classes must not get one name (e.g. a `proposal_acceptance` section and
    proposal's own `acceptance`). Reported at the section whose own name gives that name."""
    owner: dict[str, tuple[tuple[str, str], RuleClass]] = {}
    sources = {s.mode_name: s.source for s in schemas}
    for use, cls in sorted(classes.items()):
        other_use, other = owner.setdefault(cls.name, (use, cls))
        if other is cls or other.fields == cls.fields:
            continue
        literal = policy_naming.rules_class(use[1], None, [use[0]]) == cls.name
        here, there = (use, other_use) if literal else (other_use, use)
        raise NameCollisionError(
            SourceLocation(sources[here[0]], 1, 1),
            f"section {here[1]!r} would be named {cls.name}, like section {there[1]!r} of "
            f"{sources[there[0]]}",
            "rename the section so that the two classes differ",
        )


# --- classes ---------------------------------------------------------------------------


@dataclass
class _Group:
    """Declarations of one section key merged into one class: every member is declared alike."""

    key: str
    props: dict[str, Prop]
    modes: list[str]
    description: str


def _fits(group: _Group, section: Section) -> bool:
    """A section joins a class when its members are a subset, declared identically."""
    return all(
        p.key in group.props and group.props[p.key].signature() == p.signature()
        for p in section.props
    )


def _classes(schemas: list[RulesSchema]) -> dict[tuple[str, str], RuleClass]:
    """(mode name, section key) -> its class. Larger declarations first, so a smaller
    compatible one (quorum's `commitment` inside decision's) shares the larger class."""
    uses = sorted(
        ((schema.mode_name, section) for schema in schemas for section in schema.sections),
        key=lambda use: (-len(use[1].props), use[0], use[1].key),
    )
    groups: dict[str, list[_Group]] = {}
    placed: dict[tuple[str, str], _Group] = {}
    for mode_name, section in uses:
        candidates = groups.setdefault(section.key, [])
        group = next((g for g in candidates if _fits(g, section)), None)
        if group is None:
            group = _Group(section.key, {p.key: p for p in section.props}, [], section.description)
            candidates.append(group)
        group.modes.append(mode_name)
        group.description = group.description or section.description
        placed[(mode_name, section.key)] = group
    names: dict[int, RuleClass] = {}
    for key, candidates in groups.items():
        for group in candidates:
            owner = group.modes[0] if len(candidates) > 1 else None
            name = policy_naming.rules_class(key, owner, group.modes)
            names[id(group)] = RuleClass(name, _class_doc(group), _fields(group))
    return {use: names[id(group)] for use, group in placed.items()}


def _wrap(text: str) -> tuple[str, ...]:
    # Docstrings sit 4 spaces in; 88 columns leaves room for the quotes.
    return tuple(textwrap.wrap(text, 88)) or ("",)


def _class_doc(group: _Group) -> tuple[str, ...]:
    text = group.description or f"The `{group.key}` rules."
    return _wrap(f"{text} Used by: {', '.join(sorted(group.modes))}.")


def _fields(group: _Group) -> tuple[RuleField, ...]:
    fields: list[RuleField] = []
    for prop in group.props.values():
        if prop.kind == "object":
            for sub in prop.members:
                annotation = f"{_PY_TYPES[sub.kind]} | None"
                fields.append(
                    RuleField(f"{prop.key}_{sub.key}", annotation, "None", _doc(sub, prop.key))
                )
            continue
        fields.append(RuleField(prop.key, *_annotation_and_default(prop), _doc(prop, None)))
    return tuple(fields)


def _annotation_and_default(prop: Prop) -> tuple[str, str]:
    if prop.kind == "array":
        return f"list[{_PY_TYPES[prop.items or 'string']}]", "field(default_factory=list)"
    if prop.kind == "map":
        return f"dict[str, {_PY_TYPES[prop.values or 'number']}] | None", "None"
    py = _PY_TYPES[prop.kind]
    if not prop.has_default or prop.default is None:
        return f"{py} | None", "None"
    return py, _literal(prop.default, prop.kind)


def _doc(prop: Prop, parent: str | None) -> tuple[str, ...]:
    where = f"`{parent}.{prop.key}`" if parent else f"`{prop.key}`"
    return _wrap(f"{where}: {prop.description}" if prop.description else where)


def _literal(value: Any, kind: str | None = None) -> str:
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


# --- builders --------------------------------------------------------------------------


def _builder(
    schema: RulesSchema,
    mode: ModeModel,
    classes: dict[tuple[str, str], RuleClass],
    enums: dict[str, EnumConstant],
) -> Builder:
    locals_ = {s.key: f"{s.key}_rules" for s in schema.sections}
    sections = tuple(
        _section_use(
            schema, mode, section, classes[(schema.mode_name, section.key)], enums, locals_
        )
        for section in schema.sections
    )
    conditionals = tuple(
        ConditionalUse(
            local=locals_[c.section],
            attribute=c.field,
            value=_literal(c.value),
            because=f"{c.section}.{c.field} is {c.value!r}",
            required=tuple(
                (f"{s}.{m}", locals_[s], m) for s, m in c.required if _nullable(schema, s, m)
            ),
            checks=tuple(
                (f"{s}.{m}", f"{locals_[s]}.{m}", tuple((k, _literal(v)) for k, v in args))
                for s, m, args in c.checks
            ),
        )
        for c in schema.conditionals
    )
    return Builder(
        function=policy_naming.builder_function(mode.short_name),
        mode_id=mode.id,
        source=schema.source,
        title=schema.title or mode.title,
        doc=_wrap(
            f"{schema.description} Generated from `{schema.source}`. Raises "
            "MacpValidationError when a rule does not fit the schema."
        ),
        sections=sections,
        conditionals=conditionals,
        schema_version=schema.schema_version.default,
        schema_version_check=_schema_version_check(schema.schema_version.allowed),
    )


def _schema_version_check(allowed: tuple[int, ...]) -> CheckArgs:
    # macp-policy-descriptor.schema.json: an integer >= 1; overrides may name the versions a
    # builder accepts (those the runtime evaluates).
    if allowed:
        return (("kind", '"integer"'), ("enum", f"frozenset({{{', '.join(map(str, allowed))}}})"))
    return (("kind", '"integer"'), ("minimum", "1"))


def _nullable(schema: RulesSchema, section: str, member: str) -> bool:
    """A required member only needs a presence check when its field can be None; a list's
    `required` is met by its (possibly empty) value and any minItems check does the rest."""
    prop = next(p for s in schema.sections if s.key == section for p in s.props if p.key == member)
    return _annotation_and_default(prop)[1] == "None"


def _section_use(
    schema: RulesSchema,
    mode: ModeModel,
    section: Section,
    cls: RuleClass,
    enums: dict[str, EnumConstant],
    locals_: dict[str, str],
) -> SectionUse:
    checks: list[Check] = []
    members: list[Member] = []
    declared: set[str] = set()
    for prop in section.props:
        if prop.kind == "object":
            nested = []
            for sub in prop.members:
                attribute = f"{prop.key}_{sub.key}"
                declared.add(attribute)
                path = f"{section.key}.{prop.key}.{sub.key}"
                checks.append(Check(path, attribute, _check_args(sub, cls, attribute, enums)))
                # The schema's JSON default as written (`0`, not `0.0`): the emitted JSON
                # then matches 0.22.0's byte for byte.
                default = _literal(sub.default) if sub.has_default else "None"
                nested.append((sub.key, attribute, default))
            members.append(Member(prop.key, None, tuple(nested)))
            continue
        declared.add(prop.key)
        path = f"{section.key}.{prop.key}"
        checks.append(Check(path, prop.key, _check_args(prop, cls, prop.key, enums)))
        members.append(Member(prop.key, prop.key, ()))
    foreign = tuple(
        Foreign(f"{section.key}.{f.name}", f.name, _dataclass_default(f.default))
        for f in cls.fields
        if f.name not in declared
    )
    return SectionUse(
        key=section.key,
        param=section.key,
        local=locals_[section.key],
        class_name=cls.name,
        checks=tuple(checks),
        foreign=foreign,
        members=tuple(members),
    )


def _dataclass_default(default: str) -> str:
    return "[]" if default == "field(default_factory=list)" else default


def _check_args(
    prop: Prop, cls: RuleClass, attribute: str, enums: dict[str, EnumConstant]
) -> CheckArgs:
    kind = "object" if prop.kind == "map" else prop.kind
    args: list[tuple[str, str]] = [("kind", json.dumps(kind))]
    if prop.enum is not None:
        name = policy_naming.enum_constant(cls.name, attribute)
        values = ", ".join(_literal(v) for v in prop.enum)
        enums[name] = EnumConstant(name, f"frozenset({{{values}}})", f"{cls.name}.{attribute}")
        args.append(("enum", name))
    args += [(keyword, _literal(bound)) for keyword, bound in prop.bounds]
    if prop.items is not None:
        args.append(("items", json.dumps(prop.items)))
    if prop.min_items is not None:
        args.append(("min_items", _literal(prop.min_items)))
    if prop.values is not None:
        args.append(("values", json.dumps(prop.values)))
    if prop.min_properties is not None:
        args.append(("min_properties", _literal(prop.min_properties)))
    args += [(f"values_{keyword}", _literal(bound)) for keyword, bound in prop.values_bounds]
    return tuple(args)
