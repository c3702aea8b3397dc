"""The mode registry: built-in modes, extension modes and their descriptors (§6.1, §6.2)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from macp.v1 import core_pb2

from .fanout import Fanout, Subscription
from .modes.base import ModeRules
from .modes.decision import DecisionRules
from .modes.handoff import HandoffRules
from .modes.multi_round import MultiRoundRules
from .modes.passthrough import PassthroughRules
from .modes.proposal import ProposalRules
from .modes.quorum import QuorumRules
from .modes.task import TaskRules

STANDARD_PREFIX: Final = "macp.mode."
BUILTIN_VERSION: Final = "1.0.0"
_SCHEMA_URIS: Final = {"protobuf": "buf.build/multiagentcoordinationprotocol/macp"}
_WATCH_BUFFER = 16


@dataclass(frozen=True)
class ModeEntry:
    descriptor: core_pb2.ModeDescriptor
    new_rules: Callable[[], ModeRules]
    standards_track: bool
    strict: bool  # full SessionStart validation (§3.1 step 5)
    builtin: bool

    @property
    def name(self) -> str:
        return self.descriptor.mode

    @property
    def version(self) -> str:
        return self.descriptor.mode_version


def _builtin(
    name: str,
    title: str,
    description: str,
    determinism: str,
    participants: str,
    message_types: list[str],
    new_rules: Callable[[], ModeRules],
    standards_track: bool = True,
) -> ModeEntry:
    descriptor = core_pb2.ModeDescriptor(
        mode=name,
        mode_version=BUILTIN_VERSION,
        title=title,
        description=description,
        determinism_class=determinism,
        participant_model=participants,
        message_types=["SessionStart", *message_types, "Commitment"],
        terminal_message_types=["Commitment"],
        schema_uris=_SCHEMA_URIS,
    )
    return ModeEntry(descriptor, new_rules, standards_track, strict=True, builtin=True)


def builtin_modes() -> list[ModeEntry]:
    return [
        _builtin(
            "macp.mode.decision.v1", "Decision Mode",
            "Choose among proposals through evaluation, objection and voting.",
            "semantic-deterministic", "declared",
            ["Proposal", "Evaluation", "Objection", "Vote"], DecisionRules,
        ),
        _builtin(
            "macp.mode.proposal.v1", "Proposal Mode",
            "Negotiate proposals and counter-proposals until acceptance.",
            "semantic-deterministic", "peer",
            ["Proposal", "CounterProposal", "Accept", "Reject", "Withdraw"], ProposalRules,
        ),
        _builtin(
            "macp.mode.task.v1", "Task Mode",
            "Delegate one task to an assignee and track it to completion.",
            "structural-only", "orchestrated",
            ["TaskRequest", "TaskAccept", "TaskReject", "TaskUpdate", "TaskComplete", "TaskFail"],
            TaskRules,
        ),
        _builtin(
            "macp.mode.handoff.v1", "Handoff Mode",
            "Transfer ownership of work to another participant.",
            "context-frozen", "delegated",
            ["HandoffOffer", "HandoffContext", "HandoffAccept", "HandoffDecline"], HandoffRules,
        ),
        _builtin(
            "macp.mode.quorum.v1", "Quorum Mode",
            "Collect approvals until a threshold is reached.",
            "semantic-deterministic", "quorum",
            ["ApprovalRequest", "Approve", "Reject", "Abstain"], QuorumRules,
        ),
        _builtin(
            "ext.multi_round.v1", "Multi-Round Mode",
            "Participants revise contributions until all values agree.",
            "semantic-deterministic", "peer",
            ["Contribute"], MultiRoundRules, standards_track=False,
        ),
    ]  # fmt: skip


def validate_ext_descriptor(descriptor: core_pb2.ModeDescriptor) -> None:
    """RegisterExtMode's checks; raises ValueError with the reason."""
    name = descriptor.mode.strip()
    if not name:
        raise ValueError("mode name must not be blank")
    if name.startswith(STANDARD_PREFIX):
        raise ValueError(f"the {STANDARD_PREFIX}* namespace is reserved for standards-track modes")
    if not descriptor.message_types:
        raise ValueError("message_types must not be empty")
    if not descriptor.mode_version.strip():
        raise ValueError("mode_version must not be blank")
    if not descriptor.terminal_message_types:
        raise ValueError("at least one terminal message type is required")
    for terminal in descriptor.terminal_message_types:
        if terminal != "Commitment":
            raise ValueError("the only terminal message type allowed is Commitment")
        if terminal not in descriptor.message_types:
            raise ValueError("terminal message types must also be listed in message_types")


class ModeRegistry:
    def __init__(self, now_ms: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, ModeEntry] = {e.name: e for e in builtin_modes()}
        self._builtin_order = [e.name for e in builtin_modes() if e.standards_track]
        self._now_ms = now_ms
        self._watchers: Fanout[core_pb2.WatchModeRegistryResponse] = Fanout(_WATCH_BUFFER)

    def get(self, name: str) -> ModeEntry | None:
        with self._lock:
            return self._entries.get(name)

    def standards_track(self) -> list[core_pb2.ModeDescriptor]:
        with self._lock:
            builtin = [self._entries[n] for n in self._builtin_order]
            promoted = sorted(
                (e for e in self._entries.values() if e.standards_track and not e.builtin),
                key=lambda e: e.name,
            )
        return [e.descriptor for e in [*builtin, *promoted]]

    def extensions(self) -> list[core_pb2.ModeDescriptor]:
        with self._lock:
            entries = sorted(
                (e for e in self._entries.values() if not e.standards_track),
                key=lambda e: e.name,
            )
        return [e.descriptor for e in entries]

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def register_ext(self, descriptor: core_pb2.ModeDescriptor) -> None:
        validate_ext_descriptor(descriptor)
        stored = core_pb2.ModeDescriptor()
        stored.CopyFrom(descriptor)
        message_types = tuple(stored.message_types)
        entry = ModeEntry(
            stored,
            lambda: PassthroughRules(message_types=message_types),
            standards_track=False,
            strict=False,
            builtin=False,
        )
        with self._lock:
            if entry.name in self._entries:
                raise ValueError(f"mode {entry.name!r} is already registered")
            self._entries[entry.name] = entry
        self._notify()

    def unregister_ext(self, name: str) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise ValueError(f"mode {name!r} is not registered")
            if entry.builtin or entry.standards_track:
                raise ValueError(f"mode {name!r} is built in or standards-track")
            del self._entries[name]
        self._notify()

    def promote(self, name: str, new_name: str) -> str:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise ValueError(f"mode {name!r} is not registered")
            if entry.standards_track:
                raise ValueError(f"mode {name!r} is already standards-track")
            final = new_name if new_name else name
            if not final.strip():
                raise ValueError("the promoted name must not be blank")
            if final != name:
                if final.startswith(STANDARD_PREFIX):
                    raise ValueError(f"cannot rename into {STANDARD_PREFIX}* without an RFC")
                if final in self._entries:
                    raise ValueError(f"mode {final!r} already exists")
            descriptor = core_pb2.ModeDescriptor()
            descriptor.CopyFrom(entry.descriptor)
            descriptor.mode = final
            del self._entries[name]
            self._entries[final] = replace(
                entry, descriptor=descriptor, standards_track=True, strict=True
            )
        self._notify()
        return final

    def watch(self) -> Subscription[core_pb2.WatchModeRegistryResponse]:
        subscription = self._watchers.subscribe()
        subscription.offer(self._change())
        return subscription

    def unwatch(self, subscription: Subscription[core_pb2.WatchModeRegistryResponse]) -> None:
        self._watchers.unsubscribe(subscription)

    def close(self) -> None:
        self._watchers.close_all()

    def _change(self) -> core_pb2.WatchModeRegistryResponse:
        change = core_pb2.RegistryChanged(registry="modes", observed_at_unix_ms=self._now_ms())
        return core_pb2.WatchModeRegistryResponse(change=change)

    def _notify(self) -> None:
        self._watchers.publish(self._change())
