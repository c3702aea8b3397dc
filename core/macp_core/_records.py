"""Building frozen records fast: one record is made for every envelope a projection applies.

A frozen dataclass's ``__init__`` stores each field through ``object.__setattr__`` (to get
past its own ``__setattr__``, which refuses every write): about four times the cost of plain
slot stores. :func:`fast_constructor` returns a mutable twin of a frozen slots dataclass --
same fields, same defaults, the same slots in the same order -- whose ``__init__`` stores
the fields and then switches the new instance to the frozen class. The result is an
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
    twin = _twin(cls)
    return cls if twin is None else twin


def _twin(cls: type) -> type | None:
    if not _eligible(cls):
        return None
    # The twin's __init__ is compiled from the fields, as dataclasses compiles its own: plain
    # slot stores, then the switch to the frozen class in the same call (no __post_init__).
    fields = dataclasses.fields(cls)
    slots = tuple(cls.__slots__)  # type: ignore[attr-defined]
    if tuple(field.name for field in fields) != slots:
        return None  # e.g. fields inherited from a base: not one flat layout to copy
    namespace: dict[str, Any] = {"_frozen": cls, "_NO_VALUE": _NO_VALUE}
    params: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields):
        name = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{index}"] = field.default
            params.append(f"{name}=_default_{index}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{index}"] = field.default_factory
            params.append(f"{name}=_NO_VALUE")
            body.append(f"  if {name} is _NO_VALUE: {name} = _factory_{index}()")
        else:
            params.append(name)
        body.append(f"  __record.{name} = {name}")
    body.append("  __record.__class__ = _frozen")  # same slots, same order: CPython allows it
    source = f"def __init__(__record, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # noqa: S102 -- field names are identifiers of the dataclass
    twin = type(
        f"_{cls.__name__}Builder",
        (),
        {
            "__slots__": slots,
            "__init__": namespace["__init__"],
            "__module__": cls.__module__,
        },
    )
    return twin


_NO_VALUE: Any = object()  # "argument not given" for fields with a default factory

# Allocates an instance without running ``__init__`` (C-level: no Python frame).
new_record: Callable[[type[Any]], Any] = object.__new__


def record_builder(cls: type[_T]) -> type[Any]:
    """The mutable twin class of ``cls`` (see :func:`fast_constructor`), for code that builds a
    record inline: ``record = new_record(twin)``, one store per field, then
    ``record.__class__ = cls``. The generated projection bases do this once per envelope they
    apply, which saves the twin's ``__init__`` call. Raises ``TypeError`` when ``cls`` cannot
    have a twin (then it must be called as it is)."""
    twin = _twin(cls)
    if twin is None:
        raise TypeError(f"{cls.__qualname__} is not a frozen slots dataclass of positional fields")
    return twin


def _eligible(cls: type) -> bool:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        return False
    if hasattr(cls, "__post_init__") or "__weakref__" in dir(cls):
        return False
    return all(f.init and not f.kw_only for f in dataclasses.fields(cls))
