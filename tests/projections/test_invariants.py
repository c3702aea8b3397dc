"""Random envelope sequences: apply_envelope never raises, bad envelopes change nothing.

Each step is a well-formed mode or core message (random fields), a replay of an earlier
envelope, another session's envelope, an undecodable payload, or an unknown message type.
After every step: a replayed / foreign / undecodable / unknown envelope was refused with the
matching anomaly and the projection's state is exactly what it was; a terminal phase stays;
every query still answers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from macp.v1 import core_pb2, envelope_pb2
from macp_sdk._registry import MODE_REGISTRY
from macp_sdk.base_projection import BaseProjection
from macp_sdk.projections.decision import DecisionProjection
from macp_sdk.projections.handoff import HandoffProjection
from macp_sdk.projections.multi_round import MultiRoundProjection
from macp_sdk.projections.proposal import ProposalProjection
from macp_sdk.projections.quorum import QuorumProjection
from macp_sdk.projections.task import TaskProjection

from .envelopes import PROJECTIONS, Feed, anomaly_kinds, state_of

INITIATOR = "agent://init"
AGENTS = [INITIATOR, "agent://a", "agent://b"]
SENDERS = [*AGENTS, "agent://outsider"]
IDS = ["x1", "x2", ""]
WORDS = ["APPROVE", "reject", "ABSTAIN", "critical", "REVIEW", "low", "v1", "v2", ""]
PEOPLE_FIELDS = {"target_participant", "requested_assignee", "assignee", "accepted_by"}

STEP_KINDS = ["valid", "valid", "valid", "valid", "replay", "foreign", "garbage", "unknown"]
CORE_TYPES = ["Commitment", "SessionCancel", "Signal", "SessionSuspend", "SessionResume"]


def _field_value(data: st.DataObject, field: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.name.endswith("_id"):
            pool = IDS
        elif field.name in PEOPLE_FIELDS or field.name.endswith("_by"):
            pool = [*SENDERS, ""]
        else:
            pool = WORDS
        return data.draw(st.sampled_from(pool))
    if field.type == FieldDescriptor.TYPE_BYTES:
        return data.draw(st.binary(max_size=4))
    if field.type == FieldDescriptor.TYPE_BOOL:
        return data.draw(st.booleans())
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return data.draw(st.floats(0, 1))
    if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        return data.draw(st.integers(0, 5))
    if field.type == FieldDescriptor.TYPE_UINT32:
        return data.draw(st.integers(0, 5))
    return None  # nested messages (e.g. Commitment.supersedes): left unset


def random_payload(data: st.DataObject, cls: type[Message]) -> Message:
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.is_repeated:
            count = data.draw(st.integers(0, 2))
            getattr(message, field.name).extend(_field_value(data, field) for _ in range(count))
        else:
            setattr(message, field.name, _field_value(data, field))
    return message


def undecodable() -> st.SearchStrategy[bytes]:
    # Field 1, length-delimited, declaring more bytes than follow: never valid protobuf, and
    # not JSON either (the decoder's legacy fallback only tries payloads starting with "{").
    return st.integers(2, 100).flatmap(
        lambda n: st.binary(max_size=n - 1).map(lambda tail: bytes([0x0A, n]) + tail)
    )


# Every public query of each projection, called after each step: none may raise.
QUERIES: dict[type[BaseProjection], Callable[[Any], object]] = {
    DecisionProjection: lambda p: (
        p.vote_totals(),
        p.vote_ratio("x1"),
        p.majority_winner(),
        p.has_blocking_objection(),
        p.has_blocking_objection("x1"),
        p.qualifying_evaluations(),
        p.review_evaluations(),
        p.latest_proposal(),
        p.vote_counts("x2"),
        p.is_commit_eligible,
        p.outcome,
        p.committed_action,
    ),
    ProposalProjection: lambda p: (
        p.live_proposals(),
        p.counter_proposals(),
        p.superseded_by("x1"),
        p.accepted_proposal(),
        p.converged_proposal(),
        p.is_converged,
        p.pending_acceptors("x1"),
        p.has_terminal_rejection(),
        p.is_terminally_rejected("x1"),
        p.latest_proposal(),
        p.is_commit_eligible,
    ),
    TaskProjection: lambda p: (
        p.status,
        p.active_assignee,
        p.can_accept("agent://a"),
        p.can_accept("agent://b", allow_reassignment_on_reject=True),
        p.declined_participants(),
        p.progress_of(),
        p.latest_progress(),
        p.is_retryable(),
        p.output,
        p.is_commit_eligible,
    ),
    HandoffProjection: lambda p: (
        p.active_offer(),
        p.pending_handoffs(),
        p.accepted_offer(),
        p.declined_targets(),
        p.can_offer_to("agent://a"),
        p.has_accepted_offer("x1"),
        p.is_implicitly_accepted("x1"),
        p.is_commit_eligible,
    ),
    QuorumProjection: lambda p: (
        p.approval_count(),
        p.rejection_count(),
        p.abstention_count(),
        p.threshold(),
        p.threshold_reached,
        p.can_still_pass(),
        p.can_still_pass(3),
        p.is_threshold_unreachable(),
        p.remaining_votes_needed(),
        p.pending_voters(),
        p.commitment_ready(),
        p.is_commit_eligible,
    ),
    MultiRoundProjection: lambda p: (
        p.all_agree,
        p.agreed_value,
        p.is_converged,
        p.converged_value,
        p.pending_contributors(),
        p.contribution_history("agent://a"),
        p.is_commit_eligible,
    ),
}


@pytest.mark.parametrize("mode", sorted(PROJECTIONS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_sequences_keep_the_invariants(mode: str, data: st.DataObject) -> None:
    proj = PROJECTIONS[mode]()
    feed = Feed(mode, session_id="s-main")
    foreign = Feed(mode, session_id="s-other")
    mode_types = sorted(MODE_REGISTRY[mode].payloads)
    history: list[envelope_pb2.Envelope] = []

    if data.draw(st.booleans(), label="start"):
        start = feed.start(INITIATOR, data.draw(st.sampled_from([AGENTS, AGENTS[1:]])))
        assert proj.apply_envelope(start)
        history.append(start)

    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        kind = data.draw(st.sampled_from(STEP_KINDS if history else ["valid"]), label="kind")
        sender = data.draw(st.sampled_from(SENDERS), label="sender")
        message_type = data.draw(st.sampled_from(mode_types + CORE_TYPES), label="type")
        cls = MODE_REGISTRY[mode].payloads.get(message_type) or _core(message_type)
        if kind == "valid":
            envelope = feed.envelope(sender, message_type, random_payload(data, cls))
        elif kind == "replay":
            envelope = data.draw(st.sampled_from(history), label="replayed")
        elif kind == "foreign":
            envelope = foreign.envelope(sender, message_type, random_payload(data, cls))
        elif kind == "garbage":
            # Signal payloads are informational and never decoded, so they cannot be "bad".
            bad_type = "Commitment" if message_type == "Signal" else message_type
            envelope = feed.envelope(sender, bad_type, data.draw(undecodable()))
        else:
            envelope = feed.envelope(sender, "Bogus", random_payload(data, cls))

        before = copy.deepcopy(state_of(proj))
        phase_before, terminal_before = proj.phase, proj.is_terminal
        transcript_before, anomalies_before = len(proj.transcript), len(proj.anomalies)

        applied = proj.apply_envelope(envelope)  # must never raise

        if kind == "valid":
            assert applied, proj.anomalies[-1:]
            history.append(envelope)
            assert len(proj.transcript) == transcript_before + 1
        else:
            expected = {
                "replay": "duplicate_message",
                "foreign": "foreign_session",
                "garbage": "undecodable_payload",
                "unknown": "rejected_envelope",
            }[kind]
            assert not applied
            assert anomaly_kinds(proj)[anomalies_before:] == [expected]
            assert state_of(proj) == before
            assert len(proj.transcript) == transcript_before
        if terminal_before:
            assert proj.phase == phase_before
        QUERIES[type(proj)](proj)


def _core(message_type: str) -> type[Message]:
    return {
        "Commitment": core_pb2.CommitmentPayload,
        "SessionCancel": core_pb2.SessionCancelPayload,
        "Signal": core_pb2.SignalPayload,
        "SessionSuspend": core_pb2.SessionSuspendPayload,
        "SessionResume": core_pb2.SessionResumePayload,
    }[message_type]
