"""Conversions between well-known protobuf types and the Python values builders accept.

Generated builders take `datetime`, `timedelta` and plain dicts where a mode proto uses
`Timestamp`, `Duration` and `Struct`, and records give the same Python values back, so a
record compares equal to what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import any_pb2, duration_pb2, json_format, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from .errors import MacpValidationError


def to_timestamp(name: str, value: datetime) -> timestamp_pb2.Timestamp:
    # A naive datetime has no defined instant; guessing the zone would send the wrong time.
    if value.tzinfo is None or value.utcoffset() is None:
        raise MacpValidationError(name, value, "a timezone-aware datetime")
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def from_timestamp(value: timestamp_pb2.Timestamp) -> datetime:
    """The instant as an aware UTC datetime (sub-microsecond digits are dropped)."""
    return value.ToDatetime(tzinfo=UTC)


def to_duration(value: timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(value)
    return duration


def from_duration(value: duration_pb2.Duration) -> timedelta:
    return value.ToTimedelta()


def to_struct(name: str, value: Mapping[str, object]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    try:
        json_format.ParseDict(dict(value), struct)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise MacpValidationError(name, value, f"a JSON-like mapping ({exc})") from None
    return struct


def from_struct(value: struct_pb2.Struct) -> dict[str, Any]:
    """A plain dict (JSON numbers come back as floats, as Struct stores them)."""
    result: dict[str, Any] = json_format.MessageToDict(value)
    return result


def to_any(value: Message) -> any_pb2.Any:
    """Packs a message; an `Any` is sent as it is rather than wrapped twice."""
    if isinstance(value, any_pb2.Any):
        return value
    packed = any_pb2.Any()
    packed.Pack(value)
    return packed
