"""Envelope -> :class:`IncomingMessage`, and back for typed handlers of polled events."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from macp.v1 import envelope_pb2

from .._decoding import PayloadDecodeError, decode_payload
from .._logging import get_logger
from .modes import payload_class
from .types import IncomingMessage

logger = get_logger("agent")


def payload_dict(mode: str, message_type: str, data: bytes) -> dict[str, Any]:
    """The payload as a dict keyed by proto field names; JSON payloads of unknown types are
    parsed as JSON; anything else undecodable gives ``{}`` (and a debug line)."""
    if not data:
        return {}
    message_class = payload_class(mode, message_type)
    if message_class is not None:
        try:
            message = decode_payload(message_class, data)
        except PayloadDecodeError as exc:
            logger.debug("undecodable %s payload: %s", message_type, exc)
            return {}
        return json_format.MessageToDict(message, preserving_proto_field_name=True)
    try:
        decoded = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def envelope_to_message(
    envelope: envelope_pb2.Envelope, *, seq: int | None = None
) -> IncomingMessage:
    payload = payload_dict(envelope.mode, envelope.message_type, envelope.payload)
    proposal = payload.get("proposal_id") or payload.get("proposalId")
    return IncomingMessage(
        message_type=envelope.message_type,
        sender=envelope.sender,
        payload=payload,
        proposal_id=str(proposal) if proposal else None,
        raw=envelope,
        seq=seq,
    )


def message_envelope(message: IncomingMessage, mode: str, session_id: str) -> envelope_pb2.Envelope:
    """The envelope behind ``message``: its raw one, or one rebuilt from the decoded payload
    (events a polling transport delivered as JSON)."""
    if message.raw is not None:
        return message.raw
    message_class = payload_class(mode, message.message_type)
    data = b""
    if message_class is not None:
        parsed = json_format.ParseDict(message.payload, message_class(), ignore_unknown_fields=True)
        data = parsed.SerializeToString()
    return envelope_pb2.Envelope(
        mode=mode,
        message_type=message.message_type,
        session_id=session_id,
        sender=message.sender,
        payload=data,
    )
