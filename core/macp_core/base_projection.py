"""``BaseProjection``: a local, replayable view of one session built from accepted envelopes.

Generated mode projections extend it through ``APPLY_METHODS`` (message type -> the method that
applies it; one dict lookup per envelope instead of a chain of comparisons) and
``apply_mode_envelope`` (every other message type). ``apply_envelope`` never raises: an
envelope that does not fit is recorded as a :class:`ProjectionAnomaly` and the projection is
left exactly as it was before that envelope.

Rollback uses an undo log (:mod:`macp_core._undo`): attribute writes and writes to the
projection's dicts, lists and sets are recorded while an envelope is applied and reversed if
it fails, so applying an envelope costs what it changes, not what the projection holds.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from google.protobuf.message import DecodeError, Message
from macp.v1 import core_pb2, envelope_pb2

from ._hooks import bind_hooks
from ._logging import get_logger
from ._record_views import LatestBySender, RecordsBySubject
from ._undo import Journal, TrackedDict, TrackedList, TrackedSet, _truncate_list, adopt

logger = get_logger("projection")

# Anomaly kinds every projection records. A mode's own kinds (e.g. duplicate_vote, pinned by
# the cross-SDK parity contract) are declared in its proto and generated into
# macp_sdk.facts.<mode> (also exported at macp_sdk's top level).
ANOMALY_FOREIGN_SESSION = "foreign_session"
ANOMALY_DUPLICATE_MESSAGE = "duplicate_message"
ANOMALY_UNDECODABLE_PAYLOAD = "undecodable_payload"
ANOMALY_REJECTED_ENVELOPE = "rejected_envelope"

PHASE_PENDING = "Pending"
PHASE_COMMITTED = "Committed"
PHASE_CANCELLED = "Cancelled"

# Core message types every mode shares; everything else goes to the mode hook.
CORE_MESSAGE_TYPES: frozenset[str] = frozenset(
    {
        "SessionStart",
        "Commitment",
        "SessionCancel",
        "SessionSuspend",
        "SessionResume",
        "Signal",
        "Progress",
    }
)


@dataclass(frozen=True)
class ProjectionAnomaly:
    """An accepted-looking envelope the projection could not (or would not) apply."""

    kind: str
    mode: str
    message_type: str
    message_id: str
    sender: str
    subject_id: str
    detail: str


# Attributes that are bookkeeping rather than state: never journaled or restored.
_UNTRACKED = frozenset({"transcript", "anomalies", "_seen_message_ids"})
_SLOTS = frozenset({"_journal", "_opaque", "_record_log"})
_MISSING: Any = object()

# Values a write replaces but never mutates in place: journaling the attribute write suffices.
# (Protobuf messages count as values: projections replace them, never edit them.)
_VALUE_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, bytes, complex, type(None), tuple, frozenset, range}
    | {TrackedDict, TrackedList, TrackedSet}
    | {RecordsBySubject, LatestBySender}  # derived from the record log, which rollback cuts
)


def _is_value(value: object) -> bool:
    kind = type(value)
    if kind in _VALUE_TYPES or isinstance(value, Message | enum.Enum | type):
        return True
    params = getattr(kind, "__dataclass_params__", None)
    return params is not None and dataclasses.is_dataclass(value) and bool(params.frozen)


def _restore_attribute(target: BaseProjection, name: str, old: object) -> None:
    if old is _MISSING:
        object.__delattr__(target, name)
        target._opaque.discard(name)
        return
    object.__setattr__(target, name, old)
    if _is_value(old):
        target._opaque.discard(name)
    else:
        target._opaque.add(name)


# How an envelope of one message type is applied: (projection, envelope, envelope.message_id
# as already read: a record keeps it without reading the field again).
_Apply = Callable[[Any, envelope_pb2.Envelope, str], None]
# ... and one this process sent: (projection, envelope, the payload message it was built from,
# message_id, sender, timestamp_unix_ms: the header values the sender built it from).
_ApplySent = Callable[[Any, envelope_pb2.Envelope, Message, str, str, int], None]
_R = TypeVar("_R")


class BaseProjection:
    """Transcript, phase, commitment and anomalies for one session of one mode.

    State lives in ordinary attributes. Plain ``dict``/``list``/``set`` values are adopted
    into tracked subclasses when stored (on the projection or inside a tracked container), so
    hooks mutate them naturally and a failing envelope is undone exactly. Any other mutable
    value stored in an attribute (a ``deque``, a ``Counter``, your own object) is deep-copied
    before each envelope instead: correct, but it costs its size on every envelope.
    """

    __slots__ = ("__dict__", "__weakref__", "_journal", "_opaque", "_record_log")

    MODE: ClassVar[str] = ""
    INITIAL_PHASE: ClassVar[str] = PHASE_PENDING
    TERMINAL_PHASES: ClassVar[frozenset[str]] = frozenset({PHASE_COMMITTED, PHASE_CANCELLED})
    # A mode's message types -> the name of the method applying one: ``method(envelope,
    # message_id)``, ``message_id`` being ``envelope.message_id``. Generated bases fill it.
    APPLY_METHODS: ClassVar[Mapping[str, str]] = {}
    # The same for an envelope this process sent: ``method(envelope, payload, message_id,
    # sender, timestamp_unix_ms)`` with the payload message and header values the envelope was
    # built from. A message type missing here is applied by its APPLY_METHODS method.
    SENT_APPLY_METHODS: ClassVar[Mapping[str, str]] = {}

    _journal: Journal
    _opaque: set[str]
    # Every record filed, in arrival order (see file_record); rollback truncates it.
    _record_log: list[Any]
    # Message type -> how to apply it, resolved once per class (see __init_subclass__).
    _dispatch: ClassVar[dict[str, _Apply]]
    _dispatch_sent: ClassVar[dict[str, _ApplySent]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        self = super().__new__(cls)
        object.__setattr__(self, "_journal", Journal())
        object.__setattr__(self, "_opaque", set())
        object.__setattr__(self, "_record_log", [])
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch, cls._dispatch_sent = _dispatch_tables(cls)
        # A generated base names its hooks (DEFAULT_HOOKS): bind the ones this class resolves
        # to, for it and for every subclass (see macp_core._hooks).
        declared = next((k for k in cls.__mro__ if "DEFAULT_HOOKS" in vars(k)), None)
        if declared is not None:
            bind_hooks(cls, declared)
        if cls.apply_envelope is not BaseProjection.apply_envelope:
            # An override sees every envelope, sent ones too: decided here, not per envelope.
            cls._apply_sent = _apply_sent_through_override  # type: ignore[method-assign]

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        self.session_id = session_id
        self.mode: str = mode if mode is not None else self.MODE
        self.transcript: list[envelope_pb2.Envelope] = []
        self.anomalies: list[ProjectionAnomaly] = []
        self.phase: str = self.INITIAL_PHASE
        self.commitment: core_pb2.CommitmentPayload | None = None
        self.session_start: core_pb2.SessionStartPayload | None = None
        self.participants: list[str] = []
        self.initiator: str = ""
        self.suspended: bool = False
        self.cancel_reason: str | None = None
        self._seen_message_ids: set[str] = set()

    # -- queries -------------------------------------------------------------------------
    @property
    def is_committed(self) -> bool:
        return self.commitment is not None

    @property
    def is_positive_outcome(self) -> bool | None:
        """The commitment's outcome, or ``None`` while uncommitted."""
        return None if self.commitment is None else self.commitment.outcome_positive

    @property
    def has_anomalies(self) -> bool:
        return bool(self.anomalies)

    @property
    def is_terminal(self) -> bool:
        return self.phase in self.TERMINAL_PHASES

    def has_message(self, message_id: str) -> bool:
        return message_id in self._seen_message_ids

    # -- applying ------------------------------------------------------------------------
    def apply_envelope(self, envelope: envelope_pb2.Envelope) -> bool:
        """Apply one accepted envelope. Returns True if it changed the projection.

        Envelopes of another mode are ignored (False). Another session's envelope, a repeated
        ``message_id``, an undecodable payload, or anything the mode hook raises is recorded
        as an anomaly (False) and leaves the state untouched.
        """
        # The replay path, one frame down to the mode's apply method: ``_apply_sent`` is its
        # twin for envelopes this process sent (keep the two alike). Protobuf field reads are
        # not free (~55 ns each): each is read once.
        mode = envelope.mode
        session_id = envelope.session_id
        if (
            mode != self.mode or session_id != self.session_id or not session_id
        ) and not self._admits(envelope, mode, session_id):
            return False
        message_id = envelope.message_id
        seen = self._seen_message_ids
        if message_id and message_id in seen:
            self._record_anomaly(ANOMALY_DUPLICATE_MESSAGE, envelope, "message_id already applied")
            return False
        apply = self._dispatch.get(envelope.message_type)
        records_before = len(self._record_log)
        journal = self._journal
        steps = journal.steps = journal.spare  # open the undo log (inline: once per envelope)
        if self._opaque:
            self._save_opaque()
        try:
            if apply is None:
                self.apply_mode_envelope(envelope)
            else:
                apply(self, envelope, message_id)
        except Exception as exc:  # the contract: never raise, record instead
            self._failed(envelope, exc, records_before)
            return False
        journal.steps = None  # committed: forget the undo steps
        if steps:
            steps.clear()
        self.transcript.append(envelope)
        if message_id:
            seen.add(message_id)
        return True

    def _apply_sent(
        self,
        envelope: envelope_pb2.Envelope,
        payload: Message,
        mode: str,
        session_id: str,
        message_id: str,
        message_type: str,
        sender: str,
        timestamp_unix_ms: int,
    ) -> bool:
        """``apply_envelope`` for an envelope this process built from ``payload`` and sent.

        For sessions, once the runtime accepted it: the payload message is used as it is
        instead of decoding ``envelope.payload`` again (where the mode's record copies only
        plain values out of it; otherwise, and for any other message class, it is decoded),
        and the header values the sender built the envelope from (``mode`` ..
        ``timestamp_unix_ms``, equal to its fields) are used instead of reading the fields back.
        """
        # apply_envelope's body with the caller's values: keep the two alike. (A class that
        # overrides apply_envelope gets _apply_sent_through_override instead.)
        if (
            mode != self.mode or session_id != self.session_id or not session_id
        ) and not self._admits(envelope, mode, session_id):
            return False
        seen = self._seen_message_ids
        if message_id and message_id in seen:
            self._record_anomaly(ANOMALY_DUPLICATE_MESSAGE, envelope, "message_id already applied")
            return False
        apply = self._dispatch_sent.get(message_type)
        records_before = len(self._record_log)
        journal = self._journal
        steps = journal.steps = journal.spare
        if self._opaque:
            self._save_opaque()
        try:
            if apply is None:
                self.apply_mode_envelope(envelope)
            else:
                apply(self, envelope, payload, message_id, sender, timestamp_unix_ms)
        except Exception as exc:
            self._failed(envelope, exc, records_before)
            return False
        journal.steps = None
        if steps:
            steps.clear()
        self.transcript.append(envelope)
        if message_id:
            seen.add(message_id)
        return True

    def _admits(self, envelope: envelope_pb2.Envelope, mode: str, session_id: str) -> bool:
        """The unusual headers, off the hot path (which takes mode and session as they are
        once the projection knows its session): whether to apply an envelope anyway."""
        if mode and self.mode and mode != self.mode:
            return False  # another mode's envelope
        if not session_id:
            return False  # ambient Signal/Progress: not part of any session
        if session_id != self.session_id:
            if self.session_id is not None:
                self._record_anomaly(
                    ANOMALY_FOREIGN_SESSION,
                    envelope,
                    f"envelope for session {session_id!r}, projection is {self.session_id!r}",
                )
                return False
            self.session_id = session_id  # the first envelope names the session
        return True

    def _failed(
        self,
        envelope: envelope_pb2.Envelope,
        exc: Exception,
        records_before: int,
    ) -> None:
        self._roll_back(records_before)
        if isinstance(exc, DecodeError):
            self._record_anomaly(ANOMALY_UNDECODABLE_PAYLOAD, envelope, str(exc) or "bad payload")
        else:
            self._record_anomaly(
                ANOMALY_REJECTED_ENVELOPE, envelope, f"{type(exc).__name__}: {exc}"
            )

    def apply_all(self, envelopes: list[envelope_pb2.Envelope]) -> int:
        """Apply several envelopes in order; returns how many changed the projection."""
        return sum(1 for envelope in envelopes if self.apply_envelope(envelope))

    def apply_mode_envelope(self, envelope: envelope_pb2.Envelope) -> None:
        """Hook for a mode's message types that ``APPLY_METHODS`` does not name (all of them
        when a subclass overrides this). Parse before mutating; raising rolls back.

        This default applies a type ``APPLY_METHODS`` names with its method (what an override
        reaches through ``super()``) and refuses any other type of a mode that names some; a
        projection naming none accepts every envelope as it is."""
        methods = self.APPLY_METHODS
        name = methods.get(envelope.message_type)
        if name is not None:
            getattr(self, name)(envelope, envelope.message_id)
        elif methods:
            raise ValueError(f"{envelope.message_type!r} is not a message type of {self.MODE}")

    def file_record(self, record: object) -> None:
        """Append ``record`` to the record log the generated bases' indexes read.

        The generated bases' own bookkeeping for every record. The log is a plain list: a
        failing envelope's records are cut off its end, and ``record_index`` /
        ``latest_record_index`` views index it when read (see :mod:`macp_core._record_views`),
        so filing a record costs one append however many subjects the session has.
        """
        self._record_log.append(record)

    def record_index(self, kind: type[_R], subject: str) -> RecordsBySubject[_R]:
        """A live read-only mapping: ``subject`` field value -> the records of class ``kind``
        filed so far, in arrival order (all under ``""`` when ``subject`` is ``""``)."""
        return RecordsBySubject(self._record_log, kind, subject)

    def latest_record_index(self) -> LatestBySender[Any]:
        """A live read-only mapping: sender -> that sender's latest filed record."""
        return LatestBySender(self._record_log)

    # -- state helpers -------------------------------------------------------------------
    def _set_phase(self, phase: str) -> None:
        """Move to ``phase`` unless already terminal (a terminal phase is final)."""
        if phase == self.phase:
            return  # nothing to write (or to journal)
        if self.phase in self.TERMINAL_PHASES:
            logger.debug("phase stays %s (ignored move to %s)", self.phase, phase)
            return
        self.phase = phase

    def _update(self, record: object, **changes: object) -> None:
        """Set fields of a mutable record held in this projection's state, undone on rollback.

        For records that change in place as later messages arrive (0.22.0's task and handoff
        records do), so a caller holding one sees it move and a failing hook still leaves the
        projection exactly as it was.
        """
        steps = self._journal.steps
        for name, value in changes.items():
            if steps is not None:
                steps.append((setattr, record, name, getattr(record, name)))
            setattr(record, name, value)

    def _record_anomaly(
        self, kind: str, envelope: envelope_pb2.Envelope, detail: str, subject_id: str = ""
    ) -> None:
        self.note_anomaly(
            ProjectionAnomaly(
                kind=kind,
                mode=envelope.mode or self.mode,
                message_type=envelope.message_type,
                message_id=envelope.message_id,
                sender=envelope.sender,
                subject_id=subject_id,
                detail=detail,
            )
        )

    def note_anomaly(self, anomaly: ProjectionAnomaly) -> None:
        """The one place anomalies are kept and logged (mode hooks come here too)."""
        anomalies = self.anomalies
        steps = self._journal.steps
        if steps is not None:  # noted while applying: an envelope that fails takes it back
            steps.append((_truncate_list, anomalies, len(anomalies)))
        anomalies.append(anomaly)
        # A projection that never saw the SessionStart joined mid-session (a session object
        # built for an existing session): "not seen" is expected there, so it is kept quietly.
        level = logging.WARNING if self.session_start is not None else logging.DEBUG
        logger.log(
            level,
            "projection anomaly %s: %s %s from %s (%s)",
            anomaly.kind,
            anomaly.message_type,
            anomaly.message_id or "-",
            anomaly.sender or "-",
            anomaly.detail,
        )

    # -- rollback ------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _UNTRACKED or name in _SLOTS:
            object.__setattr__(self, name, value)
            return
        journal = self._journal
        value = adopt(value, journal)
        steps = journal.steps
        if steps is not None and not _is_data_descriptor(type(self), name):
            steps.append((_restore_attribute, self, name, self.__dict__.get(name, _MISSING)))
        object.__setattr__(self, name, value)
        if _is_value(value):
            self._opaque.discard(name)
        else:
            self._opaque.add(name)

    def __delattr__(self, name: str) -> None:
        steps = self._journal.steps
        if steps is not None and name in self.__dict__ and name not in _UNTRACKED:
            steps.append((_restore_attribute, self, name, self.__dict__[name]))
        object.__delattr__(self, name)

    def _save_opaque(self) -> None:
        # Values the journal cannot see into: keep a whole copy, put it back on failure.
        steps = self._journal.steps
        if steps is None:
            return
        for name in self._opaque:
            if name in self.__dict__:
                saved = copy.deepcopy(self.__dict__[name])
                steps.append((_restore_attribute, self, name, saved))

    def _roll_back(self, records_before: int) -> None:
        self._journal.rollback()  # what a failing hook noted (note_anomaly) is undone too
        del self._record_log[records_before:]  # the record indexes notice and start over


def _apply_sent_through_override(
    self: BaseProjection,
    envelope: envelope_pb2.Envelope,
    payload: Message,
    mode: str,
    session_id: str,
    message_id: str,
    message_type: str,
    sender: str,
    timestamp_unix_ms: int,
) -> bool:
    return self.apply_envelope(envelope)


def _is_data_descriptor(cls: type, name: str) -> bool:
    # A property setter's own writes are journaled; the property itself holds no state.
    return hasattr(type(getattr(cls, name, None)), "__set__")


# -- core message types: the same for every mode -----------------------------------------------
# The payload a session sent is not reused here: these records keep the message itself, which
# must not be the caller's object. (They are a handful per session.)


def _apply_session_start(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    start = core_pb2.SessionStartPayload.FromString(envelope.payload)
    projection.session_start = start
    projection.participants = list(start.participants)
    projection.initiator = envelope.sender


def _apply_commitment(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    projection.commitment = core_pb2.CommitmentPayload.FromString(envelope.payload)
    projection._set_phase(PHASE_COMMITTED)


def _apply_session_cancel(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    projection.cancel_reason = core_pb2.SessionCancelPayload.FromString(envelope.payload).reason
    projection._set_phase(PHASE_CANCELLED)


def _apply_session_suspend(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    core_pb2.SessionSuspendPayload.FromString(envelope.payload)
    projection.suspended = True


def _apply_session_resume(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    core_pb2.SessionResumePayload.FromString(envelope.payload)
    projection.suspended = False


def _apply_signal(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    core_pb2.SignalPayload.FromString(envelope.payload)  # informational; must decode


def _apply_progress(
    projection: BaseProjection,
    envelope: envelope_pb2.Envelope,
    message_id: str,
) -> None:
    core_pb2.ProgressPayload.FromString(envelope.payload)  # informational; must decode


_CORE_APPLY: dict[str, _Apply] = {
    "SessionStart": _apply_session_start,
    "Commitment": _apply_commitment,
    "SessionCancel": _apply_session_cancel,
    "SessionSuspend": _apply_session_suspend,
    "SessionResume": _apply_session_resume,
    "Signal": _apply_signal,
    "Progress": _apply_progress,
}
assert set(_CORE_APPLY) == CORE_MESSAGE_TYPES


def _dispatch_tables(cls: type[BaseProjection]) -> tuple[dict[str, _Apply], dict[str, _ApplySent]]:
    """Message type -> how ``cls`` applies it, for replay and for an envelope it sent. Core
    types first, then the mode's own methods (looked up on ``cls``, so a subclass overriding
    one is honoured) -- unless a subclass below the class that declared ``APPLY_METHODS``
    overrides ``apply_mode_envelope``: then it gets every mode envelope, as it asked."""
    table = dict(_CORE_APPLY)
    sent = {message_type: _sent_through(apply) for message_type, apply in _CORE_APPLY.items()}
    declared = next(k for k in cls.__mro__ if "APPLY_METHODS" in vars(k))
    hook = next(k for k in cls.__mro__ if "apply_mode_envelope" in vars(k))
    if issubclass(declared, hook):
        for message_type, name in cls.APPLY_METHODS.items():
            if message_type in table:
                continue
            apply = table[message_type] = getattr(cls, name)
            twin = cls.SENT_APPLY_METHODS.get(message_type)
            if twin is None or _overrides_only_replay(cls, declared, name, twin):
                sent[message_type] = _sent_through(apply)  # the replay method sees it too
            else:
                sent[message_type] = getattr(cls, twin)
    return table, sent


def _overrides_only_replay(cls: type, declared: type, name: str, twin: str) -> bool:
    # A subclass replacing a mode's replay method alone must see sent envelopes there too.
    return getattr(cls, name) is not getattr(declared, name) and getattr(cls, twin) is getattr(
        declared, twin, None
    )


def _sent_through(apply: _Apply) -> _ApplySent:
    """A sent-path entry that applies as replay does (decoding ``envelope.payload``)."""

    def apply_sent(
        projection: Any,
        envelope: envelope_pb2.Envelope,
        payload: Message,
        message_id: str,
        sender: str,
        timestamp_unix_ms: int,
    ) -> None:
        apply(projection, envelope, message_id)

    return apply_sent


BaseProjection._dispatch, BaseProjection._dispatch_sent = _dispatch_tables(BaseProjection)
