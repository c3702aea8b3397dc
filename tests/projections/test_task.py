"""Task projection: the request, the assignee slot, declines, progress, the terminal report."""

from __future__ import annotations

import copy

import pytest
from macp_sdk.projections.task import TaskProjection, TaskRejection, TaskUpdateRecord

from .envelopes import TASK, Feed, anomaly_kinds, apply_ok, state_of

PLANNER, WORKER, OTHER, OUTSIDER = "agent://planner", "agent://w", "agent://o", "agent://x"


def started(requested_assignee: str = WORKER) -> tuple[TaskProjection, Feed]:
    proj, feed = TaskProjection(), Feed(TASK)
    apply_ok(proj, feed.start(PLANNER, [PLANNER, WORKER, OTHER]))
    assert proj.phase == "Pending" and proj.status is None
    apply_ok(
        proj,
        feed.send(
            PLANNER,
            "TaskRequest",
            task_id="t1",
            title="Build",
            requested_assignee=requested_assignee,
        ),
    )
    return proj, feed


def test_happy_path() -> None:
    proj, feed = started()
    assert proj.phase == "Requested" and proj.status == "requested"
    assert proj.task_id == "t1" and proj.requested_assignee == WORKER
    assert proj.can_accept(WORKER) and not proj.can_accept(OTHER)
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1", assignee=WORKER))
    assert proj.phase == "InProgress" and proj.status == "accepted"
    assert proj.active_assignee == WORKER == proj.current_assignee("t1")
    assert proj.is_accepted() and not proj.can_accept(WORKER)
    assert proj.latest_progress() is None and proj.progress_of() == 0.0
    apply_ok(proj, feed.send(WORKER, "TaskUpdate", task_id="t1", status="busy", progress=0.4))
    assert proj.status == "in_progress" and proj.latest_progress() == 0.4
    assert proj.latest_update() is not None and proj.latest_update() is proj.updates[-1]
    assert not proj.is_commit_eligible
    apply_ok(proj, feed.send(WORKER, "TaskComplete", task_id="t1", output=b"artifact"))
    assert proj.phase == "Completed" and proj.is_completed("t1") and not proj.is_failed()
    assert proj.output == b"artifact" and proj.progress_of() == 1.0
    assert proj.is_commit_eligible
    apply_ok(proj, feed.commit(PLANNER, "task.completed", True))
    assert proj.phase == "Committed"
    # Queries about another task id say nothing.
    assert proj.get_task("t2") is None and proj.current_status("t2") is None


def test_competing_accept_is_an_anomaly() -> None:
    proj, feed = started(requested_assignee="")
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    apply_ok(proj, feed.send(OTHER, "TaskAccept", task_id="t1"))
    assert proj.active_assignee == WORKER
    assert anomaly_kinds(proj) == ["duplicate_task_accept"]
    assert len(proj.task_accept_records["t1"]) == 2


def test_open_request_eligibility() -> None:
    proj, _ = started(requested_assignee="")
    assert proj.can_accept(WORKER) and proj.can_accept(OTHER)
    assert not proj.can_accept(PLANNER)  # the initiator asks; it does not respond
    assert not proj.can_accept(OUTSIDER)


def test_declines_and_reassignment_policy() -> None:
    proj, feed = started(requested_assignee="")
    apply_ok(proj, feed.send(WORKER, "TaskReject", task_id="t1", reason="busy"))
    assert proj.has_declined(WORKER) and proj.declined_participants() == [WORKER]
    assert proj.phase == "Requested" and proj.active_assignee is None
    # The runtime's default policy bars every accept after a reject.
    assert not proj.can_accept(OTHER)
    assert proj.can_accept(OTHER, allow_reassignment_on_reject=True)
    assert not proj.can_accept(WORKER, allow_reassignment_on_reject=True)


def test_hand_back_frees_the_slot() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    apply_ok(proj, feed.send(WORKER, "TaskReject", task_id="t1", reason="stuck"))
    assert proj.active_assignee is None and proj.phase == "Requested"
    assert [r.sender for r in proj.handbacks] == [WORKER]


def test_failure_and_late_reports() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    apply_ok(
        proj,
        feed.send(WORKER, "TaskFail", task_id="t1", error_code="E", reason="boom", retryable=True),
    )
    assert proj.phase == "Failed" and proj.is_failed() and proj.is_retryable()
    assert proj.status == "failed" and proj.output is None
    apply_ok(proj, feed.send(WORKER, "TaskComplete", task_id="t1"))
    assert proj.completion is None and proj.phase == "Failed"
    assert anomaly_kinds(proj) == ["task_already_reported"]


def test_foreign_task_ids_and_second_request() -> None:
    proj, feed = started()
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t9"))
    apply_ok(proj, feed.send(PLANNER, "TaskRequest", task_id="t2", title="More"))
    apply_ok(proj, feed.send(OTHER, "TaskUpdate", task_id="t1", progress=0.1))
    assert proj.task_id == "t1" and proj.active_assignee is None
    assert anomaly_kinds(proj) == ["unknown_task", "duplicate_task_request", "not_assignee"]
    assert proj.latest_progress() == 0.1  # accepted by the runtime, so still recorded


def test_no_request_yet() -> None:
    proj = TaskProjection()
    assert not proj.can_accept(WORKER) and proj.status is None and not proj.is_accepted()


def test_the_task_record_moves_in_place() -> None:
    """0.22.0's TaskRecord: one per task in ``tasks``, updated as the session goes on."""
    proj, feed = started()
    record = proj.tasks["t1"]
    assert proj.get_task("t1") is record and proj.get_task() is record
    assert proj.active_tasks() == [record]
    assert (record.status, record.progress, record.assignee, record.sender) == (
        "requested",
        0.0,
        None,
        PLANNER,
    )
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    assert (record.status, record.assignee) == ("accepted", WORKER)
    apply_ok(proj, feed.send(WORKER, "TaskUpdate", task_id="t1", status="busy", progress=0.6))
    assert (record.status, record.progress) == ("in_progress", 0.6)
    apply_ok(proj, feed.send(WORKER, "TaskComplete", task_id="t1"))
    assert (record.status, record.progress, record.assignee) == ("completed", 1.0, WORKER)
    assert proj.tasks == {"t1": record} and proj.active_tasks() == []
    with pytest.warns(DeprecationWarning, match="requester"):
        assert record.requester == PLANNER


def test_reject_records_say_whether_the_sender_held_the_task() -> None:
    proj, feed = started(requested_assignee="")
    apply_ok(proj, feed.send(OTHER, "TaskReject", task_id="t1", reason="busy"))
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    apply_ok(proj, feed.send(WORKER, "TaskReject", task_id="t1", reason="stuck"))
    assert proj.rejections == [
        TaskRejection("t1", OTHER, "busy", sender=OTHER, while_assigned=False),
        TaskRejection("t1", WORKER, "stuck", sender=WORKER, while_assigned=True),
    ]
    assert proj.handbacks == proj.rejections[1:]
    # 0.22.0's record says "rejected" until someone takes it; the projection's status says
    # what the runtime would do next: the task is open again.
    assert (proj.tasks["t1"].status, proj.tasks["t1"].assignee) == ("rejected", None)
    assert proj.status == "requested" and proj.active_assignee is None


def test_a_failing_hook_leaves_the_task_record_as_it_was() -> None:
    class Fails(TaskProjection):
        def on_update_task(self, record: TaskUpdateRecord) -> None:
            super().on_update_task(record)
            raise RuntimeError("after the record moved")

    proj, feed = Fails(), Feed(TASK)
    apply_ok(proj, feed.start(PLANNER, [PLANNER, WORKER]))
    apply_ok(proj, feed.send(PLANNER, "TaskRequest", task_id="t1", title="Build"))
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    record = proj.tasks["t1"]
    before = copy.deepcopy(state_of(proj))
    assert not proj.apply_envelope(feed.send(WORKER, "TaskUpdate", task_id="t1", progress=0.5))
    assert anomaly_kinds(proj) == ["rejected_envelope"]
    assert (record.status, record.progress) == ("accepted", 0.0)
    assert state_of(proj) == before and proj.tasks["t1"] is record


def test_a_hand_back_after_the_terminal_report_frees_the_assignee_only() -> None:
    """The runtime accepts it under a reassignment policy and keeps the report."""
    proj, feed = started()
    apply_ok(proj, feed.send(WORKER, "TaskAccept", task_id="t1"))
    apply_ok(proj, feed.send(WORKER, "TaskComplete", task_id="t1", output=b"x"))
    apply_ok(proj, feed.send(WORKER, "TaskReject", task_id="t1", reason="undo"))
    assert proj.active_assignee is None and proj.handbacks == proj.rejections
    assert proj.status == "completed" and proj.phase == "Completed" and proj.is_commit_eligible
    assert (proj.tasks["t1"].status, proj.tasks["t1"].assignee) == ("rejected", None)
