"""The fast apply path: dispatch table, fast record construction, the sent-payload entry point.

Each shortcut must give exactly what the plain path gives: the same records (real instances of
the frozen record classes), the same state, the same anomalies, the same rollback.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2, envelope_pb2
from macp_codegen.compile import compile_protos
from macp_codegen.modeling import build_model
from macp_core._records import new_record, record_builder
from macp_core.base_projection import CORE_MESSAGE_TYPES
from macp_sdk._registry import payload_class
from macp_sdk.base_projection import BaseProjection
from macp_sdk.projections import _decision_base
from macp_sdk.projections.decision import DecisionProjection, VoteRecord

from .envelopes import DECISION, PROJECTIONS, Feed, anomaly_kinds, apply_ok, state_of

ORCH, A, B = "agent://orch", "agent://a", "agent://b"
REPO = Path(__file__).resolve().parents[2]


def _history(feed: Feed) -> list[envelope_pb2.Envelope]:
    return [
        feed.start(ORCH, [ORCH, A, B]),
        feed.send(ORCH, "Proposal", proposal_id="p1", option="x", supporting_data=b"\x00"),
        feed.send(A, "Evaluation", proposal_id="p1", recommendation="APPROVE", confidence=0.5),
        feed.send(B, "Objection", proposal_id="p1", reason="r", severity="low"),
        feed.send(A, "Vote", proposal_id="p1", vote="APPROVE"),
        feed.send(A, "Vote", proposal_id="p1", vote="REJECT"),  # a duplicate_vote anomaly
        feed.send(B, "Vote", proposal_id="p9", vote="APPROVE"),  # an unknown_proposal anomaly
        feed.commit(ORCH, "decision.selected", True),
    ]


def _payload(envelope: envelope_pb2.Envelope) -> Message:
    cls = payload_class(envelope.mode, envelope.message_type)
    assert cls is not None
    return cls.FromString(envelope.payload)


def apply_sent(
    projection: BaseProjection, envelope: envelope_pb2.Envelope, payload: Message
) -> bool:
    """The session's entry point: the payload and the header values the envelope was built
    from (a session hands its own; here they are the envelope's)."""
    return projection._apply_sent(
        envelope,
        payload,
        envelope.mode,
        envelope.session_id,
        envelope.message_id,
        envelope.message_type,
        envelope.sender,
        envelope.timestamp_unix_ms,
    )


def _everything(projection: BaseProjection) -> Any:
    return (
        state_of(projection),
        list(projection.transcript),
        anomaly_kinds(projection),
        projection.phase,
    )


def test_a_sent_payload_gives_the_same_projection_as_decoding_the_envelope() -> None:
    history = _history(Feed(DECISION))
    decoded, sent = DecisionProjection(), DecisionProjection()
    for envelope in history:
        assert decoded.apply_envelope(envelope) == apply_sent(sent, envelope, _payload(envelope))
    assert _everything(sent) == _everything(decoded)
    assert sent.vote_records["p1"][0] == decoded.vote_records["p1"][0]
    assert anomaly_kinds(sent) == ["duplicate_vote", "unknown_proposal"]


def test_a_sent_payload_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    feed = Feed(DECISION)
    start, proposal = feed.start(ORCH, [ORCH, A]), feed.send(ORCH, "Proposal", proposal_id="p1")
    vote = feed.send(A, "Vote", proposal_id="p1", vote="APPROVE")

    def no_decoding(*args: Any) -> Any:
        raise AssertionError("decoded a payload the caller already had")

    projection = DecisionProjection()
    apply_ok(projection, start, proposal)
    payload = _payload(vote)
    monkeypatch.setattr(_decision_base, "decode_payload", no_decoding)  # the fallback path
    monkeypatch.setattr(decision_pb2.VotePayload, "FromString", staticmethod(no_decoding))
    assert apply_sent(projection, vote, payload)
    assert projection.votes["p1"][A].vote == "APPROVE"
    # Without the payload (or with a payload of another class) it decodes, and here fails.
    other = feed.send(A, "Vote", proposal_id="p1", vote="REJECT")
    assert not apply_sent(projection, other, core_pb2.SignalPayload())
    assert anomaly_kinds(projection)[-1] == "rejected_envelope"
    assert projection.votes["p1"][A].vote == "APPROVE"  # rolled back


def test_a_sent_core_payload_is_never_kept_as_the_callers_object() -> None:
    feed = Feed(DECISION)
    start = feed.start(ORCH, [ORCH, A])
    payload = _payload(start)
    projection = DecisionProjection()
    assert apply_sent(projection, start, payload)
    assert projection.session_start == payload and projection.session_start is not payload


def test_an_overridden_apply_envelope_sees_sent_envelopes_too() -> None:
    seen: list[str] = []

    class Watching(DecisionProjection):
        def apply_envelope(self, envelope: envelope_pb2.Envelope) -> bool:
            seen.append(envelope.message_type)
            return super().apply_envelope(envelope)

    feed = Feed(DECISION)
    start = feed.start(ORCH, [ORCH, A])
    projection = Watching()
    assert apply_sent(projection, start, _payload(start))
    assert projection.apply_all([feed.send(ORCH, "Proposal", proposal_id="p1")]) == 1
    assert seen == ["SessionStart", "Proposal"]

    class Below(Watching):  # inherits the override: sent envelopes still go through it
        pass

    seen.clear()
    assert apply_sent(Below(), start, _payload(start)) and seen == ["SessionStart"]


def test_a_subclass_overriding_apply_mode_envelope_gets_every_mode_envelope() -> None:
    class Intercepting(DecisionProjection):
        def __init__(self) -> None:
            super().__init__()
            self.intercepted: list[str] = []

        def apply_mode_envelope(self, envelope: envelope_pb2.Envelope) -> None:
            self.intercepted.append(envelope.message_type)
            if envelope.message_type != "Objection":
                super().apply_mode_envelope(envelope)

    projection = Intercepting()
    apply_ok(projection, *_history(Feed(DECISION))[:5])
    assert projection.intercepted == ["Proposal", "Evaluation", "Objection", "Vote"]
    assert projection.objection_records == {} and list(projection.votes["p1"]) == [A]


def test_a_message_type_the_mode_does_not_name_is_refused_only_where_a_mode_names_some() -> None:
    unknown = Feed(DECISION).envelope(A, "Tally", decision_pb2.VotePayload(proposal_id="p1"))
    generated = DecisionProjection()
    assert not generated.apply_envelope(unknown)
    assert anomaly_kinds(generated) == ["rejected_envelope"] and not generated.transcript
    assert "'Tally' is not a message type of macp.mode.decision.v1" in (
        generated.anomalies[0].detail
    )

    class Accepting(BaseProjection):  # names no message types: takes every envelope as it is
        MODE = DECISION

    hand_written = Accepting()
    assert hand_written.apply_envelope(unknown) and not hand_written.anomalies


def test_a_hand_written_projection_still_gets_its_mode_envelopes() -> None:
    class Counting(BaseProjection):
        MODE = DECISION

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def apply_mode_envelope(self, envelope: envelope_pb2.Envelope) -> None:
            self.count += 1

    projection = Counting()
    apply_ok(projection, *_history(Feed(DECISION)))
    assert projection.count == 6 and projection.is_committed


@pytest.mark.parametrize("mode", sorted(PROJECTIONS))
def test_every_generated_base_dispatches_each_of_its_message_types(mode: str) -> None:
    cls = PROJECTIONS[mode]
    assert set(cls.APPLY_METHODS) == set(cls._dispatch) - CORE_MESSAGE_TYPES
    assert set(cls._dispatch_sent) == set(cls._dispatch)
    assert set(cls.SENT_APPLY_METHODS) == set(cls.APPLY_METHODS)
    for message_type, name in cls.APPLY_METHODS.items():
        assert cls._dispatch[message_type] is getattr(cls, name)
        twin = cls.SENT_APPLY_METHODS[message_type]
        assert cls._dispatch_sent[message_type] is getattr(cls, twin)


def test_a_failing_hook_undoes_the_bases_bookkeeping_exactly() -> None:
    class Failing(DecisionProjection):
        def on_vote(self, record: VoteRecord) -> None:
            super().on_vote(record)
            if record.vote == "BOOM":
                raise RuntimeError("no")

    feed = Feed(DECISION)
    projection = Failing()
    apply_ok(projection, *_history(feed)[:5])
    before = state_of(projection)
    latest_order = list(projection.latest_by_sender)
    for sender, pid in ((A, "p1"), ("agent://new", "p1"), (A, "p-new")):
        boom = feed.send(sender, "Vote", proposal_id=pid, vote="BOOM")
        assert not projection.apply_envelope(boom)
        assert state_of(projection) == before
        assert list(projection.latest_by_sender) == latest_order
        assert [r.vote for r in projection.vote_records["p1"]] == ["APPROVE"]


# -- fast record construction --------------------------------------------------------------


def _built_inline(cls: type, *values: Any) -> Any:
    # What a generated `_apply_*` does: allocate the twin, store each field, switch class.
    record = new_record(record_builder(cls))
    for name, value in zip(cls.__slots__, values, strict=True):
        setattr(record, name, value)
    record.__class__ = cls
    return record


def test_records_built_inline_are_ordinary_frozen_records() -> None:
    record = _built_inline(VoteRecord, "p1", "APPROVE", "why", A, "m1", 7)
    plain = VoteRecord("p1", "APPROVE", "why", A, "m1", 7)
    assert type(record) is VoteRecord and record == plain and hash(record) == hash(plain)
    assert repr(record) == repr(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.vote = "REJECT"
    assert dataclasses.replace(record, vote="REJECT").vote == "REJECT"
    assert pickle.loads(pickle.dumps(record)) == plain
    assert dataclasses.asdict(record) == dataclasses.asdict(plain)


def test_a_record_builder_is_refused_for_classes_without_a_twin() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived(Base):  # fields in two slot layouts: no flat twin
        b: int

    for cls in (NoSlots, Mutable, Checked, KeywordOnly, Derived):
        with pytest.raises(TypeError, match=cls.__name__):
            record_builder(cls)
    assert _built_inline(Base, 1) == Base(1)


def test_decoded_records_equal_what_decode_returns() -> None:
    envelope = Feed(DECISION).send(A, "Vote", proposal_id="p1", vote="APPROVE", reason="r")
    projection = DecisionProjection()
    apply_ok(projection, envelope)
    record = projection.vote_records["p1"][0]
    assert type(record) is VoteRecord and record == VoteRecord.decode(envelope)
    assert record == VoteRecord("p1", "APPROVE", "r", A, envelope.message_id, 0)


_SCALARS: dict[int, Any] = {
    FieldDescriptor.CPPTYPE_BOOL: True,
    FieldDescriptor.CPPTYPE_INT32: 3,
    FieldDescriptor.CPPTYPE_INT64: 4,
    FieldDescriptor.CPPTYPE_UINT32: 5,
    FieldDescriptor.CPPTYPE_UINT64: 6,
    FieldDescriptor.CPPTYPE_DOUBLE: 0.5,
    FieldDescriptor.CPPTYPE_FLOAT: 0.5,
}


def _filled(cls: type[Message]) -> Message:
    """A payload with every singular scalar and enum field set (messages left unset)."""
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.is_repeated or field.containing_oneof is not None:
            continue
        if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
            value: Any = field.enum_type.values[-1].number
        elif field.type == FieldDescriptor.TYPE_BYTES:
            value = b"b"
        elif field.cpp_type == FieldDescriptor.CPPTYPE_STRING:
            value = field.name  # distinct per field: a value stored in the wrong slot shows
        elif field.cpp_type in _SCALARS:
            value = _SCALARS[field.cpp_type]
        else:
            continue
        setattr(message, field.name, value)
    return message


@pytest.mark.parametrize("mode", sorted(PROJECTIONS))
def test_records_built_inline_equal_decode_for_every_action(mode: str) -> None:
    """The generated `_apply_*` store the record's fields one by one (record_builder); `decode`
    calls the constructor. Both, and the sent-payload path, give the same frozen record."""
    base = next(k for k in PROJECTIONS[mode].__mro__ if "APPLY_METHODS" in vars(k))
    module = __import__(base.__module__, fromlist=["_"])
    records = {
        r.MESSAGE_TYPE: r
        for r in vars(module).values()
        if isinstance(r, type) and dataclasses.is_dataclass(r) and hasattr(r, "MESSAGE_TYPE")
    }
    assert set(records) == set(base.APPLY_METHODS)
    feed = Feed(mode)
    for message_type, record_class in records.items():
        payload_cls = payload_class(mode, message_type)
        assert payload_cls is not None
        envelope = feed.envelope(A, message_type, _filled(payload_cls))
        envelope.timestamp_unix_ms = 1_700_000_000_123
        decoded, sent = base(), base()
        assert decoded.apply_envelope(envelope)
        assert apply_sent(sent, envelope, payload_cls.FromString(envelope.payload))
        expected = record_class.decode(envelope)
        for projection in (decoded, sent):
            record = projection.latest_by_sender[A]
            assert type(record) is record_class and record == expected
        with pytest.raises(dataclasses.FrozenInstanceError):
            decoded.latest_by_sender[A].sender = "changed"  # type: ignore[misc]


# -- the model decides which actions may reuse a sent payload -------------------------------


def test_only_records_of_plain_values_reuse_a_sent_payload() -> None:
    case = REPO / "tests" / "golden" / "constructs" / "proto"
    compiled = compile_protos(case)
    model = build_model(compiled.descriptor_set, compiled.targets, compiled.source_paths)
    reuse = {a.message_type: a.reuses_sent_payload for m in model.modes for a in m.actions}
    assert reuse["Offer"] is False and reuse["Bid"] is False  # hold messages / maps
    assert reuse["Close"] is True  # ... a record of plain values (a Timestamp as datetime) does


# -- headers the hot path hands to the slow check ---------------------------------------------


_VOTES = Feed(DECISION)


def _vote(session_id: str, mode: str = DECISION) -> envelope_pb2.Envelope:
    envelope = _VOTES.envelope(
        A, "Vote", decision_pb2.VotePayload(proposal_id="p1", vote="APPROVE")
    )
    envelope.session_id, envelope.mode = session_id, mode
    return envelope


@pytest.mark.parametrize("entry", ["apply_envelope", "_apply_sent"])
def test_unusual_headers_take_the_same_decisions_on_both_entry_points(entry: str) -> None:
    def apply(projection: DecisionProjection, envelope: envelope_pb2.Envelope) -> bool:
        if entry == "apply_envelope":
            return projection.apply_envelope(envelope)
        return apply_sent(
            projection, envelope, decision_pb2.VotePayload.FromString(envelope.payload)
        )

    projection = DecisionProjection()  # no session yet: the first envelope names it
    assert apply(projection, _vote("s-9"))
    assert projection.session_id == "s-9" and len(projection.vote_records["p1"]) == 1
    assert not apply(projection, _vote("s-9", mode="macp.mode.other.v1"))  # another mode
    assert not apply(projection, _vote(""))  # ambient: no session, no anomaly
    assert anomaly_kinds(projection) == []
    assert apply(projection, _vote("s-9", mode=""))  # no mode named: this projection's
    assert not apply(projection, _vote("s-8"))
    assert anomaly_kinds(projection) == ["duplicate_vote", "foreign_session"]  # A voted twice
    assert len(projection.transcript) == 2 and len(projection.vote_records["p1"]) == 2

    # A projection made for an empty session id applies nothing, as before.
    empty = DecisionProjection("")
    assert not apply(empty, _vote("")) and not empty.transcript


def test_a_subclass_replacing_a_replay_method_alone_sees_sent_envelopes_there() -> None:
    seen: list[str] = []

    class Replacing(DecisionProjection):
        def _apply_vote(self, envelope: envelope_pb2.Envelope, message_id: str) -> None:
            seen.append(message_id)
            super()._apply_vote(envelope, message_id)

    feed = Feed(DECISION)
    start, vote = feed.start(ORCH, [ORCH, A]), feed.send(A, "Vote", proposal_id="p1", vote="NO")
    projection = Replacing()
    assert apply_sent(projection, start, _payload(start))
    assert apply_sent(projection, vote, _payload(vote))
    assert seen == [vote.message_id] and projection.votes["p1"][A].vote == "NO"


def test_the_sent_path_takes_sender_and_timestamp_as_handed() -> None:
    feed = Feed(DECISION)
    vote = feed.send(A, "Vote", proposal_id="p1", vote="APPROVE")
    vote.timestamp_unix_ms = 5
    projection = DecisionProjection()
    # A session hands the values it built the envelope from (equal to its fields); here they
    # differ, so that a read of the envelope's own fields would show.
    handed = "agent://handed"
    assert projection._apply_sent(
        vote, _payload(vote), DECISION, vote.session_id, vote.message_id, "Vote", handed, 9
    )
    record = projection.vote_records["p1"][0]
    assert (record.sender, record.timestamp_unix_ms, record.message_id) == (
        handed,
        9,
        vote.message_id,
    )


def test_a_hook_is_called_as_the_class_defines_it() -> None:
    # bind_hooks stores the hook as the class holds it, so a static or class method hook is
    # called exactly as `self.on_vote(record)` would call it.
    seen: list[tuple[str, str]] = []

    class Static(DecisionProjection):
        @staticmethod
        def on_vote(record: VoteRecord) -> None:
            seen.append(("static", record.vote))

    class Classy(DecisionProjection):
        @classmethod
        def on_vote(cls, record: VoteRecord) -> None:
            seen.append((cls.__name__, record.vote))

    feed = Feed(DECISION)
    for cls in (Static, Classy):
        vote = feed.send(A, "Vote", proposal_id="p1", vote="APPROVE")
        assert cls().apply_envelope(vote)
        assert apply_sent(cls(), vote, _payload(vote))
    assert seen == [("static", "APPROVE")] * 2 + [("Classy", "APPROVE")] * 2
