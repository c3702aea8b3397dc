"""Registering the servicer so that undecodable request bytes get a defined answer.

grpc.aio answers a request it cannot decode with UNKNOWN (and logs a traceback). The fuzz
tests showed it, so every handler's deserializer is made lenient: bytes that do not parse
become `UNDECODABLE`, which a unary handler answers INVALID_ARGUMENT (`INVALID_REQUEST`) and
StreamSession treats as a malformed frame. The generated registration function still decides
which RPCs exist, so the receipts RPCs and any new RPC keep working through it unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final, cast

import grpc
from google.protobuf.message import DecodeError
from grpc import aio
from macp.v1 import core_pb2_grpc

from .status import Context, abort

UNDECODABLE: Final = object()
Handler = Any  # grpc.RpcMethodHandler (a namedtuple at run time)


class _Capture:
    """Stands in for the server while the generated function registers its handlers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: Mapping[str, Handler] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass  # rebuilt from the registered handlers below

    def add_registered_method_handlers(self, service: str, handlers: Mapping[str, Handler]) -> None:
        self.service, self.handlers = service, handlers


def _lenient(decode: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return decode(data)
        except DecodeError:
            return UNDECODABLE

    return parse


async def _refuse(context: Context) -> None:
    await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "undecodable request")


def _unary_unary(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    async def handle(request: Any, context: Context) -> Any:
        if request is UNDECODABLE:
            await _refuse(context)
        response = behaviour(request, context)
        # A plain `def` method still works (run on the loop); it must not block.
        return await response if inspect.isawaitable(response) else response

    return handle


def _unary_stream(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    async def handle(request: Any, context: Context) -> AsyncIterator[Any]:
        if request is UNDECODABLE:
            await _refuse(context)
        responses = behaviour(request, context)
        if isinstance(responses, AsyncIterator):
            async for response in responses:
                yield response
        else:
            for response in responses:
                yield response

    return handle


def _guarded(handler: Handler) -> Handler:
    guarded = handler._replace(request_deserializer=_lenient(handler.request_deserializer))
    if handler.unary_unary is not None:
        return guarded._replace(unary_unary=_unary_unary(handler.unary_unary))
    if handler.unary_stream is not None:
        return guarded._replace(unary_stream=_unary_stream(handler.unary_stream))
    return guarded  # request streams see UNDECODABLE frames themselves (stream_session.py)


def add_runtime_service(
    servicer: core_pb2_grpc.MACPRuntimeServiceServicer, server: aio.Server
) -> None:
    capture = _Capture()
    core_pb2_grpc.add_MACPRuntimeServiceServicer_to_server(servicer, cast(aio.Server, capture))
    handlers = {name: _guarded(handler) for name, handler in capture.handlers.items()}
    generic = grpc.method_handlers_generic_handler(capture.service, handlers)
    server.add_generic_rpc_handlers((generic,))
    server.add_registered_method_handlers(capture.service, handlers)
