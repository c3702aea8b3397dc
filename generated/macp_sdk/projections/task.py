"""Task projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

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
    "TaskProjection",
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


class TaskProjection(TaskProjectionBase):
    """State of one macp.mode.task.v1 session (one task per session), from accepted envelopes.

    Phases: ``Pending`` → ``Requested`` (TaskRequest) → ``InProgress`` (first TaskAccept) →
    ``Completed`` / ``Failed`` (the terminal report) → ``Committed``. If the active assignee
    hands the task back with a TaskReject (only accepted under a reassignment policy), the
    phase returns to ``Requested``. Messages naming another task_id, a second request, a
    competing accept, or a second terminal report are noted as anomalies and change nothing.
    """

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        self.request: TaskRequestRecord | None = None
        # The first accepted TaskAccept holds the task until it is handed back.
        self.assignment: TaskAcceptRecord | None = None
        # Every TaskReject for the task, in order (personal declines and hand-backs alike).
        self.rejections: list[TaskRejectRecord] = []
        # TaskRejects sent by the then-active assignee (hand-backs).
        self.handbacks: list[TaskRejectRecord] = []
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
        self._set_phase(PHASE_IN_PROGRESS)

    def on_reject_task(self, record: TaskRejectRecord) -> None:
        """Called once for each accepted TaskReject."""
        super().on_reject_task(record)
        if not self._is_our_task(record, record.task_id):
            return
        self.rejections.append(record)
        held_by_sender = self.assignment is not None and self.assignment.sender == record.sender
        if held_by_sender and not self.has_terminal_report:
            # A hand-back: the runtime returns the session to pre-assignment.
            self.handbacks.append(record)
            self.assignment = None
            self._set_phase(PHASE_REQUESTED)

    def on_update_task(self, record: TaskUpdateRecord) -> None:
        """Called once for each accepted TaskUpdate."""
        super().on_update_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.updates.append(record)

    def on_complete_task(self, record: TaskCompleteRecord) -> None:
        """Called once for each accepted TaskComplete."""
        super().on_complete_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.completion = record
        self._set_phase(PHASE_COMPLETED)

    def on_fail_task(self, record: TaskFailRecord) -> None:
        """Called once for each accepted TaskFail."""
        super().on_fail_task(record)
        if not self._is_reportable(record, record.task_id):
            return
        self.failure = record
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
            return "completed"
        if self.failure is not None:
            return "failed"
        if self.assignment is None:
            return "requested"
        # "in_progress" once the current assignee has reported progress.
        return "in_progress" if len(self.updates) > self._updates_at_assignment else "accepted"

    # -- 0.22.0's views (it kept tasks by id; a session here has one) --------------------
    @property
    def tasks(self) -> dict[str, TaskRequestRecord]:
        """The requested task by id (empty before the request)."""
        return {} if self.request is None else {self.request.task_id: self.request}

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

    def active_tasks(self) -> list[TaskRequestRecord]:
        """The task, unless it was completed or failed."""
        if self.request is None or self.has_terminal_report:
            return []
        return [self.request]

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
            and any(r.sender == named and r not in self.handbacks for r in self.rejections)
        )

    def _matches(self, task_id: str | None) -> bool:
        return self.request is not None and (task_id is None or task_id == self.request.task_id)

    def get_task(self, task_id: str | None = None) -> TaskRequestRecord | None:
        """The TaskRequest (if ``task_id`` is given, only when it names this session's task)."""
        return self.request if self._matches(task_id) else None

    def current_assignee(self, task_id: str | None = None) -> str | None:
        return self.active_assignee if self._matches(task_id) else None

    def current_status(self, task_id: str | None = None) -> str | None:
        return self.status if self._matches(task_id) else None

    def is_accepted(self, task_id: str | None = None) -> bool:
        """Whether somebody holds the task now (completed or failed tasks stay held)."""
        return self._matches(task_id) and self.assignment is not None

    def is_completed(self, task_id: str | None = None) -> bool:
        return self._matches(task_id) and self.completion is not None

    def is_failed(self, task_id: str | None = None) -> bool:
        return self._matches(task_id) and self.failure is not None

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
