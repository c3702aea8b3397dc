"""The policy registry (RFC-MACP-0012, runtime-behavior.md §6.3).

Policies are registered with JSON rules, resolved at SessionStart and frozen onto the session.
`policy.default` is built in: no voting, no vetoes, initiator-only commitment.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from macp.v1 import policy_pb2

from .fanout import Fanout, Subscription
from .policy_schema import validate_rules

DEFAULT_POLICY_ID: Final = "policy.default"
ANY_MODE: Final = "*"
SUPPORTED_SCHEMA_VERSIONS: Final = (1, 2)
_WATCH_BUFFER = 16


@dataclass(frozen=True)
class Policy:
    policy_id: str
    mode: str
    description: str
    schema_version: int
    rules: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.rules.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def commitment_authority(self) -> str:
        authority = self.section("commitment").get("authority")
        return authority if isinstance(authority, str) else "initiator_only"

    @property
    def designated_roles(self) -> tuple[str, ...]:
        roles = self.section("commitment").get("designated_roles")
        return tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()

    def to_proto(self) -> policy_pb2.PolicyDescriptor:
        return policy_pb2.PolicyDescriptor(
            policy_id=self.policy_id,
            mode=self.mode,
            description=self.description,
            rules=json.dumps(self.rules, sort_keys=True),
            schema_version=self.schema_version,
            registered_at_unix_ms=0,
        )


DEFAULT_POLICY: Final = Policy(
    policy_id=DEFAULT_POLICY_ID,
    mode=ANY_MODE,
    description="Default policy: no voting rule, initiator-only commitment.",
    schema_version=1,
    rules={
        "voting": {"algorithm": "none"},
        "objection_handling": {"critical_severity_vetoes": False},
        "evaluation": {"required_before_voting": False},
        "commitment": {"authority": "initiator_only"},
    },
)


def may_commit(policy: Policy, sender: str, initiator: str, participants: list[str]) -> bool:
    """The commitment-authority rule (§3.5); it also gates Cancel, Suspend and Resume."""
    authority = policy.commitment_authority
    if authority == "any_participant":
        return sender == initiator or sender in participants
    if authority == "designated_role":
        return sender in policy.designated_roles
    return sender == initiator


def parse_rules(text: str) -> Any:
    # The reference treats an unparsable rules string as `{}`.
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {}


def policy_from_descriptor(descriptor: policy_pb2.PolicyDescriptor) -> Policy:
    """Validate a descriptor for registration; raises ValueError with the reason."""
    policy_id = descriptor.policy_id.strip()
    if not policy_id:
        raise ValueError("policy_id must not be blank")
    if policy_id == DEFAULT_POLICY_ID:
        raise ValueError("policy.default is built in and cannot be registered")
    if descriptor.schema_version == 0:
        raise ValueError("schema_version must be greater than 0")
    mode = descriptor.mode or ANY_MODE
    rules = parse_rules(descriptor.rules)
    if not isinstance(rules, dict):
        raise ValueError("rules must be a JSON object")
    validate_rules(mode, rules)
    return Policy(policy_id, mode, descriptor.description, descriptor.schema_version, rules)


class PolicyRegistry:
    def __init__(self, now_ms: Callable[[], int]) -> None:
        self._policies: dict[str, Policy] = {DEFAULT_POLICY_ID: DEFAULT_POLICY}
        self._lock = threading.Lock()
        self._now_ms = now_ms
        self._watchers: Fanout[policy_pb2.WatchPoliciesResponse] = Fanout(_WATCH_BUFFER)

    def register(self, descriptor: policy_pb2.PolicyDescriptor) -> None:
        policy = policy_from_descriptor(descriptor)
        with self._lock:
            if policy.policy_id in self._policies:
                raise ValueError(f"policy {policy.policy_id!r} is already registered")
            self._policies[policy.policy_id] = policy
            self._notify_locked()

    def unregister(self, policy_id: str) -> None:
        with self._lock:
            if policy_id == DEFAULT_POLICY_ID:
                raise ValueError("policy.default cannot be unregistered")
            if policy_id not in self._policies:
                raise ValueError(f"policy {policy_id!r} is not registered")
            del self._policies[policy_id]
            self._notify_locked()

    def get(self, policy_id: str) -> Policy | None:
        with self._lock:
            return self._policies.get(policy_id)

    def list(self, mode: str = "") -> list[Policy]:
        with self._lock:
            policies = sorted(self._policies.values(), key=lambda p: p.policy_id)
        if mode:
            policies = [p for p in policies if p.mode in (mode, ANY_MODE)]
        return policies

    def watch(self) -> Subscription[policy_pb2.WatchPoliciesResponse]:
        # Subscribe and take the snapshot under one lock so no change falls in between.
        with self._lock:
            subscription = self._watchers.subscribe()
            subscription.offer(self._snapshot_locked())
        return subscription

    def unwatch(self, subscription: Subscription[policy_pb2.WatchPoliciesResponse]) -> None:
        self._watchers.unsubscribe(subscription)

    def close(self) -> None:
        self._watchers.close_all()

    def _snapshot_locked(self) -> policy_pb2.WatchPoliciesResponse:
        descriptors = [p.to_proto() for p in sorted(self._policies.values(), key=_by_id)]
        return policy_pb2.WatchPoliciesResponse(
            descriptors=descriptors, observed_at_unix_ms=self._now_ms()
        )

    def _notify_locked(self) -> None:
        self._watchers.publish(self._snapshot_locked())


def _by_id(policy: Policy) -> str:
    return policy.policy_id
