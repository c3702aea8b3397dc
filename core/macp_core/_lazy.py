"""A class attribute that names a class and imports it on first read.

Generated sessions point ``PROJECTION_CLASS`` at their projection this way, so importing a
session class does not import the projection (its records, undo journal and hooks) until a
session is made.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyClass:
    __slots__ = ("_attribute", "_module", "_name", "_package")

    def __init__(self, module: str, name: str, package: str | None) -> None:
        self._module = module
        self._name = name
        self._package = package
        self._attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = attribute

    def __get__(self, instance: object, owner: type) -> Any:
        value = getattr(importlib.import_module(self._module, self._package), self._name)
        # Put the class itself where this stood: later reads are plain attribute reads.
        for klass in owner.__mro__:
            if klass.__dict__.get(self._attribute) is self:
                setattr(klass, self._attribute, value)
                break
        return value

    def __repr__(self) -> str:
        return f"<lazy {self._module}.{self._name}>"


def lazy_class(module: str, name: str, package: str | None = None) -> Any:
    """``name`` from ``module`` (relative to ``package`` if it starts with a dot), imported
    the first time the attribute is read on the class or an instance."""
    return _LazyClass(module, name, package)
