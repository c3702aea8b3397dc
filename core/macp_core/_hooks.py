"""Which method a projection calls for each record type: keyed by the record's message type.

A generated projection base names one hook per action (`on_bid`), after the action's SDK
method. Renaming that method through options renames the default hook, and user code that
overrides the old name would silently never be called again. So the hook for a record type is
resolved per class: the default name when the class overrides it, otherwise any `on_*` method
whose `record` parameter is annotated with that record class (`def on_bid(self, record:
BidRecord)` keeps being called after the action's method became `place_bid`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping


def resolve_hooks(cls: type, defaults: Mapping[str, str], base: type) -> dict[str, str]:
    """record class name -> name of the method of `cls` to call for it.

    `defaults` maps record class names to their generated hook names; `base` is the generated
    class that defines those hooks (as no-ops).
    """
    annotated: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is base or not issubclass(klass, base):
            continue
        for name, member in vars(klass).items():
            record = _record_annotation(member) if name.startswith("on_") else None
            if record is not None and record in defaults:
                annotated[record] = name
    resolved: dict[str, str] = {}
    for record, default in defaults.items():
        overridden = getattr(cls, default, None) is not getattr(base, default)
        resolved[record] = default if overridden else annotated.get(record, default)
    return resolved


def bind_hooks(cls: type, base: type) -> None:
    """Binds, on `cls`, each record class's resolved hook (`resolve_hooks` over
    `cls.DEFAULT_HOOKS`) to the class attribute `cls.HOOK_ATTRIBUTES` names for it.

    Done once per class, so that applying a record calls `self.<attribute>(record)`: an
    ordinary method call, which the interpreter specialises, instead of a lookup by name or
    by record type per record. The attribute holds the hook as the class defines it (the
    function, or whatever descriptor), so it binds exactly as `self.<hook>` would.
    """
    defaults: Mapping[str, str] = cls.DEFAULT_HOOKS  # type: ignore[attr-defined]
    attributes: Mapping[str, str] = cls.HOOK_ATTRIBUTES  # type: ignore[attr-defined]
    for record, name in resolve_hooks(cls, defaults, base).items():
        setattr(cls, attributes[record], inspect.getattr_static(cls, name))


def _record_annotation(member: object) -> str | None:
    annotations = getattr(member, "__annotations__", None)
    if not isinstance(annotations, dict):
        return None
    annotation = annotations.get("record")
    if isinstance(annotation, str):  # `from __future__ import annotations`
        return annotation.rpartition(".")[2]
    return getattr(annotation, "__name__", None)
