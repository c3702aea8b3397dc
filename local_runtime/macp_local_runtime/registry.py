"""The mode registry: built-in modes, extension modes and their descriptors (§6.1, §6.2)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from macp.v1 import core_pb2
from macp_sdk._registry import MODE_REGISTRY, STANDARD_MODES, mode_descriptor
from macp_sdk.facts import decision, handoff, multi_round, proposal, quorum, task

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
_WATCH_BUFFER = 16

# The semantics this runtime implements, by mode id. Everything a descriptor says (titles,
# message types, schema URIs, registry order) comes from the generated registry, that is from
# the mode protos; only the rules are hand-written.
_RULES: Final[Mapping[str, Callable[[], ModeRules]]] = {
    decision.MODE: DecisionRules,
    proposal.MODE: ProposalRules,
    task.MODE: TaskRules,
    handoff.MODE: HandoffRules,
    quorum.MODE: QuorumRules,
    multi_round.MODE: MultiRoundRules,
}


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


def builtin_modes() -> list[ModeEntry]:
    """The modes served with their rules: standards-track ones in registry order, then the rest
    by id. A mode the SDK knows but this runtime has no rules for is not built in (an SDK
    registers it as an extension mode)."""
    extra = sorted(set(_RULES) - set(STANDARD_MODES))
    return [
        ModeEntry(
            mode_descriptor(mode),
            _RULES[mode],
            standards_track=MODE_REGISTRY[mode].standard,
            strict=True,
            builtin=True,
        )
        for mode in [*STANDARD_MODES, *extra]
        if mode in _RULES and mode in MODE_REGISTRY
    ]


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
