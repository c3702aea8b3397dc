"""Task projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._task_base import (
    TaskAcceptRecord,
    TaskCompleteRecord,
    TaskFailRecord,
    TaskProjectionBase,
    TaskRejectRecord,
    TaskRequestRecord,
    TaskUpdateRecord,
)

__all__ = ["TaskProjection"]


class TaskProjection(TaskProjectionBase):
    """State of one macp.mode.task.v1 session, derived from accepted envelopes."""

    def on_request_task(self, record: TaskRequestRecord) -> None:
        """Called once for each accepted TaskRequest."""
        super().on_request_task(record)

    def on_accept_task(self, record: TaskAcceptRecord) -> None:
        """Called once for each accepted TaskAccept."""
        super().on_accept_task(record)

    def on_reject_task(self, record: TaskRejectRecord) -> None:
        """Called once for each accepted TaskReject."""
        super().on_reject_task(record)

    def on_update_task(self, record: TaskUpdateRecord) -> None:
        """Called once for each accepted TaskUpdate."""
        super().on_update_task(record)

    def on_complete_task(self, record: TaskCompleteRecord) -> None:
        """Called once for each accepted TaskComplete."""
        super().on_complete_task(record)

    def on_fail_task(self, record: TaskFailRecord) -> None:
        """Called once for each accepted TaskFail."""
        super().on_fail_task(record)
