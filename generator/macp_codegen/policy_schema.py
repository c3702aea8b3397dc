"""Policy rule schemas (`<mode>-rules.schema.json`) -> checked, typed rule sections.

Reads the JSON Schema subset the protocol's rule schemas use: an object of sections, each an
object of scalar, list, number-map or one-level nested members, with `enum`, bounds,
`default`, and `allOf` conditionals of the form "if section.field is X then ...". Anything
else is a located error (file:line:column), never silently ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CodegenError, SourceLocation

SCHEMA_SUFFIX = "-rules.schema.json"

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
    values_minimum: float | None
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
            self.values_minimum,
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
class RulesSchema:
    mode_name: str  # the file stem before -rules.schema.json: a mode's short name
    source: str  # project-relative path, for headers and errors
    title: str
    description: str
    sections: tuple[Section, ...]
    conditionals: tuple[Conditional, ...]


class _Reader:
    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        self.text = path.read_text(encoding="utf-8")
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
        previous one, which finds it in any schema whose keys are written once per object."""
        offset = 0
        for part in pointer:
            if isinstance(part, int):
                continue
            found = self.text.find(json.dumps(part), offset)
            if found < 0:
                break
            offset = found
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return SourceLocation(self.label, line, column)

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


def read_rules_schema(path: Path, label: str) -> RulesSchema:
    reader = _Reader(path, label)
    root = reader.obj(reader.data, (), "a rule schema")
    reader.known(root, {"$schema", "$id", "type", "properties", "allOf"}, ())
    if root.get("type") != "object":
        raise reader.fail(
            ("type",), 'a rule schema\'s type must be "object"', 'set "type": "object"'
        )
    properties = reader.obj(root.get("properties"), ("properties",), "properties")
    sections = tuple(_section(reader, key, value) for key, value in properties.items())
    conditionals = _conditionals(reader, root.get("allOf", []), sections)
    return RulesSchema(
        mode_name=path.name.removesuffix(SCHEMA_SUFFIX),
        source=label,
        title=str(root.get("title", "")),
        description=str(root.get("description", "")),
        sections=sections,
        conditionals=conditionals,
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
    values_minimum: float | None = None
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
        allowed |= {"additionalProperties"}
        item = reader.obj(node["additionalProperties"], (*pointer, "additionalProperties"), "map")
        values = item.get("type")
        if values not in ("number", "integer") or set(item) - {"type", "minimum"} - _IGNORED:
            raise reader.fail(
                (*pointer, "additionalProperties"),
                "a map's values must be numbers with an optional minimum",
                'e.g. {"type": "number", "minimum": 0}',
            )
        values_minimum = item.get("minimum")
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
    bounds = tuple((_BOUNDS[name], node[name]) for name in _BOUNDS if name in node)
    for name, bound in bounds:
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise reader.fail((*pointer, name), f"{name} must be a number", "write a number")
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
        values_minimum=values_minimum,
        members=members,
    )


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
            found.append(_conditional(clause, known))
        except _Unsupported as exc:
            raise reader.fail(pointer, f"unsupported allOf clause: {exc}", hint) from None
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


def find_rules_schemas(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(root.rglob(f"*{SCHEMA_SUFFIX}"))
