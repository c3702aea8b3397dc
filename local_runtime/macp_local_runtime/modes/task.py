"""Task mode rules, `macp.mode.task.v1` (runtime-behavior.md §4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from macp.modes.task.v1 import task_pb2
from macp_sdk.facts import task as facts

from ..errors import forbidden, policy_denied
from .base import ACCEPTED, ModeContext, ModeOutcome, ModeRules, decode, require
from .base import require_participant as _require_participant
from .commitment import authorize_commitment, check_policy_schema_version, validate_commitment

MODE = facts.MODE
_REPORT_TYPES = (facts.TASK_UPDATE, facts.TASK_COMPLETE, facts.TASK_FAIL)


@dataclass
class TaskRules(ModeRules):
    task_id: str | None = None
    requested_assignee: str = ""
    active_assignee: str | None = None
    rejections: list[str] = field(default_factory=list)  # senders who rejected
    updates: int = 0
    terminal_report: str | None = None  # facts.TASK_COMPLETE | facts.TASK_FAIL
    output: bytes = b""

    def on_session_start(self, ctx: ModeContext) -> None:
        require(
            any(p != ctx.initiator for p in ctx.participants),
            "a task session needs a participant other than the initiator",
        )

    def authorize(self, ctx: ModeContext, sender: str, message_type: str) -> None:
        if message_type == facts.TASK_REQUEST:
            if sender != ctx.initiator:
                raise forbidden("only the initiator may request the task")
        elif message_type == "Commitment":
            authorize_commitment(ctx, sender)
        else:
            _require_participant(ctx, sender)

    def on_message(
        self, ctx: ModeContext, sender: str, message_type: str, payload: bytes
    ) -> ModeOutcome:
        if message_type == facts.TASK_REQUEST:
            self._request(ctx, payload)
        elif message_type == facts.TASK_ACCEPT:
            self._accept(ctx, sender, payload)
        elif message_type == facts.TASK_REJECT:
            self._reject(ctx, sender, payload)
        elif message_type in _REPORT_TYPES:
            self._report(sender, message_type, payload)
        elif message_type == "Commitment":
            return self._commitment(ctx, payload)
        else:
            require(False, f"unknown message type {message_type}")
        return ACCEPTED

    def _request(self, ctx: ModeContext, payload: bytes) -> None:
        request = decode(task_pb2.TaskRequestPayload, payload)
        require(self.task_id is None, "the task was already requested")
        require(bool(request.task_id), "task_id is empty")
        assignee = request.requested_assignee
        require(not assignee or ctx.is_participant(assignee), "assignee is not a participant")
        self.task_id = request.task_id
        self.requested_assignee = assignee

    def _may_respond(self, ctx: ModeContext, sender: str) -> bool:
        if self.requested_assignee:
            return sender == self.requested_assignee
        return ctx.is_participant(sender) and sender != ctx.initiator

    def _reassignment_allowed(self, ctx: ModeContext) -> bool:
        assignment = ctx.policy.section("assignment")
        return assignment.get("allow_reassignment_on_reject", False) is True

    def _require_task(self, task_id: str) -> None:
        require(self.task_id is not None and task_id == self.task_id, "unknown task_id")

    def _accept(self, ctx: ModeContext, sender: str, payload: bytes) -> None:
        accept = decode(task_pb2.TaskAcceptPayload, payload)
        self._require_task(accept.task_id)
        require(self.active_assignee is None, "the task already has an assignee")
        if self.rejections and not self._reassignment_allowed(ctx):
            raise policy_denied("reassignment after rejection not allowed by policy")
        require(not accept.assignee or accept.assignee == sender, "assignee must be the sender")
        if not self._may_respond(ctx, sender):
            raise forbidden("sender may not respond to this task")
        self.active_assignee = sender

    def _reject(self, ctx: ModeContext, sender: str, payload: bytes) -> None:
        reject = decode(task_pb2.TaskRejectPayload, payload)
        self._require_task(reject.task_id)
        if self.active_assignee is not None:
            require(sender == self.active_assignee, "only the assignee may reject now")
            if not self._reassignment_allowed(ctx):
                raise policy_denied("reassignment after rejection not allowed by policy")
        require(not reject.assignee or reject.assignee == sender, "assignee must be the sender")
        if self.active_assignee is None and not self._may_respond(ctx, sender):
            raise forbidden("sender may not respond to this task")
        require(sender not in self.rejections, "sender already rejected the task")
        self.rejections.append(sender)
        self.active_assignee = None

    def _report(self, sender: str, message_type: str, payload: bytes) -> None:
        if message_type == facts.TASK_UPDATE:
            update = decode(task_pb2.TaskUpdatePayload, payload)
            self._require_task(update.task_id)
            self._require_reporter(sender)
            self.updates += 1
            return
        if message_type == facts.TASK_COMPLETE:
            complete = decode(task_pb2.TaskCompletePayload, payload)
            task_id, assignee, output = complete.task_id, complete.assignee, complete.output
        else:
            fail = decode(task_pb2.TaskFailPayload, payload)
            task_id, assignee, output = fail.task_id, fail.assignee, b""
        self._require_task(task_id)
        self._require_reporter(sender)
        require(not assignee or assignee == sender, "assignee must be the sender")
        self.terminal_report = message_type
        self.output = output

    def _require_reporter(self, sender: str) -> None:
        if self.terminal_report is not None or sender != self.active_assignee:
            raise forbidden("only the active assignee may report, until the task ends")

    def _commitment(self, ctx: ModeContext, payload: bytes) -> ModeOutcome:
        commitment = validate_commitment(ctx, payload)
        require(self.terminal_report is not None, "the task has not completed or failed")
        reasons = check_policy_schema_version(ctx)
        completion = ctx.policy.section("completion")
        if (
            commitment.outcome_positive
            and completion.get("require_output", False) is True
            and not self.output
        ):
            reasons.append("policy requires task output for a positive commitment")
        if reasons:
            raise policy_denied(*reasons)
        return ModeOutcome(resolution=payload)
