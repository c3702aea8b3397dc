"""An undo log for projection state: rollback that costs what an envelope touched.

A projection keeps its state in attributes, dicts, lists and sets. Plain ``dict``, ``list``
and ``set`` values are adopted (copied once) into the tracked subclasses below when they are
stored on a projection or inside another tracked container, so hooks keep writing ordinary
Python (``self.votes.setdefault(pid, {})[sender] = record``). While a :class:`Journal` is
open, every write appends the step that reverses it; :meth:`Journal.rollback` replays those
steps backwards. Appending records a length, replacing a key records the old value, so the
cost is proportional to the writes, never to the size of the state.

Writes that cannot be undone in O(1) exactly (deleting from a dict, which would lose its
order; sorting or inserting into a list) record a shallow copy of that one container.
Values that are neither tracked containers nor immutable are snapshotted whole by the
projection (see ``BaseProjection``); inside containers, store immutable values or plain
dicts/lists/sets.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, SupportsIndex

# One undo step: a function followed by its arguments (one flat tuple: less to allocate).
_Step = tuple[Any, ...]


class Journal:
    """The undo steps of the envelope being applied; ``steps`` is None when none is open.

    ``BaseProjection`` opens and commits it inline (``steps = spare`` ... ``steps = None``):
    two method calls per envelope are a measurable share of a replay.
    """

    __slots__ = ("steps", "spare")

    def __init__(self) -> None:
        self.steps: list[_Step] | None = None
        self.spare: list[_Step] = []  # one list reused for every envelope

    def rollback(self) -> None:
        steps, self.steps = self.steps, None  # undoing must not log more steps
        for step in reversed(steps or ()):
            step[0](*step[1:])
        if steps is not None:
            steps.clear()


_PLAIN_CONTAINERS = frozenset({dict, list, set})


def adopt(value: Any, journal: Journal) -> Any:
    """``value`` as stored state: plain dict/list/set become tracked (recursively)."""
    kind = type(value)
    if kind not in _PLAIN_CONTAINERS:
        return value
    if not value:  # the usual case (`setdefault(key, {})`): nothing to copy
        return _EMPTY_TRACKED[kind](journal)
    if kind is dict:
        tracked_dict = TrackedDict(journal)
        for key, item in value.items():
            _dict_setdefault(tracked_dict, key, adopt(item, journal))
        return tracked_dict
    if kind is list:
        tracked_list = TrackedList(journal)
        list.extend(tracked_list, [adopt(item, journal) for item in value])
        return tracked_list
    tracked_set = TrackedSet(journal)
    set.update(tracked_set, value)
    return tracked_set


def _restore_dict(target: dict[Any, Any], items: dict[Any, Any]) -> None:
    dict.clear(target)
    dict.update(target, items)


def _restore_list(target: list[Any], items: list[Any]) -> None:
    list.__setitem__(target, slice(None), items)


def _truncate_list(target: list[Any], length: int) -> None:
    list.__delitem__(target, slice(length, None))


def _restore_set(target: set[Any], items: set[Any]) -> None:
    set.clear(target)
    set.update(target, items)


_MISSING: Any = object()
# The base methods, bound once: the tracked writes below run for every hook write.
_dict_get = dict.get
_dict_setitem = dict.__setitem__  # a slot wrapper: ~3x the cost of the method below
_dict_setdefault = dict.setdefault  # inserts a new key (the common write) at C speed
_dict_delitem = dict.__delitem__
_dict_getitem = dict.__getitem__
_list_append = list.append
_list_pop = list.pop


def _rebuild(kind: type[Any], items: Any, journal: Journal) -> Any:
    """Unpickling and ``copy.deepcopy``: a tracked container on the (copied) journal."""
    tracked = kind(journal)
    tracked._fill(items)
    return tracked


class TrackedDict(dict[Any, Any]):
    """A dict whose writes are undoable while its journal is open."""

    __slots__ = ("_journal",)

    def __init__(self, journal: Journal) -> None:  # the base __init__ adds nothing when empty
        self._journal = journal

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (type(self), dict(self), self._journal))

    def _fill(self, items: Any) -> None:
        dict.update(self, items)

    def __setitem__(self, key: Any, value: Any) -> None:
        journal = self._journal
        if type(value) in _PLAIN_CONTAINERS:
            value = adopt(value, journal)
        steps = journal.steps
        if key in self:
            if steps is not None:
                steps.append((_dict_setitem, self, key, _dict_getitem(self, key)))
            _dict_setitem(self, key, value)
        else:  # a new key (the usual write): undone by deleting it
            if steps is not None:
                steps.append((_dict_delitem, self, key))
            _dict_setdefault(self, key, value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = _dict_get(self, key, _MISSING)
        if value is not _MISSING:
            return value
        journal = self._journal
        steps = journal.steps
        if steps is not None:
            steps.append((_dict_delitem, self, key))
        if type(default) in _PLAIN_CONTAINERS:  # `setdefault(key, {})`: no adopt() call
            default = adopt(default, journal) if default else _EMPTY_TRACKED[type(default)](journal)
        _dict_setdefault(self, key, default)
        return default

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def _before_removal(self) -> None:
        # Re-inserting a removed key would move it to the end: keep the exact order instead.
        steps = self._journal.steps
        if steps is not None:
            steps.append((_restore_dict, self, dict(self)))

    def __delitem__(self, key: Any) -> None:
        if key in self:
            self._before_removal()
        dict.__delitem__(self, key)

    def pop(self, *args: Any) -> Any:
        if args and args[0] in self:
            self._before_removal()
        return dict.pop(self, *args)

    def popitem(self) -> tuple[Any, Any]:
        if self:
            self._before_removal()
        return dict.popitem(self)

    def clear(self) -> None:
        if self:
            self._before_removal()
        dict.clear(self)


class TrackedList(list[Any]):
    """A list whose writes are undoable while its journal is open."""

    __slots__ = ("_journal",)

    def __init__(self, journal: Journal) -> None:  # the base __init__ adds nothing when empty
        self._journal = journal

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (type(self), list(self), self._journal))

    def _fill(self, items: Any) -> None:
        list.extend(self, items)

    def append(self, value: Any) -> None:
        journal = self._journal
        if type(value) in _PLAIN_CONTAINERS:
            value = adopt(value, journal)
        steps = journal.steps
        if steps is not None:
            # Steps are undone last first, each on the exact state its write left: so the
            # inverse of an append is taking the last item off (no length to read here).
            steps.append((_list_pop, self))
        _list_append(self, value)

    def extend(self, values: Iterable[Any]) -> None:
        steps = self._journal.steps
        if steps is not None:
            steps.append((_truncate_list, self, len(self)))
        list.extend(self, [adopt(value, self._journal) for value in values])

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def pop(self, index: SupportsIndex = -1) -> Any:
        value = list.pop(self, index)
        index = operator.index(index)
        steps = self._journal.steps
        if steps is not None:
            if index == -1 or index == len(self):
                steps.append((list.append, self, value))
            else:
                steps.append((list.insert, self, index if index >= 0 else index + 1, value))
        return value

    def _before_rewrite(self) -> None:
        steps = self._journal.steps
        if steps is not None:
            steps.append((_restore_list, self, list(self)))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._before_rewrite()
        if isinstance(index, slice):
            list.__setitem__(self, index, [adopt(item, self._journal) for item in value])
        else:
            list.__setitem__(self, index, adopt(value, self._journal))

    def __delitem__(self, index: Any) -> None:
        self._before_rewrite()
        list.__delitem__(self, index)

    def insert(self, index: Any, value: Any) -> None:
        self._before_rewrite()
        list.insert(self, index, adopt(value, self._journal))

    def remove(self, value: Any) -> None:
        self._before_rewrite()
        list.remove(self, value)

    def clear(self) -> None:
        self._before_rewrite()
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._before_rewrite()
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        self._before_rewrite()
        list.reverse(self)

    def __imul__(self, count: Any) -> TrackedList:  # type: ignore[misc]
        self._before_rewrite()
        list.__imul__(self, count)
        return self


class TrackedSet(set[Any]):
    """A set whose writes are undoable while its journal is open."""

    def __repr__(self) -> str:
        return set.__repr__(set(self))

    __slots__ = ("_journal",)

    def __init__(self, journal: Journal) -> None:  # the base __init__ adds nothing when empty
        self._journal = journal

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild, (type(self), set(self), self._journal))

    def _fill(self, items: Any) -> None:
        set.update(self, items)

    def add(self, value: Any) -> None:
        steps = self._journal.steps
        if steps is not None and value not in self:
            steps.append((set.discard, self, value))
        set.add(self, value)

    def discard(self, value: Any) -> None:
        steps = self._journal.steps
        if steps is not None and value in self:
            steps.append((set.add, self, value))
        set.discard(self, value)

    def remove(self, value: Any) -> None:
        if value not in self:
            raise KeyError(value)
        self.discard(value)

    def pop(self) -> Any:
        value = set.pop(self)
        steps = self._journal.steps
        if steps is not None:
            steps.append((set.add, self, value))
        return value

    def _before_rewrite(self) -> None:
        steps = self._journal.steps
        if steps is not None:
            steps.append((_restore_set, self, set(self)))

    def clear(self) -> None:
        self._before_rewrite()
        set.clear(self)

    def update(self, *others: Iterable[Any]) -> None:
        added = {value for other in others for value in other if value not in self}
        steps = self._journal.steps
        if steps is not None and added:
            steps.append((set.difference_update, self, added))
        set.update(self, added)

    def difference_update(self, *others: Iterable[Any]) -> None:
        self._before_rewrite()
        set.difference_update(self, *others)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        self._before_rewrite()
        set.intersection_update(self, *others)

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        self._before_rewrite()
        set.symmetric_difference_update(self, other)

    def __ior__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        self.update(other)
        return self

    def __iand__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        self.intersection_update(other)
        return self

    def __isub__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        self.difference_update(other)
        return self

    def __ixor__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        self.symmetric_difference_update(other)
        return self


_EMPTY_TRACKED: dict[type, type] = {dict: TrackedDict, list: TrackedList, set: TrackedSet}
