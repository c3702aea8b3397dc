"""SDK breaking rules, read from the frozen models of two versions.

- mode-removed / mode-id-changed: a mode (matched by proto file, then id) is gone or renamed.
- class-renamed / module-renamed: a generated class or `macp_sdk.modes` module got a new name.
- action-removed / action-renamed: an action is gone, or its Envelope.message_type changed.
- method-renamed / method-removed: a session method, or one of its aliases, is gone.
- required-fields-changed: the fields that must be non-empty before sending changed.
- parameter-removed / parameter-now-mandatory: a call that worked before now fails.
- oneof-changed: a oneof is new or has other members, so calls must now pass exactly one of
  them (a call passing none, or two, that worked before now fails).
Actions are matched by protobuf message, then message_type, then method, so a renamed message
whose options keep the action still compares with its old self.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .errors import SourceLocation
from .findings import Finding
from .model import ActionModel, ModeModel, SdkModel
from .service_rules import service_findings

T = TypeVar("T")
_MODE_CLASSES = (
    ("session_class", "session class"),
    ("async_session_class", "async session class"),
    ("projection_class", "projection class"),
    ("projection_base_class", "projection base class"),
    ("records_union", "record union"),
)


def sdk_findings(old: SdkModel, new: SdkModel) -> list[Finding]:
    findings: list[Finding] = []
    for mode in old.modes:
        match = _match(mode, new.modes, (lambda m: m.proto_file, lambda m: m.id))
        if match is None:
            findings.append(_sdk("mode-removed", mode.location, f"mode {mode.id} was removed"))
        else:
            findings.extend(_mode_findings(mode, match))
    findings.extend(service_findings(old.service, new.service))
    return findings


def _mode_findings(old: ModeModel, new: ModeModel) -> Iterator[Finding]:
    if old.id != new.id:
        yield _sdk("mode-id-changed", new.location, f"mode id {old.id} is now {new.id}")
    if old.module != new.module:
        yield _sdk(
            "module-renamed",
            new.location,
            f"module macp_sdk.modes.{old.module} is now macp_sdk.modes.{new.module}",
        )
    for attribute, what in _MODE_CLASSES:
        before, after = getattr(old, attribute), getattr(new, attribute)
        if before != after:
            yield _sdk("class-renamed", new.location, f"{what} {before} is now {after}")
    for action in old.actions:
        keys = (lambda a: a.full_name, lambda a: a.message_type, lambda a: a.method)
        match = _match(action, new.actions, keys)
        if match is None:
            yield _sdk(
                "action-removed",
                action.location,
                f"action {action.message_type} ({old.session_class}.{action.method}) of "
                f"{old.id} was removed",
            )
        else:
            yield from _action_findings(old, action, match)


def _action_findings(mode: ModeModel, old: ActionModel, new: ActionModel) -> Iterator[Finding]:
    where = new.location
    if old.message_type != new.message_type:
        yield _sdk(
            "action-renamed",
            where,
            f"action {old.message_type} of {mode.id} is now {new.message_type} "
            "(Envelope.message_type)",
        )
    if old.method != new.method:
        yield _sdk(
            "method-renamed",
            where,
            f"method {mode.session_class}.{old.method} is now {new.method}",
        )
    for alias in old.aliases:
        if alias not in (new.method, *new.aliases):
            yield _sdk("method-removed", where, f"method {mode.session_class}.{alias} was removed")
    required_before = {f.name for f in old.fields if f.required}
    required_after = {f.name for f in new.fields if f.required}
    if required_before != required_after:
        yield _sdk(
            "required-fields-changed",
            where,
            f"required fields of {new.message_name} changed: "
            + _set_change(required_before, required_after),
        )
    old_params = {f.param: f for f in old.parameters}
    for param, new_field in {f.param: f for f in new.parameters}.items():
        before = old_params.get(param)
        if new_field.no_default and (before is None or not before.no_default):
            yield _sdk(
                "parameter-now-mandatory",
                new_field.location,
                f"{mode.session_class}.{new.method}() now needs argument {param!r}",
            )
    old_groups = {frozenset(m.name for m in group.members) for group in old.oneofs}
    for group in new.oneofs:
        if frozenset(m.name for m in group.members) not in old_groups:
            yield _sdk(
                "oneof-changed",
                group.members[0].location,
                f"{mode.session_class}.{new.method}() now takes exactly one of "
                + ", ".join(m.param for m in group.members),
            )
    new_params = {f.param for f in new.parameters}
    for param in sorted(set(old_params) - new_params):
        yield _sdk(
            "parameter-removed",
            where,
            f"{mode.session_class}.{new.method}() no longer takes argument {param!r}",
        )


def _match(item: T, candidates: Sequence[T], keys: Sequence[Callable[[T], str]]) -> T | None:
    """The first candidate that agrees with `item` on a key, trying the keys in order."""
    for key in keys:
        for candidate in candidates:
            if key(candidate) == key(item):
                return candidate
    return None


def _set_change(before: set[str], after: set[str]) -> str:
    parts = []
    if after - before:
        parts.append("now required: " + ", ".join(sorted(after - before)))
    if before - after:
        parts.append("no longer required: " + ", ".join(sorted(before - after)))
    return "; ".join(parts)


def _sdk(rule: str, location: SourceLocation, message: str) -> Finding:
    return Finding("sdk", rule, location, message)
