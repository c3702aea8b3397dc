"""Policy rule schemas (`<mode>-rules.schema.json`) -> checked, typed rule sections.

Reads the JSON Schema subset the protocol's rule schemas use: an object of sections, each an
object of scalar, list, number-map or one-level nested members, with `enum`, bounds,
`default`, and `allOf` conditionals of the form "if section.field is X then ...". Anything
else is a located error (file:line:column), never silently ignored.

`builder-overrides.json` beside the schemas refines them for the builders (the defaults and
refusals macp-sdk-python 0.22.0 has beyond the spec's schemas, and each builder's
`schema_version`): per mode (or `*` for all) JSON Schema fragments merged into the schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CodegenError, SourceLocation
from .tree import files_under

SCHEMA_SUFFIX = "-rules.schema.json"
OVERRIDES_NAME = "builder-overrides.json"
ALL_MODES = "*"

_IGNORED = frozenset({"description", "title", "$comment", "examples"})
_SCALARS = frozenset({"string", "integer", "number", "boolean"})
# JSON Schema keyword -> check_value keyword (macp_core._policy_support).
_BOUNDS = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
}


class PolicySchemaError(CodegenError):
    """A policy rule schema the generator cannot turn into a builder."""


@dataclass(frozen=True)
class Prop:
    """One member of a section. `kind` is a JSON type; lists and maps name their item type."""

    key: str
    kind: str  # string | integer | number | boolean | array | map | object
    description: str
    default: Any  # the schema's default, or None
    has_default: bool
    enum: tuple[Any, ...] | None
    bounds: tuple[tuple[str, float], ...]  # (check_value keyword, bound)
    items: str | None  # array item type
    min_items: int | None
    values: str | None  # map value type
    values_bounds: tuple[tuple[str, float], ...]  # (check_value keyword, bound) per map value
    min_properties: int | None  # a map's least number of entries
    members: tuple[Prop, ...]  # nested object members (scalars only)

    def signature(self) -> tuple[object, ...]:
        """What makes two declarations of a member the same rule (descriptions aside)."""
        return (
            self.kind,
            json.dumps(self.default),
            self.enum,
            self.bounds,
            self.items,
            self.min_items,
            self.values,
            self.values_bounds,
            self.min_properties,
            tuple(m.signature() for m in self.members),
        )


@dataclass(frozen=True)
class Section:
    key: str
    description: str
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class Conditional:
    """if `<section>.<field>` == value then `required` members exist and `checks` hold."""

    section: str
    field: str
    value: Any
    required: tuple[tuple[str, str], ...]  # (section, member)
    checks: tuple[tuple[str, str, tuple[tuple[str, float | int], ...]], ...]


@dataclass(frozen=True)
class SchemaVersion:
    """A builder's `schema_version` parameter: its default and the versions it accepts
    (empty: any version >= 1)."""

    default: int = 1
    allowed: tuple[int, ...] = ()


@dataclass(frozen=True)
class RulesSchema:
    mode_name: str  # the file stem before -rules.schema.json: a mode's short name
    source: str  # project-relative path, for headers and errors
    title: str
    description: str
    sections: tuple[Section, ...]
    conditionals: tuple[Conditional, ...]
    schema_version: SchemaVersion = SchemaVersion()


class _Reader:
    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        self.text = path.read_text(encoding="utf-8")
        # Further (label, text, pointer prefix) searched when a member is not in this file:
        # the overrides merged into a schema.
        self.others: list[tuple[str, str, tuple[str | int, ...]]] = []
        try:
            self.data = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise PolicySchemaError(
                SourceLocation(label, exc.lineno, exc.colno),
                f"not valid JSON: {exc.msg}",
                "fix the JSON syntax of this rule schema",
            ) from None

    def where(self, pointer: tuple[str | int, ...]) -> SourceLocation:
        """Line and column of the member `pointer` names: each key is searched for after the
        previous one, which finds it in any schema whose keys are written once per object.
        A member that this file lacks is looked for in the overrides merged into it."""
        offset, complete = _find(self.text, pointer)
        if not complete:
            for label, text, prefix in reversed(self.others):  # the mode's own first
                other, found = _find(text, (*prefix, *pointer))
                if found:
                    return _location(label, text, other)
        return _location(self.label, self.text, offset)

    def fail(self, pointer: tuple[str | int, ...], message: str, hint: str) -> PolicySchemaError:
        return PolicySchemaError(self.where(pointer), message, hint)

    def obj(self, value: object, pointer: tuple[str | int, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(pointer, f"{what} must be a JSON object", "see RFC-MACP-0012 §4")
        return value

    def known(
        self, node: dict[str, Any], allowed: set[str], pointer: tuple[str | int, ...]
    ) -> None:
        for key in node:
            if key not in allowed and key not in _IGNORED:
                raise self.fail(
                    (*pointer, key),
                    f"JSON Schema keyword {key!r} is not supported in a policy rule schema",
                    f"use only {', '.join(sorted(allowed))} here",
                )


def _find(text: str, pointer: tuple[str | int, ...]) -> tuple[int, bool]:
    offset = 0
    for part in pointer:
        if isinstance(part, int):
            continue
        found = text.find(json.dumps(part), offset)
        if found < 0:
            return offset, False
        offset = found
    return offset, True


def _location(label: str, text: str, offset: int) -> SourceLocation:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return SourceLocation(label, line, column)


class Overrides:
    """`builder-overrides.json`: per mode short name (or `*`), `schema_version` and JSON
    Schema fragments (`properties`, `allOf`) refining that mode's rule schema."""

    def __init__(self, path: Path, label: str) -> None:
        self.reader = _Reader(path, label)
        root = self.reader.obj(self.reader.data, (), "the builder overrides")
        self.entries: dict[str, dict[str, Any]] = {}
        for key, value in root.items():
            if key in _IGNORED:
                continue
            entry = self.reader.obj(value, (key,), f"the overrides of {key!r}")
            self.reader.known(entry, {"schema_version", "properties", "allOf"}, (key,))
            if "schema_version" in entry:
                _schema_version(self.reader, entry["schema_version"], (key, "schema_version"))
            self.entries[key] = entry

    def check_modes(self, modes: set[str]) -> None:
        for key in self.entries:
            if key != ALL_MODES and key not in modes:
                raise self.reader.fail(
                    (key,),
                    f"no rule schema {key}{SCHEMA_SUFFIX} for these overrides",
                    f"name a mode with a rule schema ({', '.join(sorted(modes))}) or {ALL_MODES!r}",
                )

    def apply(self, reader: _Reader, root: dict[str, Any], mode: str) -> SchemaVersion:
        """Merge the overrides for `mode` into the schema `root` (in place)."""
        version: dict[str, Any] = {}
        for key in (ALL_MODES, mode):
            entry = self.entries.get(key)
            if entry is None:
                continue
            reader.others.append((self.reader.label, self.reader.text, (key,)))
            version.update(entry.get("schema_version", {}))
            fragment = {k: v for k, v in entry.items() if k != "schema_version"}
            if key == ALL_MODES:
                fragment = _applicable(root, fragment)
            _merge(self.reader, root, fragment, (key,))
        if not version:
            return SchemaVersion()
        return _schema_version(self.reader, version, (mode, "schema_version"))


def _applicable(root: dict[str, Any], fragment: dict[str, Any]) -> dict[str, Any]:
    """`*` applies to every schema that declares the sections it names: a section it refines,
    or an allOf clause whose sections, that a schema lacks is left out for that schema."""
    declared = root.get("properties")
    sections = set(declared) if isinstance(declared, dict) else set()

    def names(clause: Any) -> set[str]:
        found: set[str] = set()
        for part in ("if", "then"):
            node = clause.get(part) if isinstance(clause, dict) else None
            properties = node.get("properties") if isinstance(node, dict) else None
            found |= set(properties) if isinstance(properties, dict) else {""}
        return found

    out = dict(fragment)
    if isinstance(fragment.get("properties"), dict):
        out["properties"] = {k: v for k, v in fragment["properties"].items() if k in sections}
    if isinstance(fragment.get("allOf"), list):
        out["allOf"] = [c for c in fragment["allOf"] if names(c) <= sections]
    return out


def _merge(
    reader: _Reader, base: dict[str, Any], extra: dict[str, Any], pointer: tuple[str | int, ...]
) -> None:
    """Deep merge: objects merge, `allOf` lists append, other values replace. An override may
    only refine a member the schema declares (a misspelt name is an error, not a new rule)."""
    for key, value in extra.items():
        here = (*pointer, key)
        current = base.get(key)
        if key == "allOf" and isinstance(value, list):
            base[key] = [*(current if isinstance(current, list) else []), *value]
        elif isinstance(value, dict) and isinstance(current, dict):
            if key == "properties":
                for name in value:
                    if name not in current:
                        raise reader.fail(
                            (*here, name),
                            f"the schema declares no rule {name!r} here to override",
                            f"override one of {', '.join(current)}",
                        )
            _merge(reader, current, value, here)
        elif isinstance(value, dict) and key == "properties":
            raise reader.fail(here, "the schema declares no members here", "remove it")
        else:
            base[key] = value


def _schema_version(
    reader: _Reader, value: object, pointer: tuple[str | int, ...]
) -> SchemaVersion:
    node = reader.obj(value, pointer, "schema_version")
    reader.known(node, {"default", "enum"}, pointer)
    allowed = node.get("enum", [])
    default = node.get("default", 1)
    positive = [v for v in [default, *allowed] if type(v) is int and v >= 1]
    if len(positive) != 1 + len(allowed) or (allowed and default not in allowed):
        raise reader.fail(
            pointer,
            "schema_version needs an integer default >= 1 and an enum of such integers "
            "that holds the default",
            'e.g. {"default": 3, "enum": [1, 2, 3]}',
        )
    return SchemaVersion(default, tuple(sorted(allowed)))


def read_rules_schema(path: Path, label: str, overrides: Overrides | None = None) -> RulesSchema:
    reader = _Reader(path, label)
    root = reader.obj(reader.data, (), "a rule schema")
    mode_name = path.name.removesuffix(SCHEMA_SUFFIX)
    version = overrides.apply(reader, root, mode_name) if overrides else SchemaVersion()
    reader.known(root, {"$schema", "$id", "type", "properties", "allOf"}, ())
    if root.get("type") != "object":
        raise reader.fail(
            ("type",), 'a rule schema\'s type must be "object"', 'set "type": "object"'
        )
    properties = reader.obj(root.get("properties"), ("properties",), "properties")
    sections = tuple(_section(reader, key, value) for key, value in properties.items())
    conditionals = _conditionals(reader, root.get("allOf", []), sections)
    return RulesSchema(
        mode_name=mode_name,
        source=label,
        title=str(root.get("title", "")),
        description=str(root.get("description", "")),
        sections=sections,
        conditionals=conditionals,
        schema_version=version,
    )


def _section(reader: _Reader, key: str, value: object) -> Section:
    pointer: tuple[str | int, ...] = ("properties", key)
    node = reader.obj(value, pointer, f"section {key!r}")
    reader.known(node, {"type", "properties"}, pointer)
    if node.get("type") != "object":
        raise reader.fail(
            (*pointer, "type"),
            f'section {key!r} must have type "object"',
            "rule sections are JSON objects",
        )
    _check_key(reader, key, pointer)
    members = reader.obj(node.get("properties", {}), (*pointer, "properties"), "properties")
    props = tuple(
        _prop(reader, name, spec, (*pointer, "properties", name), nested_ok=True)
        for name, spec in members.items()
    )
    return Section(key, str(node.get("description", "")), props)


def _check_key(reader: _Reader, key: str, pointer: tuple[str | int, ...]) -> None:
    if not key.isidentifier() or not key.isascii() or key != key.lower():
        raise reader.fail(
            pointer,
            f"rule name {key!r} is not a lower-case Python identifier",
            "rule names become parameter and attribute names",
        )


def _prop(
    reader: _Reader, key: str, value: object, pointer: tuple[str | int, ...], *, nested_ok: bool
) -> Prop:
    node = reader.obj(value, pointer, f"rule {key!r}")
    _check_key(reader, key, pointer)
    kind = node.get("type")
    allowed = {"type", "default", "enum", *_BOUNDS}
    items = values = None
    min_items: int | None = None
    min_properties: int | None = None
    values_bounds: tuple[tuple[str, float], ...] = ()
    members: tuple[Prop, ...] = ()
    if kind == "array":
        allowed |= {"items", "minItems"}
        item = reader.obj(node.get("items"), (*pointer, "items"), "items")
        items = item.get("type")
        if items not in _SCALARS or set(item) - {"type"} - _IGNORED:
            raise reader.fail(
                (*pointer, "items"),
                "list items must be a plain scalar type",
                'e.g. "items": {"type": "string"}',
            )
        min_items = node.get("minItems")
    elif kind == "object" and "additionalProperties" in node:
        allowed |= {"additionalProperties", "minProperties"}
        item = reader.obj(node["additionalProperties"], (*pointer, "additionalProperties"), "map")
        values = item.get("type")
        if values not in ("number", "integer") or set(item) - {"type", *_BOUNDS} - _IGNORED:
            raise reader.fail(
                (*pointer, "additionalProperties"),
                "a map's values must be numbers with optional bounds",
                'e.g. {"type": "number", "minimum": 0}',
            )
        values_bounds = _bounds(reader, item, (*pointer, "additionalProperties"))
        min_properties = node.get("minProperties")
        if min_properties is not None and (type(min_properties) is not int or min_properties < 0):
            raise reader.fail(
                (*pointer, "minProperties"), "minProperties must be a count", "e.g. 1"
            )
        kind = "map"
    elif kind == "object" and nested_ok:
        allowed |= {"properties"}
        inner = reader.obj(node.get("properties", {}), (*pointer, "properties"), "properties")
        members = tuple(
            _prop(reader, name, spec, (*pointer, "properties", name), nested_ok=False)
            for name, spec in inner.items()
        )
    elif kind not in _SCALARS:
        raise reader.fail(
            (*pointer, "type") if "type" in node else pointer,
            f"rule {key!r} has unsupported type {kind!r}",
            "use string, integer, number, boolean, a list, a number map or "
            "one level of nested object",
        )
    reader.known(node, allowed, pointer)
    enum = node.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        raise reader.fail((*pointer, "enum"), "enum must be a non-empty list", "list the values")
    bounds = _bounds(reader, node, pointer)
    return Prop(
        key=key,
        kind=kind,
        description=str(node.get("description", "")),
        default=node.get("default"),
        has_default="default" in node,
        enum=tuple(enum) if enum is not None else None,
        bounds=bounds,
        items=items,
        min_items=min_items,
        values=values,
        values_bounds=values_bounds,
        min_properties=min_properties,
        members=members,
    )


def _bounds(
    reader: _Reader, node: dict[str, Any], pointer: tuple[str | int, ...]
) -> tuple[tuple[str, float], ...]:
    for name in _BOUNDS:
        bound = node.get(name)
        if name in node and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise reader.fail((*pointer, name), f"{name} must be a number", "write a number")
    return tuple((_BOUNDS[name], node[name]) for name in _BOUNDS if name in node)


def _conditionals(
    reader: _Reader, value: object, sections: tuple[Section, ...]
) -> tuple[Conditional, ...]:
    if not isinstance(value, list):
        raise reader.fail(("allOf",), "allOf must be a list", "list if/then clauses")
    known = {s.key: {p.key: p for p in s.props} for s in sections}
    found: list[Conditional] = []
    for index, clause in enumerate(value):
        pointer: tuple[str | int, ...] = ("allOf", index)
        hint = (
            'write {"if": {"properties": {S: {"properties": {F: {"const": X}}}}}, '
            '"then": {"properties": {S: {"required": [...], "properties": {...}}}}}'
        )
        try:
            conditional = _conditional(clause, known)
        except _Unsupported as exc:
            raise reader.fail(pointer, f"unsupported allOf clause: {exc}", hint) from None
        # An override may restate a clause the schema already has (`*` for every mode).
        if conditional not in found:
            found.append(conditional)
    return tuple(found)


class _Unsupported(ValueError):
    """An allOf clause outside the supported "if member is X then ..." form."""


def _only(mapping: Any) -> tuple[str, Any]:
    """The single (key, value) of a one-member JSON object."""
    if not isinstance(mapping, dict) or len(mapping) != 1:
        raise _Unsupported("expected exactly one member")
    ((key, value),) = mapping.items()
    return key, value


def _member(known: dict[str, dict[str, Prop]], section: str, member: object) -> str:
    if not isinstance(member, str) or member not in known.get(section, {}):
        raise _Unsupported(f"{section}.{member} is not a declared rule")
    return member


def _conditional(clause: Any, known: dict[str, dict[str, Prop]]) -> Conditional:
    if not isinstance(clause, dict) or set(clause) != {"if", "then"}:
        raise _Unsupported("only if/then")
    condition = clause["if"]
    if not isinstance(condition, dict) or set(condition) - {"properties", "required"}:
        raise _Unsupported("unsupported if")
    section, tested = _only(condition.get("properties"))
    if not isinstance(tested, dict) or set(tested) - {"properties", "required"}:
        raise _Unsupported("unsupported if")
    field, const = _only(tested.get("properties"))
    _member(known, section, field)
    if not isinstance(const, dict) or set(const) != {"const"}:
        raise _Unsupported("the if must compare one member with a const")
    then = clause["then"]
    if not isinstance(then, dict) or set(then) != {"properties"}:
        raise _Unsupported("unsupported then")
    required: list[tuple[str, str]] = []
    checks: list[tuple[str, str, tuple[tuple[str, float | int], ...]]] = []
    for target, rule in then["properties"].items():
        if not isinstance(rule, dict) or set(rule) - {"required", "properties"}:
            raise _Unsupported("unsupported then member")
        required.extend((target, _member(known, target, m)) for m in rule.get("required", []))
        for member, spec in rule.get("properties", {}).items():
            _member(known, target, member)
            args: list[tuple[str, float | int]] = []
            for name, bound in spec.items():
                if name == "minItems" and isinstance(bound, int):
                    args.append(("min_items", bound))
                elif name in _BOUNDS and isinstance(bound, int | float):
                    args.append((_BOUNDS[name], bound))
                else:
                    raise _Unsupported(f"unsupported conditional keyword {name!r}")
            checks.append((target, member, tuple(args)))
    return Conditional(section, field, const["const"], tuple(required), tuple(checks))


def find_overrides(schema: Path) -> Path | None:
    path = schema.parent / OVERRIDES_NAME
    return path if path.is_file() else None


def find_rules_schemas(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = (parts for parts in files_under(str(root)) if parts[-1].endswith(SCHEMA_SUFFIX))
    return sorted(root.joinpath(*parts) for parts in found)
