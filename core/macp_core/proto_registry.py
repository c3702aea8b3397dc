"""Payloads as plain dicts, by (mode, message_type) or protobuf type name.

macp-sdk-python 0.22.0 offered this as `ProtoRegistry` for code that handles payloads
without the generated classes (bridges, logs, JSON APIs). The generated
`macp_sdk.proto_registry.ProtoRegistry` binds it to the modes the SDK was generated from.
Dicts use the proto field names (`proposal_id`, not `proposalId`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from ._decoding import decode_payload

PayloadLookup = Callable[[str, str], "type[Message] | None"]


class PayloadCodec:
    """Encodes dicts to payload bytes and back for the payload classes it is given."""

    def __init__(self, payload_class: PayloadLookup, classes: Iterable[type[Message]]) -> None:
        self._payload_class = payload_class
        self._by_name: dict[str, type[Message]] = {c.DESCRIPTOR.full_name: c for c in classes}

    def get_known_type_name(self, mode: str, message_type: str) -> str | None:
        """The payload's full protobuf type name, or None for an unknown pair."""
        cls = self._payload_class(mode, message_type)
        return cls.DESCRIPTOR.full_name if cls is not None else None

    def encode_message(self, type_name: str, value: Mapping[str, Any]) -> bytes:
        """``value`` (proto field names or JSON names) as ``type_name``'s wire bytes."""
        message = json_format.ParseDict(dict(value), self._class(type_name)())
        return message.SerializeToString()

    def decode_message(self, type_name: str, payload: bytes) -> dict[str, Any]:
        """``payload`` parsed as ``type_name`` (legacy JSON objects too), as a dict."""
        return _as_dict(decode_payload(self._class(type_name), payload))

    def encode_known_payload(self, mode: str, message_type: str, value: Mapping[str, Any]) -> bytes:
        """``value`` encoded as the payload of ``message_type`` in ``mode``; ValueError if
        the pair is unknown."""
        type_name = self.get_known_type_name(mode, message_type)
        if type_name is None:
            raise ValueError(f"unknown payload mapping for {mode}/{message_type}")
        return self.encode_message(type_name, value)

    def decode_known_payload(
        self, mode: str, message_type: str, payload: bytes
    ) -> dict[str, Any] | None:
        """The payload as a dict of its fields. Bytes that are not the payload's protobuf
        (legacy JSON, or an unknown pair) come wrapped as 0.22.0 wrapped them:
        ``{"encoding": "json", "json": ...}`` or ``{"encoding": "text", "text": ...,
        "payload_base64": ...}``; None for empty or undecodable bytes."""
        if not payload:
            return None
        cls = self._payload_class(mode, message_type)
        if cls is not None:
            try:
                return _as_dict(cls.FromString(payload))
            except DecodeError:
                pass  # not protobuf: maybe a legacy JSON payload
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
        try:
            return {"encoding": "json", "json": json.loads(text)}
        except ValueError:
            if cls is not None:
                return None
            encoded = base64.b64encode(payload).decode()
            return {"encoding": "text", "text": text, "payload_base64": encoded}

    def _class(self, type_name: str) -> type[Message]:
        try:
            return self._by_name[type_name]
        except KeyError:
            raise KeyError(f"unknown protobuf type {type_name!r}") from None


def _as_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)
