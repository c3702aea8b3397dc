"""Optional OpenTelemetry support: one CLIENT span per ``send`` and W3C trace propagation.

Nothing imports :mod:`opentelemetry` until the first RPC. When the ``opentelemetry-api``
package is missing (or fails to import) that is remembered and every helper here returns at
once, so the SDK behaves, and puts on the wire, exactly what it would without this module.

When it is installed:

* every RPC's metadata carries ``traceparent`` (and ``tracestate`` when set) for the span that
  is current at the call, using the W3C trace-context propagator directly -- never the global
  propagator, which may add ``baggage`` (arbitrary user data) or other formats;
* ``send`` runs inside a CLIENT span named ``send {mode}`` (``send`` for ambient messages) whose
  attributes are identifiers only: mode, message type, session id, message id, sender. Payloads,
  reasons, tokens and exception messages are never recorded;
* the span's status is ERROR when the runtime refuses the message (a NACK; ``error.type`` is
  the MACP code) or the call fails (``error.type`` is the gRPC status or exception class).

Telemetry never changes an RPC's outcome: every OpenTelemetry call is guarded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from macp.v1 import envelope_pb2

from ._logging import get_logger
from .constants import CLIENT_VERSION
from .errors import DUPLICATE_MESSAGE, MacpAckError, MacpTransportError

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = get_logger("otel")

TRACER_NAME = "macp_sdk"
RPC_SERVICE = "macp.v1.MACPRuntimeService"
TRACE_CONTEXT_KEYS = ("traceparent", "tracestate")

_Metadata = tuple[tuple[str, str], ...]


class _Api:
    # A plain class, not a dataclass: a dataclass costs more to define than this module.
    __slots__ = ("propagator", "tracer")

    def __init__(self, tracer: Tracer, propagator: TraceContextTextMapPropagator) -> None:
        self.tracer = tracer
        self.propagator = propagator


_NOT_LOADED = object()
_state: object = _NOT_LOADED


def _api() -> _Api | None:
    """The loaded OpenTelemetry API, or ``None`` when it is unavailable (decided once)."""
    global _state
    if _state is _NOT_LOADED:
        _state = _load()
    return _state if isinstance(_state, _Api) else None


def _load() -> _Api | None:
    try:
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        api = _Api(
            tracer=trace.get_tracer(TRACER_NAME, CLIENT_VERSION),
            propagator=TraceContextTextMapPropagator(),
        )
    except Exception as exc:  # missing or broken: tracing is simply off
        logger.debug("OpenTelemetry not available (%s); tracing is off", type(exc).__name__)
        return None
    logger.debug("OpenTelemetry found; send spans and trace propagation are on")
    return api


def _reset() -> None:
    """Forget whether OpenTelemetry was found (for tests that install or hide it)."""
    global _state
    _state = _NOT_LOADED


def tracing_available() -> bool:
    """Whether the OpenTelemetry API could be imported (spans may still be no-ops when no
    tracer provider is configured)."""
    return _api() is not None


def inject_trace_context(metadata: _Metadata) -> _Metadata:
    """``metadata`` plus W3C ``traceparent``/``tracestate`` for the current span.

    Returned unchanged when OpenTelemetry is absent, no valid span is current, or the metadata
    already carries trace context.
    """
    api = _api()
    if api is None:
        return metadata
    try:
        from opentelemetry import trace

        if not trace.get_current_span().get_span_context().is_valid:
            return metadata
        if any(key in TRACE_CONTEXT_KEYS for key, _ in metadata):
            return metadata
        carrier: dict[str, str] = {}
        api.propagator.inject(carrier)
    except Exception:
        return metadata
    return metadata + tuple((key, carrier[key]) for key in TRACE_CONTEXT_KEYS if key in carrier)


def send_attributes(envelope: envelope_pb2.Envelope) -> dict[str, str]:
    """The identifier-only attributes of a ``send`` span."""
    attributes = {
        "rpc.system": "grpc",
        "rpc.service": RPC_SERVICE,
        "rpc.method": "Send",
        "macp.operation.name": "send",
        "macp.message.type": envelope.message_type,
        "macp.message.id": envelope.message_id,
    }
    for key, value in (
        ("macp.mode.id", envelope.mode),
        ("macp.session.id", envelope.session_id),
        ("macp.sender.id", envelope.sender),
        ("macp.version", envelope.macp_version),
    ):
        if value:
            attributes[key] = value
    return attributes


class SendSpan:
    """What one ``send`` reports to its span; every method is a no-op when tracing is off."""

    __slots__ = ("_attempts", "_span")

    def __init__(self, span: Span | None) -> None:
        self._span = span
        self._attempts = 0

    @property
    def recording(self) -> bool:
        return self._span is not None

    def attempt(self) -> None:
        """One more try on the wire (more than one means the retry policy resent it)."""
        if self._span is None:
            return
        self._attempts += 1
        if self._attempts > 1:
            with suppress(Exception):
                self._span.set_attribute("macp.send.attempts", self._attempts)

    def record_ack(self, ack: envelope_pb2.Ack) -> None:
        span = self._span
        if span is None:
            return
        try:
            if ack.duplicate or ack.error.code == DUPLICATE_MESSAGE:
                span.set_attribute("macp.envelope.outcome", "duplicate")
            elif ack.ok:
                span.set_attribute("macp.envelope.outcome", "accepted")
            else:
                span.set_attribute("macp.envelope.outcome", "rejected")
                self._fail(ack.error.code or "UNKNOWN")
        except Exception:
            pass

    def record_error(self, exc: BaseException) -> None:
        if self._span is None:
            return
        if isinstance(exc, MacpAckError):
            with suppress(Exception):
                self._span.set_attribute("macp.envelope.outcome", "rejected")
            self._fail(exc.code or "UNKNOWN")
        elif isinstance(exc, MacpTransportError):
            self._fail(exc.macp_code or exc.code or type(exc).__name__)
        else:
            self._fail(type(exc).__qualname__)

    def _fail(self, error_type: str) -> None:
        span = self._span
        if span is None:
            return
        try:
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("error.type", error_type)
            # The description is the code alone: messages may quote payload or reasons.
            span.set_status(Status(StatusCode.ERROR, error_type))
        except Exception:
            pass


_OFF = SendSpan(None)


@contextmanager
def send_span(envelope: envelope_pb2.Envelope) -> Iterator[SendSpan]:
    """Run a ``send`` inside its CLIENT span, current for the block so that metadata built
    inside carries its ``traceparent``. An exception leaving the block marks the span and is
    re-raised unchanged."""
    api = _api()
    if api is None:
        yield _OFF
        return
    span: Span | None = None
    token: Token[Context] | None = None
    try:
        from opentelemetry import context, trace

        span = api.tracer.start_span(
            f"send {envelope.mode}" if envelope.mode else "send",
            kind=trace.SpanKind.CLIENT,
            attributes=send_attributes(envelope),
        )
        token = context.attach(trace.set_span_in_context(span))
    except Exception:
        logger.debug("could not start a send span", exc_info=True)
    handle = SendSpan(span) if span is not None else _OFF
    try:
        yield handle
    except BaseException as exc:
        handle.record_error(exc)
        raise
    finally:
        if token is not None:
            with suppress(Exception):
                from opentelemetry import context

                context.detach(token)
        if span is not None:
            with suppress(Exception):
                span.end()
