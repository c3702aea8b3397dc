"""Ending an RPC with a status that names its MACP error (runtime 0.9+ behaviour).

Every MACP error the runtime answers as a gRPC status carries the `macp-error-code` trailing
metadata (and, for POLICY_DENIED, `macp-error-details-bin`), which the SDK's
`macp_error_code(e)` and error mapping read.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from grpc import aio

from .errors import MacpError, StatusError

MACP_ERROR_CODE_KEY = "macp-error-code"
MACP_ERROR_DETAILS_KEY = "macp-error-details-bin"
Context = aio.ServicerContext[Any, Any]


def trailers(code: str, details: bytes = b"") -> tuple[tuple[str, str | bytes], ...]:
    pairs: list[tuple[str, str | bytes]] = [(MACP_ERROR_CODE_KEY, code)]
    if details:
        pairs.append((MACP_ERROR_DETAILS_KEY, details))
    return tuple(pairs)


async def abort(
    context: Context, status: grpc.StatusCode, code: str, message: str, details: bytes = b""
) -> NoReturn:
    await context.abort(status, message, trailing_metadata=trailers(code, details))
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


async def abort_status(context: Context, error: StatusError) -> NoReturn:
    await abort(context, error.status, error.code, error.message)


async def abort_macp(context: Context, error: MacpError, message: str = "") -> NoReturn:
    await abort(context, error.status, error.code, message or error.status_message, error.details)
