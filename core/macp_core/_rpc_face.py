"""What lets a typed SDK error also be read as a ``grpc.RpcError``.

Code written for macp-sdk-python 0.22.0 reads ``err.code`` as a string (``"UNAVAILABLE"``,
``"SESSION_NOT_FOUND"``) and also catches ``grpc.RpcError`` and calls ``err.code()``,
``err.details()`` and ``err.trailing_metadata()`` (0.22.0 let many RPC failures escape raw).
These strings answer both ways: they compare and print as text, and calling them gives
what grpc's method would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:
    # To type checkers the errors are plain exceptions: grpc's stubs declare code() and
    # details() as methods, which these string-and-callable attributes cannot satisfy.
    RpcErrorBase = Exception
else:
    RpcErrorBase = grpc.RpcError

Trailing = tuple[tuple[str, str | bytes], ...]


class StatusText(str):
    """A code string; calling it gives the gRPC status of the failed call (None for a NACK)."""

    status: grpc.StatusCode | None

    def __new__(cls, text: str, status: grpc.StatusCode | None = None) -> StatusText:
        obj = super().__new__(cls, text)
        obj.status = status
        return obj

    def __call__(self) -> grpc.StatusCode | None:
        return self.status


class DetailsText(str):
    """The status details; calling it gives the same text (``grpc.Call.details()``)."""

    def __call__(self) -> str:
        return str(self)


def with_code(trailing: Trailing, key: str, code: str) -> Trailing:
    """``trailing`` with ``key: code`` added unless present (so ``macp_error_code`` reads it)."""
    if not code or any(k == key for k, _ in trailing):
        return trailing
    return (*trailing, (key, code))
