"""Maps descriptor elements to file:line:column and doc comments via SourceCodeInfo."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pb2

from .errors import SourceLocation

# Field numbers inside FileDescriptorProto / DescriptorProto used to build location paths.
FILE_MESSAGE = 4
FILE_OPTIONS = 8
FILE_SYNTAX = 12
MESSAGE_FIELD = 2
MESSAGE_OPTIONS = 7
FIELD_OPTIONS = 8


class SourceIndex:
    """Locations and comments of one proto file."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto, display_path: Path | str) -> None:
        self._display = str(display_path)
        self._spans: dict[tuple[int, ...], list[int]] = {}
        self._comments: dict[tuple[int, ...], str] = {}
        for location in file.source_code_info.location:
            path = tuple(location.path)
            self._spans.setdefault(path, list(location.span))
            text = location.leading_comments or location.trailing_comments
            if not text and location.leading_detached_comments:
                text = location.leading_detached_comments[-1]
            if text and path not in self._comments:
                self._comments[path] = _clean(text)

    def location(self, *path: int) -> SourceLocation:
        """The most specific recorded location at or above `path`."""
        probe = tuple(path)
        while probe and probe not in self._spans:
            probe = probe[:-1]
        span = self._spans.get(probe)
        if not span:
            return SourceLocation(self._display)
        return SourceLocation(self._display, span[0] + 1, span[1] + 1)

    def comment(self, *path: int) -> str:
        return self._comments.get(tuple(path), "")


def _clean(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines()]
    return " ".join(line for line in lines if line)
