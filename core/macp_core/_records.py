"""Building frozen records fast: one record is made for every envelope a projection applies.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__`` (to get
past its own ``__setattr__``, which refuses every write): about four times the cost of the
plain slot stores a mutable dataclass does. :func:`fast_constructor` returns a mutable twin of
a frozen slots dataclass -- same fields, same defaults, the same slots in the same order --
whose ``__post_init__`` switches each new instance to the frozen class. The result is an
ordinary instance of the frozen class (``type()``, equality, hashing, ``dataclasses.replace``,
pickling and immutability all as usual), built for the cost of the mutable one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


def fast_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A callable taking ``cls``'s constructor arguments and returning a ``cls`` instance.

    Falls back to ``cls`` itself when the twin would not be equivalent: not a frozen slots
    dataclass, a ``__post_init__`` of its own, or init-less / keyword-only fields.
    """
    if not _eligible(cls):
        return cls
    fields: list[Any] = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.default is not dataclasses.MISSING:
            fields.append((field.name, field.type, dataclasses.field(default=field.default)))
        elif field.default_factory is not dataclasses.MISSING:
            fields.append(
                (field.name, field.type, dataclasses.field(default_factory=field.default_factory))
            )
        else:
            fields.append((field.name, field.type))

    def become_frozen(self: Any) -> None:
        # Same slots in the same order, so CPython allows the switch (no copy, no new object).
        self.__class__ = cls

    twin = dataclasses.make_dataclass(
        f"_{cls.__name__}Builder",
        fields,
        namespace={"__post_init__": become_frozen, "__module__": cls.__module__},
        slots=True,
    )
    if twin.__slots__ != cls.__slots__:  # type: ignore[attr-defined]
        return cls
    return twin


def _eligible(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        return False
    if hasattr(cls, "__post_init__") or "__weakref__" in dir(cls):
        return False
    return all(f.init and not f.kw_only for f in dataclasses.fields(cls))
