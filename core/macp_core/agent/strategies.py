"""Strategies: the decision logic of an agent, separate from its plumbing (0.22.0's API).

Protocols for evaluating, voting and committing; ``*_handler`` adapters that turn a strategy
into a message handler; ``function_*`` wrappers for plain functions; and two built-ins,
``majority_voter`` and ``majority_committer``. The handlers react to the messages the mode's
``propose``, ``evaluate`` and ``vote`` actions send (in the Decision mode: Proposal → evaluate,
Evaluation → vote, Vote → commit) and act through ``ctx.actions``, so they work in any mode
whose generated actions offer ``evaluate``/``vote``/``commit`` (``DecisionActions`` does).
The message types come from the mode binding the generated participants module registers:
the core names actions, never a mode's message types.

The handlers work under both participants: under :class:`AsyncParticipant` the action
returns a coroutine, which the handler returns for the participant to await.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..envelope import infer_outcome_positive
from ..errors import MacpSessionError, MacpValidationError
from .modes import binding_for
from .types import AnyContext, IncomingMessage, SessionInfo

# What the built-in handlers are: they return None under the blocking participant and the
# action's awaitable under the asyncio one (``Participant.on`` and ``AsyncParticipant.on``
# both take them).
StrategyHandler = Callable[[IncomingMessage, AnyContext], Any]

# The actions whose messages the built-in handlers react to (0.22.0's Decision behaviour).
_PROPOSE, _EVALUATE, _VOTE = "propose", "evaluate", "vote"
_APPROVE, _ABSTAIN, _REVIEW = "APPROVE", "ABSTAIN", "REVIEW"


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    recommendation: str
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class VoteResult:
    vote: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommitmentResult:
    action: str
    authority_scope: str
    reason: str
    outcome_positive: bool | None = None


class EvaluationStrategy(Protocol):
    def evaluate(self, proposal: dict[str, Any], context: SessionInfo) -> EvaluationResult: ...


class VotingStrategy(Protocol):
    def should_vote(self, projection: Any) -> bool: ...

    def decide_vote(self, projection: Any) -> VoteResult: ...


class CommitmentStrategy(Protocol):
    def should_commit(self, projection: Any) -> bool: ...

    def decide_commitment(self, projection: Any) -> CommitmentResult: ...


def _action(ctx: AnyContext, name: str) -> Callable[..., Any]:
    found = getattr(ctx.actions, name, None)
    if not callable(found):
        raise MacpSessionError(
            f"{name}() has no equivalent action in mode {ctx.session.mode!r}; "
            "this strategy handler needs a mode that has it"
        )
    return found  # type: ignore[no-any-return]


def _sent(result: object) -> Awaitable[Any] | None:
    """The asyncio actions' coroutine, for the participant to await; None for an Ack."""
    return result if inspect.isawaitable(result) else None


def _sent_by(message: IncomingMessage, ctx: AnyContext, action: str) -> bool:
    """Whether ``message`` is what the session mode's ``action`` sends."""
    message_type = binding_for(ctx.session.mode).action_message_types.get(action)
    return message_type is not None and message.message_type == message_type


def _proposal_id(message: IncomingMessage) -> str:
    return message.proposal_id or str(message.payload.get("proposal_id", ""))


def evaluation_handler(strategy: EvaluationStrategy) -> StrategyHandler:
    """On each proposal (what ``propose`` sends): ``strategy.evaluate(payload, session)``,
    then send the evaluation."""

    def handler(message: IncomingMessage, ctx: AnyContext) -> Awaitable[Any] | None:
        if not _sent_by(message, ctx, _PROPOSE):
            return None
        result = strategy.evaluate(message.payload, ctx.session)
        if not math.isfinite(result.confidence) or not 0.0 <= result.confidence <= 1.0:
            raise MacpValidationError("confidence", result.confidence, "a number in [0, 1]")
        ctx.log(
            "evaluation: recommendation=%s confidence=%.2f reason=%s",
            result.recommendation,
            result.confidence,
            result.reason,
        )
        return _sent(
            _action(ctx, _EVALUATE)(
                _proposal_id(message),
                result.recommendation,
                confidence=result.confidence,
                reason=result.reason,
            )
        )

    return handler


def voting_handler(strategy: VotingStrategy) -> StrategyHandler:
    """On each evaluation (what ``evaluate`` sends): if ``should_vote(projection)``, send
    ``decide_vote(projection)``."""

    def handler(message: IncomingMessage, ctx: AnyContext) -> Awaitable[Any] | None:
        if not _sent_by(message, ctx, _EVALUATE) or not strategy.should_vote(ctx.projection):
            return None
        decision = strategy.decide_vote(ctx.projection)
        ctx.log("vote: vote=%s reason=%s", decision.vote, decision.reason)
        return _sent(
            _action(ctx, _VOTE)(_proposal_id(message), decision.vote, reason=decision.reason)
        )

    return handler


def commitment_handler(strategy: CommitmentStrategy) -> StrategyHandler:
    """On each vote (what ``vote`` sends): if ``should_commit(projection)``, send
    ``decide_commitment``'s Commitment (an unset ``outcome_positive`` is inferred from the
    action)."""

    def handler(message: IncomingMessage, ctx: AnyContext) -> Awaitable[Any] | None:
        if not _sent_by(message, ctx, _VOTE) or not strategy.should_commit(ctx.projection):
            return None
        decision = strategy.decide_commitment(ctx.projection)
        positive = (
            decision.outcome_positive
            if decision.outcome_positive is not None
            else infer_outcome_positive(decision.action)
        )
        ctx.log(
            "commitment: action=%s scope=%s reason=%s",
            decision.action,
            decision.authority_scope,
            decision.reason,
        )
        return _sent(
            _action(ctx, "commit")(
                decision.action,
                decision.authority_scope,
                reason=decision.reason,
                outcome_positive=positive,
            )
        )

    return handler


class _FnEvaluator:
    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[dict[str, Any], SessionInfo], EvaluationResult]) -> None:
        self._fn = fn

    def evaluate(self, proposal: dict[str, Any], context: SessionInfo) -> EvaluationResult:
        return self._fn(proposal, context)


class _FnVoter:
    __slots__ = ("_decide", "_should")

    def __init__(self, should: Callable[[Any], bool], decide: Callable[[Any], VoteResult]) -> None:
        self._should, self._decide = should, decide

    def should_vote(self, projection: Any) -> bool:
        return self._should(projection)

    def decide_vote(self, projection: Any) -> VoteResult:
        return self._decide(projection)


class _FnCommitter:
    __slots__ = ("_decide", "_should")

    def __init__(
        self, should: Callable[[Any], bool], decide: Callable[[Any], CommitmentResult]
    ) -> None:
        self._should, self._decide = should, decide

    def should_commit(self, projection: Any) -> bool:
        return self._should(projection)

    def decide_commitment(self, projection: Any) -> CommitmentResult:
        return self._decide(projection)


def function_evaluator(
    fn: Callable[[dict[str, Any], SessionInfo], EvaluationResult],
) -> EvaluationStrategy:
    return _FnEvaluator(fn)


def function_voter(
    should_vote_fn: Callable[[Any], bool], decide_fn: Callable[[Any], VoteResult]
) -> VotingStrategy:
    return _FnVoter(should_vote_fn, decide_fn)


def function_committer(
    should_commit_fn: Callable[[Any], bool], decide_fn: Callable[[Any], CommitmentResult]
) -> CommitmentStrategy:
    return _FnCommitter(should_commit_fn, decide_fn)


def _qualifying(projection: Any) -> tuple[str, list[Any]]:
    """(latest evaluated proposal, its non-REVIEW evaluations): REVIEW is informational."""
    evaluations = list(getattr(projection, "evaluations", None) or [])
    if not evaluations:
        return "", []
    proposal_id = str(evaluations[-1].proposal_id)
    return proposal_id, [
        e
        for e in evaluations
        if e.proposal_id == proposal_id and e.recommendation.upper() != _REVIEW
    ]


class _MajorityVoter:
    __slots__ = ("_threshold",)

    def __init__(self, threshold: float) -> None:
        self._threshold = threshold

    def should_vote(self, projection: Any) -> bool:
        return projection is not None and bool(_qualifying(projection)[1])

    def decide_vote(self, projection: Any) -> VoteResult:
        proposal_id, qualifying = _qualifying(projection)
        if not qualifying:
            return VoteResult(_ABSTAIN, f"no qualifying evaluations for {proposal_id!r}")
        approvals = sum(1 for e in qualifying if e.recommendation.upper() == _APPROVE)
        ratio = approvals / len(qualifying)
        vote, cmp = (_APPROVE, ">=") if ratio >= self._threshold else (_ABSTAIN, "<")
        return VoteResult(
            vote,
            f"{approvals}/{len(qualifying)} evaluations approve {proposal_id!r} "
            f"({cmp} {self._threshold:.0%})",
        )


def majority_voter(*, positive_threshold: float = 0.5) -> VotingStrategy:
    """Votes APPROVE when at least ``positive_threshold`` of the qualifying (non-REVIEW)
    evaluations of the latest evaluated proposal approve it, else ABSTAIN. Decides from
    evaluations, never from earlier votes, so a room of majority voters can start voting."""
    return _MajorityVoter(positive_threshold)


class _MajorityCommitter:
    __slots__ = ("_action", "_quorum", "_scope")

    def __init__(self, quorum: int, action: str, scope: str) -> None:
        self._quorum, self._action, self._scope = quorum, action, scope

    def should_commit(self, projection: Any) -> bool:
        if projection is None or getattr(projection, "is_committed", False):
            return False
        winner = projection.majority_winner()
        if winner is None:
            return False
        return int(projection.vote_totals().get(winner, 0)) >= self._quorum

    def decide_commitment(self, projection: Any) -> CommitmentResult:
        winner = projection.majority_winner()
        return CommitmentResult(
            action=self._action,
            authority_scope=self._scope,
            reason=f"majority winner: {winner}",
            outcome_positive=infer_outcome_positive(self._action),
        )


def majority_committer(
    *, quorum_size: int = 1, action: str = "commit", authority_scope: str = "session"
) -> CommitmentStrategy:
    """Commits once a majority winner exists with at least ``quorum_size`` positive votes
    for the winning proposal (votes for losing proposals do not count)."""
    return _MajorityCommitter(quorum_size, action, authority_scope)


# 0.22.0's pre-rename names, deprecated there: reading one warns and gives the new class.
# The generated `macp_sdk.agent` and `macp_sdk.agent.strategies` shims forward to this.
DEPRECATED_ALIASES: dict[str, str] = {
    "VoteDecision": "VoteResult",
    "CommitmentDecision": "CommitmentResult",
}


def deprecated_alias(name: str, module: str, stacklevel: int = 2) -> Any:
    """The class a deprecated alias of ``module`` names, with a DeprecationWarning pointing
    ``stacklevel`` frames up; AttributeError for any other name (a module ``__getattr__``)."""
    new_name = DEPRECATED_ALIASES.get(name)
    if new_name is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{name} is deprecated; use {new_name} instead.",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )
    return globals()[new_name]


def __getattr__(name: str) -> Any:
    return deprecated_alias(name, __name__)
