"""Whole-file reads and writes in the fewest system calls.

A large `generate` writes and reads a few thousand small files; `open()` adds a terminal check
(ioctl), a position query (lseek) and a buffer to each, and pathlib a path parse. These take
plain string paths and go straight to the file descriptor.
"""

from __future__ import annotations

import os

_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_CLOEXEC


def write_bytes(path: str, content: bytes) -> None:
    """Creates (or truncates) `path` and writes `content` to it."""
    fd = os.open(path, _WRITE, 0o666)  # 0o666 and the umask, as open() does
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def read_bytes(path: str) -> bytes:
    """The whole content of `path`."""
    fd = os.open(path, _READ)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) <= size:  # a short read of a regular file is its end: one read
            return data
        chunks = [data]  # the file grew since fstat: read to its end
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)
