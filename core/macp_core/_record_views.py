"""Live, lazy indexes over a projection's record log.

A generated projection appends every record it files to one plain list, its record log (undo
is a truncation). ``vote_records``, ``latest_by_sender`` and the like are read-only mappings
that index that log when they are read, not when a record is filed: a replay files a record
per envelope and reads the indexes rarely, and building a list per subject on every envelope
(tens of thousands of containers per long session) was a large share of its cost, most of it
in garbage collection.

Every read catches up with what was appended since the last one, so a view held between
envelopes stays live and a hook reading one mid-envelope sees the record just filed. When a
rollback cut the log below what a view had indexed, the view starts over from the log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import Any, Generic, TypeVar

_R = TypeVar("_R")
_V = TypeVar("_V")


class _LogView(Mapping[str, _V]):
    """A mapping derived from the records of ``log``, brought up to date on every read."""

    __slots__ = ("_log", "_data", "_upto", "_last")

    def __init__(self, log: list[Any]) -> None:
        self._log = log
        self._data: dict[str, _V] = {}
        self._upto = 0  # how many records of the log the index holds
        self._last: Any = None  # the last of them: tells a rollback-and-refill apart

    def _current(self) -> dict[str, _V]:
        log, upto = self._log, self._upto
        end = len(log)
        if end == upto and (not upto or log[upto - 1] is self._last):
            return self._data
        if end < upto or (upto and log[upto - 1] is not self._last):
            self._data, upto = {}, 0  # a rollback cut records this index holds
        self._take(log, upto, end)
        self._upto, self._last = end, (log[end - 1] if end else None)
        return self._data

    def _take(self, log: list[Any], start: int, end: int) -> None:
        raise NotImplementedError

    def __getitem__(self, key: str) -> _V:
        return self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _LogView):
            other = other._current()
        return self._current() == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._current())


class RecordsBySubject(_LogView[list[_R]], Generic[_R]):
    """subject id -> the records of one class about it, in arrival order."""

    __slots__ = ("_kind", "_subject")

    def __init__(self, log: list[Any], kind: type[_R], subject: str) -> None:
        super().__init__(log)
        self._kind = kind
        # Records of an action without a subject field ("") are all filed under "".
        self._subject: Any = attrgetter(subject) if subject else _no_subject

    def _take(self, log: list[Any], start: int, end: int) -> None:
        data, kind, subject = self._data, self._kind, self._subject
        for index in range(start, end):
            record = log[index]
            if type(record) is kind:
                key = subject(record)
                bucket = data.get(key)
                if bucket is None:
                    data[key] = [record]
                else:
                    bucket.append(record)


def _no_subject(record: object) -> str:
    return ""


class LatestBySender(_LogView[_R], Generic[_R]):
    """sender -> that sender's latest record (of any class); senders in first-seen order."""

    __slots__ = ()

    def _take(self, log: list[Any], start: int, end: int) -> None:
        data = self._data
        for index in range(start, end):
            record = log[index]
            data[record.sender] = record
