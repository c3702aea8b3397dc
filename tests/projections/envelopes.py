"""Building accepted-looking envelopes for projection tests, by hand or from fixture JSON."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk._registry import payload_class
from macp_sdk.base_projection import BaseProjection
from macp_sdk.projections.decision import DecisionProjection
from macp_sdk.projections.handoff import HandoffProjection
from macp_sdk.projections.multi_round import MultiRoundProjection
from macp_sdk.projections.proposal import ProposalProjection
from macp_sdk.projections.quorum import QuorumProjection
from macp_sdk.projections.task import TaskProjection

DECISION = "macp.mode.decision.v1"
PROPOSAL = "macp.mode.proposal.v1"
TASK = "macp.mode.task.v1"
HANDOFF = "macp.mode.handoff.v1"
QUORUM = "macp.mode.quorum.v1"
MULTI_ROUND = "ext.multi_round.v1"

PROJECTIONS: dict[str, type[BaseProjection]] = {
    DECISION: DecisionProjection,
    PROPOSAL: ProposalProjection,
    TASK: TaskProjection,
    HANDOFF: HandoffProjection,
    QUORUM: QuorumProjection,
    MULTI_ROUND: MultiRoundProjection,
}

# Bookkeeping attributes of BaseProjection that are not "state" (they grow on every envelope).
UNTRACKED = frozenset({"transcript", "anomalies", "_seen_message_ids"})


def state_of(projection: BaseProjection) -> dict[str, Any]:
    """Every attribute of the projection except the transcript/anomaly bookkeeping."""
    return {k: v for k, v in vars(projection).items() if k not in UNTRACKED}


def payload_from_json(cls: type[Message], fields: Mapping[str, Any]) -> Message:
    """A payload from fixture JSON: snake_case names; bytes as UTF-8 strings or ``[]``."""
    kwargs: dict[str, Any] = {}
    for name, value in fields.items():
        field = cls.DESCRIPTOR.fields_by_name.get(name)
        if field is None:
            raise KeyError(f"{cls.DESCRIPTOR.full_name} has no field {name!r}")
        if field.type == FieldDescriptor.TYPE_BYTES:
            if value == []:
                value = b""
            elif isinstance(value, str):
                value = value.encode("utf-8")
            else:
                raise TypeError(f"{name}: cannot read {value!r} as bytes")
        kwargs[name] = value
    return cls(**kwargs)


class Feed:
    """Envelopes of one session, numbered so every message_id is fresh and reproducible."""

    def __init__(self, mode: str, session_id: str = "s-1") -> None:
        self.mode = mode
        self.session_id = session_id
        self._ids = itertools.count(1)

    def envelope(
        self,
        sender: str,
        message_type: str,
        payload: Message | bytes,
        *,
        session_id: str | None = None,
        message_id: str | None = None,
    ) -> envelope_pb2.Envelope:
        body = payload if isinstance(payload, bytes) else payload.SerializeToString()
        return envelope_pb2.Envelope(
            macp_version="1.0",
            mode=self.mode,
            message_type=message_type,
            message_id=message_id or f"{self.session_id}-m{next(self._ids)}",
            session_id=self.session_id if session_id is None else session_id,
            sender=sender,
            timestamp_unix_ms=0,
            payload=body,
        )

    def start(
        self,
        initiator: str,
        participants: Sequence[str],
        *,
        mode_version: str = "1.0.0",
        configuration_version: str = "cfg-1",
        policy_version: str = "",
        ttl_ms: int = 60_000,
    ) -> envelope_pb2.Envelope:
        payload = core_pb2.SessionStartPayload(
            intent="test",
            participants=list(participants),
            mode_version=mode_version,
            configuration_version=configuration_version,
            policy_version=policy_version,
            ttl_ms=ttl_ms,
        )
        return self.envelope(initiator, "SessionStart", payload)

    def send(self, sender: str, message_type: str, **fields: Any) -> envelope_pb2.Envelope:
        """A mode (or core) message whose payload class comes from the SDK's registry."""
        cls = payload_class(self.mode, message_type)
        if cls is None:
            raise KeyError(f"{self.mode} has no message type {message_type!r}")
        return self.envelope(sender, message_type, cls(**fields))

    def commit(
        self, sender: str, action: str, outcome_positive: bool, **fields: Any
    ) -> envelope_pb2.Envelope:
        payload = core_pb2.CommitmentPayload(
            commitment_id=fields.pop("commitment_id", "c1"),
            action=action,
            authority_scope=fields.pop("authority_scope", "test"),
            reason=fields.pop("reason", "done"),
            mode_version=fields.pop("mode_version", "1.0.0"),
            configuration_version=fields.pop("configuration_version", "cfg-1"),
            outcome_positive=outcome_positive,
            **fields,
        )
        return self.envelope(sender, "Commitment", payload)


def apply_ok(projection: BaseProjection, *envelopes: envelope_pb2.Envelope) -> None:
    """Apply envelopes that must all take effect."""
    for envelope in envelopes:
        assert projection.apply_envelope(envelope), (
            envelope.message_type,
            projection.anomalies[-1:] or "ignored",
        )


def anomaly_kinds(projection: BaseProjection) -> list[str]:
    return [a.kind for a in projection.anomalies]
