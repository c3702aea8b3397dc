"""Building frozen records fast: one record is made for every envelope a projection applies.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__`` (to get
past its own ``__setattr__``, which refuses every write): about four times the cost of plain
slot stores. :func:`record_builder` gives a mutable twin of a frozen slots dataclass -- the
same slots in the same order, nothing else -- so generated code can build a record inline:
``record = new_record(twin)``, one plain store per field, then ``record.__class__ = cls``.
The result is an ordinary instance of the frozen class (``type()``, equality, hashing,
``dataclasses.replace``, pickling and immutability all as usual), built for the cost of the
mutable one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

# Allocates an instance without running ``__init__`` (C-level: no Python frame).
new_record: Callable[[type[Any]], Any] = object.__new__


def record_builder(cls: type) -> type[Any]:
    """The mutable twin class of ``cls``, for code that stores every field itself (the
    generated projection bases, once per envelope they apply). Raises ``TypeError`` when the
    twin would not be equivalent: not a frozen slots dataclass, a ``__post_init__`` of its
    own (storing fields would skip it), init-less or keyword-only fields, or fields spread
    over more than one slot layout (inherited from a base)."""
    slots = tuple(getattr(cls, "__slots__", ()))
    if not _eligible(cls) or tuple(f.name for f in dataclasses.fields(cls)) != slots:
        raise TypeError(f"{cls.__qualname__} is not a frozen slots dataclass of positional fields")
    # Same slots, same order: CPython lets an instance switch between the two classes.
    return type(f"_{cls.__name__}Builder", (), {"__slots__": slots, "__module__": cls.__module__})


def _eligible(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        return False
    if hasattr(cls, "__post_init__") or "__weakref__" in dir(cls):
        return False
    return all(f.init and not f.kw_only for f in dataclasses.fields(cls))
