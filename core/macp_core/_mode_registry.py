"""The mode registry's plumbing: payload classes imported on first use, and modes contributed by
other installed packages through an entry-point group.

Why lazy: the registry of an SDK lists every mode it was generated for. Importing every mode's
protobuf module up front would make one missing or broken mode package break every other mode
(and `import macp_sdk` itself); here a mode's module is imported only when that mode is used.

Why entry points: a mode package generated on its own (e.g. `acme_modes`) declares
`[project.entry-points."macp_sdk.modes"]`, naming a mapping of mode id -> ModeInfo. The SDK's
registry then knows those modes too (decode_envelope, describe_envelope, session classes)
without the SDK being regenerated.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from google.protobuf.message import Message

_log = logging.getLogger("macp_sdk.registry")
_Info = TypeVar("_Info")


class LazyPayloads(Mapping[str, type[Message]]):
    """message type -> payload class, importing the mode's protobuf module on first lookup."""

    def __init__(self, module: str, names: Mapping[str, str]) -> None:
        self._module = module
        self._names = dict(names)

    def __getitem__(self, message_type: str) -> type[Message]:
        name = self._names[message_type]
        found: type[Message] = getattr(importlib.import_module(self._module), name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"LazyPayloads({self._module!r}, {self._names!r})"


class PluggableRegistry(Mapping[str, _Info], Generic[_Info]):
    """The SDK's own modes, then those of installed mode packages (loaded on first need).

    A mode package that fails to load is logged and skipped: it never hides the other modes.
    The SDK's own modes win over a plugin that claims the same id.
    """

    def __init__(self, own: Mapping[str, _Info], group: str) -> None:
        self._own = dict(own)
        self._group = group
        self._plugins: dict[str, _Info] | None = None

    def _all(self) -> dict[str, _Info]:
        if self._plugins is None:
            self._plugins = self._load_plugins()
        merged = dict(self._own)
        merged.update((k, v) for k, v in self._plugins.items() if k not in self._own)
        return merged

    def _load_plugins(self) -> dict[str, _Info]:
        # importlib.metadata (email, zipfile, csv, ...) costs more than the rest of the
        # registry: read it only when a mode outside this SDK is looked up.
        from importlib import metadata

        found: dict[str, _Info] = {}
        for entry_point in sorted(metadata.entry_points(group=self._group), key=lambda e: e.name):
            try:
                modes = entry_point.load()
                found.update(dict(modes))
            except Exception as exc:  # a broken plugin must not break the SDK's own modes
                _log.warning(
                    "mode package %r (%s) could not be loaded: %s",
                    entry_point.name,
                    entry_point.value,
                    exc,
                )
        return found

    def __getitem__(self, mode: str) -> _Info:
        if mode in self._own:
            return self._own[mode]
        return self._all()[mode]

    def __contains__(self, mode: object) -> bool:
        return mode in self._own or mode in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"PluggableRegistry({sorted(self._all())!r}, group={self._group!r})"
