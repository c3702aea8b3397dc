"""Checks and JSON assembly for the generated policy builders (`macp_sdk.policy`).

The builders are generated from the policy rule schemas; every fact (field, type, range,
allowed value, default) is printed by the generator as an argument to these helpers, so this
module knows JSON Schema keywords, never a mode's rules.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Final

from macp.v1 import policy_pb2

from .errors import MacpValidationError

# RFC-MACP-0012 §4: besides the standard sections, a rules object may carry `x-` vendor
# extensions (object-valued) and `_`/`$` annotations (any value). The spec's rule schemas do
# not close the top level, so these ride along; the shapes are 0.22.0's.
_EXTENSION_KEY: Final = re.compile(r"^x-[a-z0-9]+(\.[a-z0-9-]+)+$")
_ANNOTATION_KEY: Final = re.compile(r"^[_$]")

_JSON_TYPES: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a finite number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
}


def _is_type(value: object, kind: str) -> bool:
    # bool is excluded from the numeric kinds: isinstance(True, int) holds in Python.
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(float(value))
        )
    if kind == "array":
        return isinstance(value, list | tuple)
    return isinstance(value, Mapping)


def check_value(
    path: str,
    value: object,
    *,
    kind: str | None = None,
    enum: Collection[object] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    exclusive_maximum: float | None = None,
    items: str | None = None,
    min_items: int | None = None,
    min_properties: int | None = None,
    values: str | None = None,
    values_minimum: float | None = None,
    values_exclusive_minimum: float | None = None,
    because: str = "",
) -> None:
    """Raise MacpValidationError unless `value` (not None) meets the schema keywords given;
    `because` names the condition under which a conditional check applies."""
    if value is None:
        return
    hint = f"Required when {because}." if because else ""
    if kind is not None and not _is_type(value, kind):
        raise MacpValidationError(path, value, _JSON_TYPES[kind], hint=hint)
    if enum is not None and value not in enum:
        allowed = "one of " + ", ".join(sorted(map(repr, enum)))
        raise MacpValidationError(path, value, allowed, hint=hint)
    if isinstance(value, int | float) and not isinstance(value, bool):
        bounds = (minimum, maximum, exclusive_minimum, exclusive_maximum)
        _check_range(path, value, *bounds, hint=hint)
    if isinstance(value, list | tuple):
        if min_items is not None and len(value) < min_items:
            raise MacpValidationError(path, value, f"at least {min_items} item(s)", hint=hint)
        if items is not None:
            for index, item in enumerate(value):
                check_value(f"{path}[{index}]", item, kind=items)
    if isinstance(value, Mapping):
        if min_properties is not None and len(value) < min_properties:
            raise MacpValidationError(path, value, f"at least {min_properties} key(s)")
        for key, item in value.items() if values is not None else ():
            check_value(
                f"{path}[{key!r}]",
                item,
                kind=values,
                minimum=values_minimum,
                exclusive_minimum=values_exclusive_minimum,
            )


def _check_range(
    path: str,
    value: float,
    minimum: float | None,
    maximum: float | None,
    exclusive_minimum: float | None,
    exclusive_maximum: float | None,
    *,
    hint: str,
) -> None:
    if minimum is not None and value < minimum:
        raise MacpValidationError(path, value, f">= {minimum}", hint=hint)
    if maximum is not None and value > maximum:
        raise MacpValidationError(path, value, f"<= {maximum}", hint=hint)
    if exclusive_minimum is not None and value <= exclusive_minimum:
        raise MacpValidationError(path, value, f"> {exclusive_minimum}", hint=hint)
    if exclusive_maximum is not None and value >= exclusive_maximum:
        raise MacpValidationError(path, value, f"< {exclusive_maximum}", hint=hint)


def require_present(path: str, value: object, because: str) -> None:
    """A member the schema makes required under a condition (`because`)."""
    if value is None:
        raise MacpValidationError(path, value, f"a value when {because}")


def reject_foreign(path: str, value: object, default: object, mode: str) -> None:
    """A field of a shared rules class that this mode's schema does not declare must stay at
    its default: it would otherwise be dropped silently."""
    if value != default:
        raise MacpValidationError(
            path, value, f"{default!r}: {mode} has no such rule", hint="leave it unset"
        )


def members(*pairs: tuple[str, object]) -> dict[str, object]:
    """A JSON object of the members that are set; an unset optional rule is omitted."""
    return {key: _plain(value) for key, value in pairs if value is not None}


def nested(*triples: tuple[str, object, object]) -> dict[str, object] | None:
    """A nested object when any of its members is set; the unset ones take their schema
    default (`None`: omitted). Nothing set: the whole object is omitted."""
    if all(value is None for _, value, _ in triples):
        return None
    return members(*((key, default if value is None else value) for key, value, default in triples))


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def add_extra_keys(
    rules: dict[str, object],
    extensions: Mapping[str, Mapping[str, object]] | None,
    annotations: Mapping[str, object] | None,
) -> None:
    """Append `x-` extension and `_`/`$` annotation keys, checking their shape only (whether a
    runtime admits an extension is its own business)."""
    for key, value in (extensions or {}).items():
        if key in rules:
            raise MacpValidationError("extensions", key, "a key that is not a rule section")
        if not isinstance(key, str) or not _EXTENSION_KEY.match(key):
            raise MacpValidationError("extensions", key, f"a key matching {_EXTENSION_KEY.pattern}")
        if not isinstance(value, Mapping):
            raise MacpValidationError(f"extensions[{key!r}]", value, "a mapping")
        rules[key] = dict(value)
    for key, note in (annotations or {}).items():
        if key in rules:
            raise MacpValidationError("annotations", key, "a key that is not a rule section")
        if not isinstance(key, str) or not _ANNOTATION_KEY.match(key):
            raise MacpValidationError("annotations", key, "a key starting with '_' or '$'")
        rules[key] = note


def descriptor(
    policy_id: str, mode: str, description: str, rules: Mapping[str, object], schema_version: int
) -> policy_pb2.PolicyDescriptor:
    """The PolicyDescriptor (the builder has checked `schema_version`)."""
    check_value("policy_id", policy_id, kind="string")
    if not policy_id:
        raise MacpValidationError("policy_id", policy_id, "a non-empty string")
    check_value("description", description, kind="string")
    return policy_pb2.PolicyDescriptor(
        policy_id=policy_id,
        mode=mode,
        description=description,
        rules=json.dumps(rules),
        schema_version=schema_version,
    )
