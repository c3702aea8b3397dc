"""Task projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from ..facts.task import ANOMALY_DUPLICATE_TASK_ACCEPT
from ._task_base import (
    TaskAcceptRecord,
    TaskCompleteRecord,
    TaskFailRecord,
    TaskModeRecord,
    TaskProjectionBase,
    TaskRejectRecord,
    TaskRequestRecord,
    TaskUpdateRecord,
)

__all__ = [
    "ANOMALY_DUPLICATE_TASK_REQUEST",
    "ANOMALY_NOT_ASSIGNEE",
    "ANOMALY_TASK_ALREADY_REPORTED",
    "ANOMALY_UNKNOWN_TASK",
    "PHASE_COMPLETED",
    "PHASE_FAILED",
    "PHASE_IN_PROGRESS",
    "PHASE_REQUESTED",
    "STATUS_ACCEPTED",
    "STATUS_COMPLETED",
    "STATUS_FAILED",
    "STATUS_IN_PROGRESS",
    "STATUS_REJECTED",
    "STATUS_REQUESTED",
    "TaskProjection",
    "TaskRecord",
    "TaskRejection",
]

# Phases (the runtime keeps none for task; these follow macp-sdk-python 0.22.0).
PHASE_REQUESTED = "Requested"
PHASE_IN_PROGRESS = "InProgress"
PHASE_COMPLETED = "Completed"
PHASE_FAILED = "Failed"

ANOMALY_DUPLICATE_TASK_REQUEST = "duplicate_task_request"
ANOMALY_UNKNOWN_TASK = "unknown_task"
ANOMALY_TASK_ALREADY_REPORTED = "task_already_reported"
ANOMALY_NOT_ASSIGNEE = "not_assignee"

# A task's status as macp-sdk-python 0.22.0's TaskRecord reports it.
STATUS_REQUESTED = "requested"
STATUS_ACCEPTED = "accepted"
STATUS_IN_PROGRESS = "in_progress"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
STATUS_REJECTED = "rejected"  # the active assignee handed it back (until someone accepts)
_ACTIVE_RECORD_STATUSES = frozenset({STATUS_REQUESTED, STATUS_ACCEPTED, STATUS_IN_PROGRESS})


@dataclass(slots=True)
class TaskRecord:
    """The task as it stands now (macp-sdk-python 0.22.0's record, its constructor and values).

    The projection keeps one per task in ``tasks`` and updates it in place as TaskAccept,
    TaskUpdate, TaskComplete, TaskFail and TaskReject arrive, so a record you hold moves with
    the session. Treat it as read-only: it is the projection's own state.
    """

    task_id: str
    title: str
    instructions: str
    requested_assignee: str
    sender: str
    status: str = STATUS_REQUESTED
    progress: float = 0.0
    assignee: str | None = None
    deadline_unix_ms: int = 0
    input: bytes = b""

    @property
    def requester(self) -> str:
        """Deprecated in 0.22.0 (as there, with a DeprecationWarning): use ``sender``."""
        warnings.warn(
            "TaskRecord.requester is deprecated; use TaskRecord.sender instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.sender


@dataclass(slots=True)
class TaskRejection:
    """One TaskReject as macp-sdk-python 0.22.0 kept it (its ``TaskRejectRecord``).

    ``assignee`` is the payload's, or the sender when the payload leaves it empty.
    ``while_assigned`` is True when the sender held the task (a hand-back, which frees it) and
    False for a decline before anyone held it, as the runtime records it.
    """

    task_id: str
    assignee: str
    reason: str
    sender: str = ""
    while_assigned: bool = False


class TaskProjection(TaskProjectionBase):
    """State of one macp.mode.task.v1 session (one task per session), from accepted envelopes.

    Phases: ``Pending`` → ``Requested`` (TaskRequest) → ``InProgress`` (first TaskAccept) →
    ``Completed`` / ``Failed`` (the terminal report) → ``Committed``. If the active assignee
    hands the task back with a TaskReject (only accepted under a reassignment policy), the
    phase returns to ``Requested`` unless the terminal report already arrived. Messages naming
    another task_id, a second request, a competing accept, or a second terminal report are
    noted as anomalies and change nothing.
    """

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        self.request: TaskRequestRecord | None = None
        # The task by id, as it stands now (0.22.0's view; a session holds one task).
        self.tasks: dict[str, TaskRecord] = {}
        # The first accepted TaskAccept holds the task until it is handed back.
        self.assignment: TaskAcceptRecord | None = None
        # Every TaskReject for the task, in order (personal declines and hand-backs alike).
        self.rejections: list[TaskRejection] = []
        # TaskRejects sent by the then-active assignee (hand-backs: ``while_assigned``).
        self.handbacks: list[TaskRejection] = []
        self.updates: list[TaskUpdateRecord] = []
        self.completion: TaskCompleteRecord | None = None
        self.failure: TaskFailRecord | None = None
        # How many updates preceded the current assignment (tells accepted from in_progress).
        self._updates_at_assignment = 0

    # -- hooks ---------------------------------------------------------------------------
    def on_request_task(self, record: TaskRequestRecord) -> None:
        """Called once for each accepted TaskRequest."""
        super().on_request_task(record)
        if self.request is not None:
            self._anomaly(
                ANOMALY_DUPLICATE_TASK_REQUEST,
                record,
                f"session already has task {self.request.task_id!r}; ignored",
                record.task_id,
            )
            return
        self.request = record
        self.tasks[record.task_id] = TaskRecord(
            task_id=record.task_id,
            title=record.title,
            instructions=record.instructions,
            requested_assignee=record.requested_assignee,
            sender=record.sender,
            deadline_unix_ms=record.deadline_unix_ms,
            input=record.input,
        )
        self._set_phase(PHASE_REQUESTED)

    def on_accept_task(self, record: TaskAcceptRecord) -> None:
        """Called once for each accepted TaskAccept."""
        super().on_accept_task(record)
        if not self._is_our_task(record, record.task_id):
            return
        if self.assignment is not None:
            self._anomaly(
                ANOMALY_DUPLICATE_TASK_ACCEPT,
                record,
                f"task already held by {self.assignment.sender!r}; ignored",
                record.task_id,
            )
            return
        self.assignment = record
        self._updates_at_assignment = len(self.updates)
        self._update(
            self.tasks[record.task_id],
            status=STATUS_ACCEPTED,
            assignee=record.assignee or record.sender,
        )
        self._set_phase(PHASE_IN_PROGRESS)

    def on_reject_task(self, record: TaskRejectRecord) -> None:
        """Called once for each accepted TaskReject."""
        super().on_reject_task(record)
        if not self._is_our_task(record, record.task_id):
            return
        # The runtime decides while_assigned before it frees the slot: the holder's reject.
        held_by_sender = self.assignment is not None and self.assignment.sender == record.sender
        rejection = TaskRejection(
            task_id=record.task_id,
            assignee=record.assignee or record.sender,
            reason=record.reason,
            sender=record.sender,
            while_assigned=held_by_sender,
        )
        self.rejections.append(rejection)
        if not held_by_sender:
            return  # a decline before anyone held it: the task stays open to others
        # A hand-back: the runtime frees the slot (even after a terminal report, which stays).
        self.handbacks.append(rejection)
        self.assignment = None
        self._update(self.tasks[record.task_id], status=STATUS_REJECTED, assignee=None)
        if not self.has_terminal_report:
            self._set_phase(PHASE_REQUESTED)

    def on_update_task(self, record: TaskUpdateRecord) -> None:
        """Called once for each accepted TaskUpdate."""
        super().on_update_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.updates.append(record)
        # 0.22.0's record says in_progress whatever the update's own status text.
        self._update(
            self.tasks[record.task_id], status=STATUS_IN_PROGRESS, progress=record.progress
        )

    def on_complete_task(self, record: TaskCompleteRecord) -> None:
        """Called once for each accepted TaskComplete."""
        super().on_complete_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.completion = record
        self._update(self.tasks[record.task_id], status=STATUS_COMPLETED, progress=1.0)
        self._set_phase(PHASE_COMPLETED)

    def on_fail_task(self, record: TaskFailRecord) -> None:
        """Called once for each accepted TaskFail."""
        super().on_fail_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.failure = record
        self._update(self.tasks[record.task_id], status=STATUS_FAILED)
        self._set_phase(PHASE_FAILED)

    def _is_our_task(self, record: TaskModeRecord, task_id: str) -> bool:
        if self.request is None or task_id != self.request.task_id:
            self._anomaly(ANOMALY_UNKNOWN_TASK, record, "names a task not requested", task_id)
            return False
        return True

    def _is_reportable(self, record: TaskModeRecord, task_id: str) -> bool:
        if not self._is_our_task(record, task_id):
            return False
        if self.has_terminal_report:
            self._anomaly(
                ANOMALY_TASK_ALREADY_REPORTED, record, "task already completed or failed", task_id
            )
            return False
        if self.assignment is None or self.assignment.sender != record.sender:
            # Still applied: the runtime accepted it, so our view of the assignment is partial.
            self._anomaly(
                ANOMALY_NOT_ASSIGNEE, record, "sender is not the assignee seen here", task_id
            )
        return True

    # -- queries -------------------------------------------------------------------------
    @property
    def task_id(self) -> str | None:
        return None if self.request is None else self.request.task_id

    @property
    def requested_assignee(self) -> str:
        """The requested assignee ("" when the request leaves it open, or before a request)."""
        return "" if self.request is None else self.request.requested_assignee

    @property
    def active_assignee(self) -> str | None:
        """Whoever holds the task (the first accepter, until a hand-back), or ``None``."""
        return None if self.assignment is None else self.assignment.sender

    @property
    def has_terminal_report(self) -> bool:
        """Whether TaskComplete or TaskFail arrived: the runtime's precondition to commit."""
        return self.completion is not None or self.failure is not None

    @property
    def is_commit_eligible(self) -> bool:
        """The runtime commits a task session only after its terminal report."""
        return self.has_terminal_report

    @property
    def status(self) -> str | None:
        """requested / accepted / in_progress / completed / failed, or ``None`` before a request."""
        if self.request is None:
            return None
        if self.completion is not None:
            return STATUS_COMPLETED
        if self.failure is not None:
            return STATUS_FAILED
        if self.assignment is None:
            return STATUS_REQUESTED
        # "in_progress" once the current assignee has reported progress.
        if len(self.updates) > self._updates_at_assignment:
            return STATUS_IN_PROGRESS
        return STATUS_ACCEPTED

    # -- 0.22.0's views (it kept tasks by id; a session here has one) --------------------
    @property
    def completions(self) -> list[TaskCompleteRecord]:
        return [] if self.completion is None else [self.completion]

    @property
    def failures(self) -> list[TaskFailRecord]:
        return [] if self.failure is None else [self.failure]

    @property
    def active_assignment(self) -> tuple[str, str] | None:
        """(assignee, task_id) of the current holder, or ``None``."""
        held = self.assignment
        return None if held is None else (held.sender, held.task_id)

    def active_tasks(self) -> list[TaskRecord]:
        """The task's record while its status is requested, accepted or in progress (0.22.0's
        meaning: a handed-back task's record says ``rejected`` and is not listed, although the
        runtime lets another participant accept it; ``can_accept`` answers that)."""
        return [t for t in self.tasks.values() if t.status in _ACTIVE_RECORD_STATUSES]

    def negative_commit_eligible(self, task_id: str) -> bool:
        """A negative Commitment is possible: the task has its terminal report, or the named
        assignee declined before ever holding it and nobody holds it now."""
        if not self._matches(task_id) or self.request is None:
            return False
        if self.has_terminal_report:
            return True
        named = self.request.requested_assignee
        return (
            bool(named)
            and self.assignment is None
            and any(r.sender == named and not r.while_assigned for r in self.rejections)
        )

    def _matches(self, task_id: str | None) -> bool:
        return self.request is not None and (task_id is None or task_id == self.request.task_id)

    def get_task(self, task_id: str | None = None) -> TaskRecord | None:
        """The task's record (if ``task_id`` is given, only when it names this session's task)."""
        if self.request is None or not self._matches(task_id):
            return None
        return self.tasks[self.request.task_id]

    def current_assignee(self, task_id: str | None = None) -> str | None:
        return self.active_assignee if self._matches(task_id) else None

    # The 0.22.0-named queries read the task's record, as 0.22.0's did, so they always agree
    # with ``get_task(task_id).status``; ``status``/``phase`` are the runtime's view.
    def _record_status(self, task_id: str | None) -> str | None:
        record = self.get_task(task_id)
        return None if record is None else record.status

    def current_status(self, task_id: str | None = None) -> str | None:
        return self._record_status(task_id)

    def is_accepted(self, task_id: str | None = None) -> bool:
        """Whether the task's record says accepted or in progress."""
        return self._record_status(task_id) in (STATUS_ACCEPTED, STATUS_IN_PROGRESS)

    def is_completed(self, task_id: str | None = None) -> bool:
        return self._record_status(task_id) == STATUS_COMPLETED

    def is_failed(self, task_id: str | None = None) -> bool:
        return self._record_status(task_id) == STATUS_FAILED

    def is_retryable(self, task_id: str | None = None) -> bool:
        """Whether the task failed and the failure says ``retryable``."""
        return self.is_failed(task_id) and self.failure is not None and self.failure.retryable

    @property
    def output(self) -> bytes | None:
        """The completion's output, or ``None`` until completed."""
        return None if self.completion is None else self.completion.output

    def latest_update(self) -> TaskUpdateRecord | None:
        return self.updates[-1] if self.updates else None

    def latest_progress(self) -> float | None:
        """The progress of the latest TaskUpdate, or ``None`` when none arrived."""
        return self.updates[-1].progress if self.updates else None

    def progress_of(self, task_id: str | None = None) -> float:
        """Latest reported progress (0.0 when none); 1.0 once completed."""
        if not self._matches(task_id):
            return 0.0
        if self.completion is not None:
            return 1.0
        latest = self.latest_progress()
        return 0.0 if latest is None else latest

    def has_declined(self, participant: str) -> bool:
        """Whether ``participant`` sent a TaskReject (a decline or a hand-back)."""
        return any(r.sender == participant for r in self.rejections)

    def declined_participants(self) -> list[str]:
        """Senders of TaskRejects, in order, without repeats."""
        return list(dict.fromkeys(r.sender for r in self.rejections))

    def can_accept(self, participant: str, *, allow_reassignment_on_reject: bool = False) -> bool:
        """Whether the runtime would take a TaskAccept from ``participant`` now.

        Mirrors the runtime's checks: a request exists, nobody holds the task, no terminal
        report, ``participant`` has not rejected, and ``participant`` may respond (it is the
        requested assignee, or, when none is named, a declared participant other than the
        initiator). Under the runtime's default policy any earlier TaskReject bars every later
        accept; pass ``allow_reassignment_on_reject=True`` when the bound policy allows it.
        """
        if self.request is None or self.assignment is not None or self.has_terminal_report:
            return False
        if self.has_declined(participant):
            return False
        if self.rejections and not allow_reassignment_on_reject:
            return False
        if self.request.requested_assignee:
            return participant == self.request.requested_assignee
        return participant in self.participants and participant != self.initiator
