"""WhatIfReplay (RFC-MACP-0012 §8.1): a session's accepted history under another policy.

Read-only and advisory. The history is run through a fresh copy of the mode's rules twice,
once under the bound policy (`recorded`) and once under the candidate, which is validated as
RegisterPolicy would but never registered. The acceptance clock of each entry is its
envelope's `timestamp_unix_ms` (the runtime keeps no acceptance times), so rules that read the
clock (handoff's implicit accept) replay on the senders' clocks. A Commitment naming the
bound policy in `policy_version` is replayed naming the candidate instead: it is the same
decision, written as it would have been under the candidate binding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from macp.v1 import core_pb2, envelope_pb2, policy_pb2

from .errors import MacpError
from .modes.base import ModeContext, ModeRules
from .policy import ANY_MODE, Policy
from .session import OPEN, RESOLVED, Session

Kind = policy_pb2.WhatIfEntryOutcome.Kind
_POLICY_DENIED = "POLICY_DENIED"


class CandidateRejected(ValueError):
    """The candidate policy is not admissible for this session."""


@dataclass
class _Run:
    """One replay: the per-entry outcomes, the final outcome and the denials."""

    entries: list[policy_pb2.WhatIfEntryOutcome]
    outcome: policy_pb2.WhatIfOutcome
    denials: list[policy_pb2.WhatIfDenial]


def _context(session: Session, policy: Policy, envelope: envelope_pb2.Envelope) -> ModeContext:
    return ModeContext(
        session_id=session.session_id,
        mode=session.mode,
        initiator=session.initiator,
        participants=session.participants,
        mode_version=session.mode_version,
        configuration_version=session.configuration_version,
        policy=policy,
        now_ms=envelope.timestamp_unix_ms,
    )


def _refused(
    error: MacpError, state: envelope_pb2.SessionState.ValueType
) -> policy_pb2.WhatIfEntryOutcome:
    return policy_pb2.WhatIfEntryOutcome(
        kind=Kind.KIND_REFUSED,
        state=state,
        error_code=error.code,
        details=error.details,
    )


def _rebound(envelope: envelope_pb2.Envelope, bound: str, policy: str) -> bytes:
    """The payload, with a Commitment's `policy_version` moved from `bound` to `policy`."""
    if envelope.message_type != "Commitment" or bound == policy:
        return envelope.payload
    commitment = core_pb2.CommitmentPayload()
    try:
        commitment.ParseFromString(envelope.payload)
    except DecodeError:
        return envelope.payload  # the rules refuse it as they did (or did not) before
    if commitment.policy_version != bound:
        return envelope.payload
    commitment.policy_version = policy
    return commitment.SerializeToString(deterministic=True)


def _replay(session: Session, policy: Policy, new_rules: Callable[[], ModeRules]) -> _Run:
    history = list(session.history)
    run = _Run([], policy_pb2.WhatIfOutcome(state=OPEN), [])
    rules: ModeRules | None = None
    state: envelope_pb2.SessionState.ValueType = OPEN
    for index, envelope in enumerate(history):
        ctx = _context(session, policy, envelope)
        if index == 0:  # the SessionStart binds the policy
            try:
                rules = new_rules()
                rules.on_session_start(ctx)
            except MacpError as error:
                rules = None
                run.entries.append(_refused(error, envelope_pb2.SESSION_STATE_UNSPECIFIED))
                run.outcome.state = envelope_pb2.SESSION_STATE_UNSPECIFIED
                continue
            run.entries.append(policy_pb2.WhatIfEntryOutcome(kind=Kind.KIND_APPLIED, state=OPEN))
            continue
        if rules is None:
            no_session = policy_pb2.WhatIfEntryOutcome(kind=Kind.KIND_NO_SESSION)
            run.entries.append(no_session)
            continue
        if state != OPEN:
            run.entries.append(policy_pb2.WhatIfEntryOutcome(kind=Kind.KIND_NOT_OPEN, state=state))
            continue
        try:
            rules.authorize(ctx, envelope.sender, envelope.message_type)
            payload = _rebound(envelope, session.policy.policy_id, policy.policy_id)
            # A refused entry leaves the rules as they were (ModeRules.on_message), as in Send.
            outcome = rules.on_message(ctx, envelope.sender, envelope.message_type, payload)
        except MacpError as error:
            run.entries.append(_refused(error, state))
            if error.code == _POLICY_DENIED:
                run.denials.append(
                    policy_pb2.WhatIfDenial(
                        history_index=index, message_id=envelope.message_id, details=error.details
                    )
                )
            continue
        if outcome.resolves:
            state = RESOLVED
            run.outcome = policy_pb2.WhatIfOutcome(
                state=RESOLVED,
                resolution=outcome.resolution or b"",
                resolved_by_history_index=index,
                resolved_by_message_id=envelope.message_id,
                resolved_by_message_type=envelope.message_type,
            )
        run.entries.append(policy_pb2.WhatIfEntryOutcome(kind=Kind.KIND_APPLIED, state=state))
    return run


def what_if_replay(
    session: Session, candidate: Policy, new_rules: Callable[[], ModeRules]
) -> policy_pb2.WhatIfReplayResponse:
    """Replay `session` (whose lock the caller holds) under its policy and under `candidate`."""
    if candidate.mode not in (ANY_MODE, session.mode):
        raise CandidateRejected(f"candidate policy targets {candidate.mode}, not {session.mode}")
    recorded = _replay(session, session.policy, new_rules)
    replayed = _replay(session, candidate, new_rules)
    response = policy_pb2.WhatIfReplayResponse(
        candidate_policy_id=candidate.policy_id,
        recorded_policy_id=session.policy.policy_id,
        recorded=recorded.outcome,
        candidate=replayed.outcome,
        denials=replayed.denials,
    )
    for index, (before, after) in enumerate(zip(recorded.entries, replayed.entries, strict=True)):
        envelope = session.history[index]
        response.entries.append(
            policy_pb2.WhatIfEntry(
                history_index=index,
                message_id=envelope.message_id,
                message_type=envelope.message_type,
                recorded=before,
                candidate=after,
            )
        )
        if before != after and not response.HasField("first_divergence"):
            response.first_divergence = index
    return response
