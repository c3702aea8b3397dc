"""Bidirectional ``StreamSession`` wrappers: :class:`MacpStream` and :class:`AsyncMacpStream`.

A stream carries envelopes to the runtime and brings back every envelope the runtime accepts
for the bound session (including the caller's own). Rejections arrive as inline error
frames, which go to callbacks and an error queue instead of the envelope queue, and the
stream stays open. ``subscribe()`` attaches to an existing session and replays its accepted
history first, so a late joiner misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

from ._logging import get_logger
from ._requests import (
    Deadline,
    StreamItem,
    TimeoutValue,
    classify,
    envelope_frame,
    resolve_stream_timeout,
    subscribe_frame,
)
from .errors import (
    MacpCancelledError,
    MacpSdkError,
    MacpSessionError,
    MacpTimeoutError,
    error_from_rpc,
    rpc_status,
)

logger = get_logger("stream")

InlineErrorCallback = Callable[[envelope_pb2.MACPError], None]
StreamCall = Any  # a grpc call iterator that also has .cancel()
# Opens the call from the iterator of request frames (the form MacpStream first took).
OpenCall = Callable[[Iterator[core_pb2.StreamSessionRequest]], StreamCall]
AsyncStreamCall = grpc.aio.StreamStreamCall[
    core_pb2.StreamSessionRequest, core_pb2.StreamSessionResponse
]

DEFAULT_CLOSE_GRACE = 2.0
MAX_QUEUED_ERRORS = 1024


@dataclass(frozen=True)
class _Failure:
    error: MacpSdkError


class _End:
    """Marks the end of the response stream in the incoming queue."""


_END = _End()
_Incoming = envelope_pb2.Envelope | _Failure | _End


def _read_timeout(timeout: float | None) -> MacpTimeoutError:
    # Raised, not None: None means the stream ended, and a caller that takes it so would
    # reconnect on every quiet poll.
    return MacpTimeoutError(
        f"no envelope within {timeout}s (the stream stays open)",
        code="DEADLINE_EXCEEDED",
        operation="StreamSession",
    )


def _cancelled_error() -> MacpCancelledError:
    return MacpCancelledError(
        "the stream was cancelled (cancel()); open a new one with client.open_stream()",
        code="CANCELLED",
        operation="StreamSession",
    )


def _log_inline(error: envelope_pb2.MACPError) -> None:
    logger.warning(
        "stream inline error %s: %s (session %s)",
        error.code or "?",
        error.message,
        error.session_id or "-",
    )


class _ErrorSink:
    """Inline error frames: logged once, handed to callbacks, kept in a bounded queue."""

    def __init__(self, on_error: InlineErrorCallback | None) -> None:
        self.callbacks: list[InlineErrorCallback] = [on_error] if on_error else []
        self.queue: queue.Queue[envelope_pb2.MACPError] = queue.Queue(MAX_QUEUED_ERRORS)

    def dispatch(self, error: envelope_pb2.MACPError) -> None:
        _log_inline(error)
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(error)
        for callback in list(self.callbacks):
            try:
                callback(error)
            except Exception:  # a broken callback must not kill the stream
                logger.exception("inline error callback raised")

    def get(self, timeout: float | None) -> envelope_pb2.MACPError | None:
        try:
            return self.queue.get(timeout=timeout) if timeout != 0 else self.queue.get_nowait()
        except queue.Empty:
            return None


def _no_call_options(metadata: Sequence[tuple[str, str]], timeout: TimeoutValue) -> None:
    if metadata or timeout is not None:
        raise TypeError(
            "metadata= and timeout= apply only when the stream is built from a stub "
            "(MacpStream(stub, metadata=..., timeout=...)); an opened call already has them"
        )


class MacpStream:
    """A ``StreamSession`` call driven by one background thread.

    ``send()``/``subscribe()`` queue frames for gRPC to write; the pump thread reads responses
    into a queue that ``read()`` and ``responses()`` drain. ``close()`` half-closes the call,
    lets the runtime flush, and joins the thread (cancelling the call if it lingers), so no
    thread is left behind. Use it as a context manager.

    Built as 0.22.0 built it, from a ``MACPRuntimeServiceStub`` with the call's ``metadata``
    and ``timeout`` (seconds for the whole call, after which reads raise
    :class:`MacpTimeoutError` with code ``DEADLINE_EXCEEDED`` and the stream ends; ``None``
    or ``UNBOUNDED``: no deadline), or from a function that opens the call from the request
    iterator. ``client.open_stream()`` does this for you.
    """

    def __init__(
        self,
        stub: core_pb2_grpc.MACPRuntimeServiceStub | OpenCall,
        *,
        metadata: Sequence[tuple[str, str]] = (),
        timeout: TimeoutValue = None,
        on_error: InlineErrorCallback | None = None,
        close_grace: float = DEFAULT_CLOSE_GRACE,
        on_close: Callable[[MacpStream], None] | None = None,
    ) -> None:
        open_call: OpenCall
        if isinstance(stub, core_pb2_grpc.MACPRuntimeServiceStub):
            deadline, pairs, runtime = resolve_stream_timeout(timeout), tuple(metadata), stub
            open_call = lambda frames: runtime.StreamSession(  # noqa: E731
                frames, metadata=pairs, timeout=deadline
            )
        else:
            _no_call_options(metadata, timeout)
            open_call = stub
        self._outgoing: queue.Queue[core_pb2.StreamSessionRequest | None] = queue.Queue()
        self._incoming: queue.Queue[_Incoming] = queue.Queue()
        self._errors = _ErrorSink(on_error)
        self._close_grace = close_grace
        self._on_close = on_close
        self._lock = threading.Lock()
        self._closing = False
        self._cancelled = False
        self._user_cancelled = False  # cancel() was called (not close() giving up)
        self._finished = threading.Event()
        self._call: StreamCall = open_call(self._frames())
        self._thread = threading.Thread(target=self._pump, name="macp-stream-pump", daemon=True)
        self._thread.start()

    # -- writing -------------------------------------------------------------------------
    def _frames(self) -> Iterator[core_pb2.StreamSessionRequest]:
        while True:
            frame = self._outgoing.get()
            if frame is None:  # half-close
                return
            yield frame

    def _put(self, frame: core_pb2.StreamSessionRequest) -> None:
        with self._lock:
            if self._closing:
                raise MacpSessionError("stream is closed; open a new one with client.open_stream()")
            if self._finished.is_set():
                raise MacpSessionError("stream has ended; open a new one with client.open_stream()")
            self._outgoing.put(frame)

    def send(self, envelope: envelope_pb2.Envelope) -> None:
        """Queue an envelope. Acceptance shows up as the echoed envelope on ``read()``;
        a rejection as an inline error (use ``client.send`` when you need a per-message Ack)."""
        self._put(envelope_frame(envelope))

    def subscribe(self, session_id: str, after_sequence: int = 0) -> None:
        """Attach to ``session_id`` and replay accepted envelopes after ``after_sequence``
        (1-based, exclusive; 0 = from SessionStart), then continue live."""
        self._put(subscribe_frame(session_id, after_sequence))

    send_subscribe = subscribe

    # -- reading -------------------------------------------------------------------------
    def _pump(self) -> None:
        try:
            for response in self._call:
                kind, value = classify(response)
                if kind is StreamItem.ENVELOPE and isinstance(value, envelope_pb2.Envelope):
                    self._incoming.put(value)
                elif kind is StreamItem.ERROR and isinstance(value, envelope_pb2.MACPError):
                    self._errors.dispatch(value)
        except grpc.RpcError as err:
            status = rpc_status(err)
            quiet = status is grpc.StatusCode.CANCELLED and (self._cancelled or self._closing)
            if not quiet:
                self._incoming.put(_Failure(error_from_rpc(err, operation="StreamSession")))
        finally:
            self._finished.set()
            self._outgoing.put(None)  # release gRPC's request-consumer thread
            self._incoming.put(_END)

    def read(self, timeout: float | None = None) -> envelope_pb2.Envelope | None:
        """The next accepted envelope, or ``None`` once the stream has ended (closed by
        either side). :class:`MacpTimeoutError` when ``timeout`` passes first (the stream
        stays open); :class:`MacpCancelledError` (a MacpTransportError, code ``CANCELLED``)
        after :meth:`cancel`. A transport failure is raised once, as a typed error."""
        try:
            item = (
                self._incoming.get(timeout=timeout) if timeout != 0 else self._incoming.get_nowait()
            )
        except queue.Empty:
            raise _read_timeout(timeout) from None
        if isinstance(item, _End):
            self._incoming.put(item)  # keep the end visible to later reads
            if self._user_cancelled:
                raise _cancelled_error()
            return None
        if isinstance(item, _Failure):
            raise item.error
        return item

    def responses(
        self, timeout: float | None = None, *, idle_timeout: float | None = None
    ) -> Iterator[envelope_pb2.Envelope]:
        """Yield accepted envelopes until the stream ends, ``timeout`` seconds have passed in
        total, or (if given) nothing arrived for ``idle_timeout`` seconds."""
        deadline = Deadline(timeout)
        while not deadline.expired():
            wait = _min_wait(deadline.remaining(), idle_timeout)
            try:
                envelope = self.read(timeout=wait)
            except MacpTimeoutError:
                return
            if envelope is None:
                return
            yield envelope

    def __iter__(self) -> Iterator[envelope_pb2.Envelope]:
        return self.responses()

    # -- inline errors -------------------------------------------------------------------
    def on_inline_error(self, callback: InlineErrorCallback) -> None:
        """Call ``callback(MACPError)`` (on the pump thread) for each inline error frame."""
        self._errors.callbacks.append(callback)

    def read_error(self, timeout: float | None = 0) -> envelope_pb2.MACPError | None:
        """The next queued inline error (default: don't wait), or ``None``."""
        return self._errors.get(timeout)

    @property
    def errors(self) -> queue.Queue[envelope_pb2.MACPError]:
        return self._errors.queue

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        """True once the response stream is over (closed, cancelled or failed)."""
        return self._finished.is_set()

    @property
    def closed(self) -> bool:
        return self._closing

    def close(self, grace: float | None = None) -> None:
        """Half-close, let the runtime flush, then stop the pump thread (idempotent).

        Envelopes that arrived before the end can still be ``read()`` afterwards.
        """
        with self._lock:
            first = not self._closing
            self._closing = True
            if first:
                self._outgoing.put(None)
        wait = self._close_grace if grace is None else grace
        if not self._finished.wait(wait):
            self._cancel_call()
        self._join()
        if first and self._on_close is not None:
            self._on_close(self)

    def cancel(self) -> None:
        """Abort the call now; queued sends are dropped, and reads then raise
        :class:`MacpCancelledError`."""
        with self._lock:
            self._user_cancelled = True
            self._closing = True
            self._cancelled = True
            self._outgoing.put(None)
        self._cancel_call()
        self._join()
        if self._on_close is not None:
            self._on_close(self)

    def _cancel_call(self) -> None:
        self._cancelled = True
        with contextlib.suppress(Exception):
            self._call.cancel()

    def _join(self) -> None:
        if threading.current_thread() is self._thread:
            return  # closed from an inline-error callback: the pump ends on its own
        self._thread.join(self._close_grace + 5.0)

    def __enter__(self) -> MacpStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _min_wait(remaining: float | None, idle: float | None) -> float | None:
    if remaining is None:
        return idle
    return remaining if idle is None else min(remaining, idle)


class AsyncMacpStream:
    """The asyncio twin of :class:`MacpStream` on a ``grpc.aio`` call.

    A reader task fills an ``asyncio.Queue``, so a ``read()`` timeout never cancels the RPC.
    Must be created inside the running event loop (as ``AsyncMacpClient.open_stream`` is).
    Built as 0.22.0 built it, from the (asyncio) stub with ``metadata`` and ``timeout`` (as
    for :class:`MacpStream`), or from an opened ``StreamSession`` call.
    """

    def __init__(
        self,
        stub: core_pb2_grpc.MACPRuntimeServiceAsyncStub | AsyncStreamCall,
        *,
        metadata: Sequence[tuple[str, str]] = (),
        timeout: TimeoutValue = None,
        on_error: InlineErrorCallback | None = None,
        close_grace: float = DEFAULT_CLOSE_GRACE,
        on_close: Callable[[AsyncMacpStream], None] | None = None,
    ) -> None:
        if isinstance(stub, grpc.aio.StreamStreamCall):
            _no_call_options(metadata, timeout)
            call = stub
        else:
            call = stub.StreamSession(
                metadata=tuple(metadata), timeout=resolve_stream_timeout(timeout)
            )
        self._call: AsyncStreamCall = call
        self._incoming: asyncio.Queue[_Incoming] = asyncio.Queue()
        self._errors = _ErrorSink(on_error)
        self._write_lock = asyncio.Lock()
        self._close_grace = close_grace
        self._on_close = on_close
        self._closing = False
        self._cancelled = False
        self._user_cancelled = False
        self._cancel_task: asyncio.Task[None] | None = None
        self._reader = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while True:
                response = await self._call.read()
                if response is grpc.aio.EOF or not isinstance(
                    response, core_pb2.StreamSessionResponse
                ):
                    return
                kind, value = classify(response)
                if kind is StreamItem.ENVELOPE and isinstance(value, envelope_pb2.Envelope):
                    self._incoming.put_nowait(value)
                elif kind is StreamItem.ERROR and isinstance(value, envelope_pb2.MACPError):
                    self._errors.dispatch(value)
        except grpc.RpcError as err:
            status = rpc_status(err)
            quiet = status is grpc.StatusCode.CANCELLED and (self._cancelled or self._closing)
            if not quiet:
                self._incoming.put_nowait(_Failure(error_from_rpc(err, operation="StreamSession")))
        finally:
            self._incoming.put_nowait(_END)

    async def _write(self, frame: core_pb2.StreamSessionRequest) -> None:
        async with self._write_lock:
            if self._closing:
                raise MacpSessionError("stream is closed; open a new one with client.open_stream()")
            if self._reader.done():
                raise MacpSessionError("stream has ended; open a new one with client.open_stream()")
            try:
                await self._call.write(frame)
            except grpc.RpcError as err:
                raise error_from_rpc(err, operation="StreamSession") from err

    async def send(self, envelope: envelope_pb2.Envelope) -> None:
        await self._write(envelope_frame(envelope))

    async def subscribe(self, session_id: str, after_sequence: int = 0) -> None:
        await self._write(subscribe_frame(session_id, after_sequence))

    send_subscribe = subscribe

    async def read(self, timeout: float | None = None) -> envelope_pb2.Envelope | None:
        try:
            if timeout is None:
                item = await self._incoming.get()
            else:
                item = await asyncio.wait_for(self._incoming.get(), timeout)
        except TimeoutError:
            raise _read_timeout(timeout) from None
        if isinstance(item, _End):
            self._incoming.put_nowait(item)
            if self._user_cancelled:
                raise _cancelled_error()
            return None
        if isinstance(item, _Failure):
            raise item.error
        return item

    async def responses(
        self, timeout: float | None = None, *, idle_timeout: float | None = None
    ) -> AsyncIterator[envelope_pb2.Envelope]:
        deadline = Deadline(timeout)
        while not deadline.expired():
            try:
                envelope = await self.read(timeout=_min_wait(deadline.remaining(), idle_timeout))
            except MacpTimeoutError:
                return
            if envelope is None:
                return
            yield envelope

    def on_inline_error(self, callback: InlineErrorCallback) -> None:
        self._errors.callbacks.append(callback)

    def read_error(self) -> envelope_pb2.MACPError | None:
        return self._errors.get(0)

    @property
    def ended(self) -> bool:
        return self._reader.done()

    @property
    def closed(self) -> bool:
        return self._closing

    async def close(self, grace: float | None = None) -> None:
        """Half-close (``done_writing``), wait for the runtime to finish, then cancel."""
        async with self._write_lock:
            first = not self._closing
            self._closing = True
            if first and not self._reader.done():
                with contextlib.suppress(Exception):
                    await self._call.done_writing()
        wait = self._close_grace if grace is None else grace
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), wait)
        except TimeoutError:
            self._cancelled = True
            self._call.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._reader
        if first and self._on_close is not None:
            self._on_close(self)

    def cancel(self) -> asyncio.Task[None]:
        """Abort the call now; reads then raise :class:`MacpCancelledError`.

        The call is aborted before this returns, so ``stream.cancel()`` works without
        ``await`` as in 0.22.0; ``await stream.cancel()`` also waits for the reader to stop."""
        self._user_cancelled = True
        self._closing = True
        self._cancelled = True
        self._call.cancel()
        # Held so the task cannot be collected before it runs (asyncio keeps weak references).
        self._cancel_task = asyncio.get_running_loop().create_task(self._after_cancel())
        return self._cancel_task

    async def _after_cancel(self) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self._reader
        if self._on_close is not None:
            self._on_close(self)

    async def __aenter__(self) -> AsyncMacpStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
