"""Decoding payload bytes into typed messages, for projections and streams.

Payloads are protobuf binary. A few deployments still send legacy JSON objects (the runtime's
multi_round extension did), so a payload that is not valid protobuf but is a JSON object is
parsed with the proto3 JSON mapping before giving up.
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import DecodeError, Message

_M = TypeVar("_M", bound=Message)


class PayloadDecodeError(DecodeError):
    """The payload is neither valid protobuf nor a JSON object of the expected message."""


def decode_payload(message_class: type[_M], data: bytes) -> _M:
    try:
        return message_class.FromString(data)
    except DecodeError as proto_error:
        text = data.lstrip()
        if text.startswith(b"{"):
            from google.protobuf import json_format  # the rare legacy path: imported on use

            try:
                message = message_class()
                return json_format.Parse(text.decode("utf-8"), message, ignore_unknown_fields=True)
            except (json_format.ParseError, UnicodeDecodeError) as json_error:
                raise PayloadDecodeError(
                    f"{message_class.DESCRIPTOR.full_name}: {json_error}"
                ) from json_error
        raise PayloadDecodeError(f"{message_class.DESCRIPTOR.full_name}: {proto_error}") from None
