"""The agent framework: write an agent as handlers of its session's messages.

``Participant`` (blocking) and ``AsyncParticipant`` (asyncio) subscribe to a session, keep
the mode's projection, and call handlers per message, per phase and at the end. Generated
per-mode classes (``macp_sdk.participants``: ``DecisionParticipant``, ``TaskParticipant``,
...) add typed ``on_<message>`` registration and typed ``ctx.actions``.
"""

from typing import Any

from .actions import AsyncParticipantActions, ParticipantActions
from .aio import AsyncGrpcTransportAdapter, AsyncParticipant
from .cancel_callback import CancelCallbackServer, start_cancel_callback_server
from .dispatcher import Dispatcher
from .modes import ModeBinding, binding_for, register_mode_binding
from .participant import TERMINAL_PHASES, InitiatorConfig, Participant
from .runner import Bootstrap, BootstrapError, from_bootstrap, load_bootstrap
from .strategies import (
    CommitmentResult,
    CommitmentStrategy,
    EvaluationResult,
    EvaluationStrategy,
    VoteResult,
    VotingStrategy,
    commitment_handler,
    deprecated_alias,
    evaluation_handler,
    function_committer,
    function_evaluator,
    function_voter,
    majority_committer,
    majority_voter,
    voting_handler,
)
from .transports import GrpcTransportAdapter, HttpTransportAdapter, TransportAdapter
from .types import (
    HandlerContext,
    IncomingMessage,
    MessageHandler,
    PhaseChangeHandler,
    SessionInfo,
    TerminalHandler,
    TerminalResult,
)

__all__ = [
    "TERMINAL_PHASES",
    "AsyncGrpcTransportAdapter",
    "AsyncParticipant",
    "AsyncParticipantActions",
    "Bootstrap",
    "BootstrapError",
    "CancelCallbackServer",
    "CommitmentResult",
    "CommitmentStrategy",
    "Dispatcher",
    "EvaluationResult",
    "EvaluationStrategy",
    "GrpcTransportAdapter",
    "HandlerContext",
    "HttpTransportAdapter",
    "IncomingMessage",
    "InitiatorConfig",
    "MessageHandler",
    "ModeBinding",
    "Participant",
    "ParticipantActions",
    "PhaseChangeHandler",
    "SessionInfo",
    "TerminalHandler",
    "TerminalResult",
    "TransportAdapter",
    "VoteResult",
    "VotingStrategy",
    "binding_for",
    "commitment_handler",
    "evaluation_handler",
    "from_bootstrap",
    "function_committer",
    "function_evaluator",
    "function_voter",
    "load_bootstrap",
    "majority_committer",
    "majority_voter",
    "register_mode_binding",
    "start_cancel_callback_server",
    "voting_handler",
]


def __getattr__(name: str) -> Any:
    """0.22.0's deprecated ``VoteDecision`` / ``CommitmentDecision`` (warn, then resolve)."""
    return deprecated_alias(name, __name__)
