"""Multi-round convergence projection: the facts an orchestrator decides on.

This file is yours. macp-codegen created it once; on later runs it only adds what is missing
(a hook for a new action, an import) and never changes a line you wrote.
"""

from __future__ import annotations

from ._multi_round_base import (
    ContributeRecord,
    MultiRoundProjectionBase,
)

__all__ = ["PHASE_CONTRIBUTING", "PHASE_CONVERGED", "MultiRoundProjection"]

# The runtime keeps a ``converged`` flag rather than phases; these name its two states.
PHASE_CONTRIBUTING = "Contributing"
PHASE_CONVERGED = "Converged"


class MultiRoundProjection(MultiRoundProjectionBase):
    """State of one ext.multi_round.v1 session, derived from accepted envelopes.

    Each sender's latest Contribute replaces their previous value. As in the runtime, the
    session is converged once every declared participant has contributed and all hold the
    same value (the initiator counts only when it is declared). Phases: ``Pending`` →
    ``Contributing`` (first Contribute) ⇄ ``Converged`` → ``Committed``.
    """

    def __init__(self, session_id: str | None = None, *, mode: str | None = None) -> None:
        super().__init__(session_id, mode=mode)
        # sender -> their latest value, in order of first contribution.
        self.contributions: dict[str, str] = {}
        # How many times a sender's value changed (a first contribution counts as one).
        self.revisions: dict[str, int] = {}
        # Every Contribute in arrival order (contribute_records is keyed by value, not time).
        self.history: list[ContributeRecord] = []

    def on_contribute(self, record: ContributeRecord) -> None:
        """Called once for each accepted Contribute."""
        super().on_contribute(record)
        if self.contributions.get(record.sender) != record.value:
            self.revisions[record.sender] = self.revisions.get(record.sender, 0) + 1
        self.contributions[record.sender] = record.value
        self.history.append(record)
        self._set_phase(PHASE_CONVERGED if self.is_converged else PHASE_CONTRIBUTING)

    # -- queries -------------------------------------------------------------------------
    def value_of(self, participant: str) -> str | None:
        """``participant``'s latest value, or ``None`` if they have not contributed."""
        return self.contributions.get(participant)

    def contribution_history(self, participant: str) -> list[str]:
        """Every value ``participant`` contributed, in order."""
        return [r.value for r in self.history if r.sender == participant]

    def pending_contributors(self) -> list[str]:
        """Declared participants who have not contributed yet."""
        return [p for p in self.participants if p not in self.contributions]

    @property
    def all_agree(self) -> bool:
        """Whether at least one value was contributed and every contributor holds the same one.

        Unlike :attr:`is_converged` this does not ask whether everyone has spoken.
        """
        return len(set(self.contributions.values())) == 1

    @property
    def agreed_value(self) -> str | None:
        """The single value every contributor holds, or ``None``."""
        values = set(self.contributions.values())
        return values.pop() if len(values) == 1 else None

    @property
    def is_converged(self) -> bool:
        """Every declared participant contributed and all hold the same value (runtime rule).

        False while no participants are known (no SessionStart seen).
        """
        return bool(self.participants) and not self.pending_contributors() and self.all_agree

    @property
    def converged_value(self) -> str | None:
        """The value the session converged on, or ``None`` while not converged."""
        return self.agreed_value if self.is_converged else None

    @property
    def is_commit_eligible(self) -> bool:
        """The runtime commits a multi_round session only once it has converged."""
        return self.is_converged
