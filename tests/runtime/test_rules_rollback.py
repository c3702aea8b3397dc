"""Every mode's rules leave no trace of a rejected message (hypothesis).

The kernel applies a message to the session's own rules, without a copy (a copy per message
cost in proportion to the session): `ModeRules.on_message` must check everything before it
changes anything. Random message sequences drawn from small alphabets (so that duplicates,
unknown ids, wrong phases, bad payloads and commitments all come up) go to each mode's rules;
after every rejected message the rules must equal a copy taken before it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st
from macp.modes.decision.v1 import decision_pb2
from macp.modes.handoff.v1 import handoff_pb2
from macp.modes.multi_round.v1 import multi_round_pb2
from macp.modes.proposal.v1 import proposal_pb2
from macp.modes.quorum.v1 import quorum_pb2
from macp.modes.task.v1 import task_pb2
from macp.v1 import core_pb2
from macp_local_runtime.errors import MacpError
from macp_local_runtime.modes.base import ModeContext, ModeRules
from macp_local_runtime.modes.decision import DecisionRules
from macp_local_runtime.modes.handoff import HandoffRules
from macp_local_runtime.modes.multi_round import MultiRoundRules
from macp_local_runtime.modes.passthrough import PassthroughRules
from macp_local_runtime.modes.proposal import ProposalRules
from macp_local_runtime.modes.quorum import QuorumRules
from macp_local_runtime.modes.task import TaskRules
from macp_local_runtime.policy import DEFAULT_POLICY, Policy

PEOPLE = ("lead", "alice", "bob")
IDS = ("p1", "p2", "")
GARBAGE = b"\xff\xff\xff"

# A governed decision policy, so that commitments can be denied after the checks that pass.
VOTING = Policy(
    "policy.test.majority",
    "macp.mode.decision.v1",
    "majority with a critical veto",
    2,
    {
        "voting": {"algorithm": "majority", "threshold": 0.5, "quorum": {"type": "count"}},
        "objection_handling": {"critical_severity_vetoes": True},
        "commitment": {"authority": "any_participant", "require_vote_quorum": True},
        "acceptance": {"implicit_accept_timeout_ms": 5, "criterion": "counterparty"},
        "counter_proposal": {"max_rounds": 1},
        "rejection": {"terminal_on_any_reject": False},
        "completion": {"require_output": True},
        "threshold": {"type": "count", "value": 2},
        "assignment": {"allow_reassignment_on_reject": False},
    },
)

# A schema version the evaluator does not know: every commitment is denied, last of all checks.
FUTURE = Policy("policy.test.future", "any", "from a later schema", 4, dict(VOTING.rules))


def _commitments() -> list[tuple[str, bytes]]:
    def commitment(action: str, positive: bool, **extra: str) -> bytes:
        fields = {
            "commitment_id": "c1",
            "action": action,
            "authority_scope": "scope",
            "reason": "because",
            "mode_version": "1.0.0",
            "configuration_version": "config.default",
        }
        fields.update(extra)
        payload = core_pb2.CommitmentPayload(outcome_positive=positive, **fields)  # type: ignore[arg-type]
        return payload.SerializeToString()

    return [
        ("Commitment", commitment("decision.selected", True)),
        ("Commitment", commitment("decision.rejected", False)),
        ("Commitment", commitment("decision.selected", False)),  # positive suffix, negative
        ("Commitment", commitment("x", True, mode_version="9")),
        ("Commitment", GARBAGE),
    ]


def _messages(
    pairs: list[tuple[str, Message | bytes]],
) -> list[tuple[str, bytes]]:
    return [
        (kind, payload if isinstance(payload, bytes) else payload.SerializeToString())
        for kind, payload in pairs
    ] + _commitments()


DECISION = _messages(
    [
        *(("Proposal", decision_pb2.ProposalPayload(proposal_id=i, option="o")) for i in IDS),
        ("Proposal", decision_pb2.ProposalPayload(proposal_id="p1", option="")),
        *(
            ("Evaluation", decision_pb2.EvaluationPayload(proposal_id=i, recommendation=r))
            for i in IDS[:2]
            for r in ("APPROVE", "nonsense")
        ),
        ("Evaluation", decision_pb2.EvaluationPayload(proposal_id="p1", confidence=2.0)),
        *(
            ("Objection", decision_pb2.ObjectionPayload(proposal_id=i, severity=s))
            for i in IDS[:2]
            for s in ("critical", "nonsense")
        ),
        *(
            ("Vote", decision_pb2.VotePayload(proposal_id=i, vote=v))
            for i in IDS
            for v in ("APPROVE", "REJECT", "nonsense")
        ),
        ("Vote", GARBAGE),
        ("Unknown", b""),
    ]
)
PROPOSAL = _messages(
    [
        *(("Proposal", proposal_pb2.ProposalPayload(proposal_id=i)) for i in IDS),
        *(
            (
                "CounterProposal",
                proposal_pb2.CounterProposalPayload(proposal_id=i, supersedes_proposal_id=s),
            )
            for i in ("p3", "p4", "p1")
            for s in ("p1", "p9")
        ),
        *(("Accept", proposal_pb2.AcceptPayload(proposal_id=i)) for i in IDS),
        *(
            ("Reject", proposal_pb2.RejectPayload(proposal_id=i, terminal=t))
            for i in IDS[:2]
            for t in (False, True)
        ),
        *(("Withdraw", proposal_pb2.WithdrawPayload(proposal_id=i)) for i in IDS),
        ("Accept", GARBAGE),
        ("Unknown", b""),
    ]
)
TASK = _messages(
    [
        *(
            ("TaskRequest", task_pb2.TaskRequestPayload(task_id=t, requested_assignee=a))
            for t in ("t1", "")
            for a in ("", "alice", "mallory")
        ),
        *(("TaskAccept", task_pb2.TaskAcceptPayload(task_id=t)) for t in ("t1", "t2")),
        ("TaskAccept", task_pb2.TaskAcceptPayload(task_id="t1", assignee="bob")),
        *(("TaskReject", task_pb2.TaskRejectPayload(task_id=t)) for t in ("t1", "t2")),
        ("TaskUpdate", task_pb2.TaskUpdatePayload(task_id="t1")),
        ("TaskComplete", task_pb2.TaskCompletePayload(task_id="t1", output=b"out")),
        ("TaskComplete", task_pb2.TaskCompletePayload(task_id="t1")),
        ("TaskFail", task_pb2.TaskFailPayload(task_id="t1", assignee="bob")),
        ("TaskUpdate", GARBAGE),
        ("Unknown", b""),
    ]
)
HANDOFF = _messages(
    [
        *(
            ("HandoffOffer", handoff_pb2.HandoffOfferPayload(handoff_id=h, target_participant=t))
            for h in ("h1", "h2", "")
            for t in ("alice", "bob", "lead", "mallory")
        ),
        *(
            ("HandoffContext", handoff_pb2.HandoffContextPayload(handoff_id=h))
            for h in ("h1", "h9")
        ),
        *(("HandoffAccept", handoff_pb2.HandoffAcceptPayload(handoff_id=h)) for h in ("h1", "h2")),
        ("HandoffAccept", handoff_pb2.HandoffAcceptPayload(handoff_id="h1", accepted_by="x")),
        *(
            ("HandoffDecline", handoff_pb2.HandoffDeclinePayload(handoff_id=h))
            for h in ("h1", "h2")
        ),
        ("HandoffOffer", GARBAGE),
        ("Unknown", b""),
    ]
)
QUORUM = _messages(
    [
        *(
            (
                "ApprovalRequest",
                quorum_pb2.ApprovalRequestPayload(request_id=r, required_approvals=n),
            )
            for r in ("r1", "")
            for n in (0, 2, 9)
        ),
        *(("Approve", quorum_pb2.ApprovePayload(request_id=r)) for r in ("r1", "r2")),
        *(("Reject", quorum_pb2.RejectPayload(request_id=r)) for r in ("r1", "r2")),
        ("Abstain", quorum_pb2.AbstainPayload(request_id="r1")),
        ("Approve", GARBAGE),
        ("Unknown", b""),
    ]
)
MULTI_ROUND = _messages(
    [
        *(("Contribute", multi_round_pb2.ContributePayload(value=v)) for v in ("a", "b", "")),
        ("Contribute", b'{"value": "a"}'),
        ("Contribute", b""),
        ("Contribute", GARBAGE),
        ("Unknown", b""),
    ]
)
PASSTHROUGH = _messages(
    [("Note", b"one"), ("Note", b"two"), ("SessionStart", b""), ("Unknown", b"x")]
)

MODES: dict[str, tuple[Callable[[], ModeRules], list[tuple[str, bytes]]]] = {
    "decision": (DecisionRules, DECISION),
    "proposal": (ProposalRules, PROPOSAL),
    "task": (TaskRules, TASK),
    "handoff": (HandoffRules, HANDOFF),
    "quorum": (QuorumRules, QUORUM),
    "multi_round": (MultiRoundRules, MULTI_ROUND),
    "passthrough": (lambda: PassthroughRules(message_types=("Note", "Commitment")), PASSTHROUGH),
}


def _context(policy: Policy, now_ms: int) -> ModeContext:
    return ModeContext(
        session_id="s1",
        mode="test",
        initiator="lead",
        participants=PEOPLE,
        mode_version="1.0.0",
        configuration_version="config.default",
        policy=policy,
        now_ms=now_ms,
    )


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_rejected_message_leaves_the_rules_as_they_were(mode: str) -> None:
    new_rules, messages = MODES[mode]
    step = st.tuples(st.sampled_from(PEOPLE), st.sampled_from(messages))

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        policy=st.sampled_from([DEFAULT_POLICY, VOTING, FUTURE]),
        steps=st.lists(step, min_size=4, max_size=30),
    )
    def run(policy: Policy, steps: list[tuple[str, tuple[str, bytes]]]) -> None:
        rules = new_rules()
        rules.on_session_start(_context(policy, 0))
        for now, (sender, (kind, payload)) in enumerate(steps, start=1):
            ctx = _context(policy, now * 10)  # the clock moves: implicit accepts come due
            before = copy.deepcopy(rules)
            try:
                rules.authorize(ctx, sender, kind)
                outcome = rules.on_message(ctx, sender, kind, payload)
            except MacpError:
                assert rules == before, f"{kind} from {sender} was rejected but changed the rules"
                continue
            if outcome.resolves:
                return  # the session is over

    run()


def test_every_built_in_mode_is_in_the_rollback_property() -> None:
    # The kernel relies on every mode's rules changing nothing when they reject: a new
    # built-in mode must join MODES above (its rules class, and messages to try).
    from macp_local_runtime.registry import _RULES

    assert set(_RULES.values()) <= {new_rules for new_rules, _ in MODES.values()}
