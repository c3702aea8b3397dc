"""Commitment rules shared by every mode (runtime-behavior.md §3.5)."""

from __future__ import annotations

from macp.v1 import core_pb2

from ..errors import forbidden
from ..policy import may_commit
from .base import ModeContext, decode, require

_NEGATIVE_SUFFIXES = ("rejected", "failed", "declined")
_POSITIVE_SUFFIXES = ("selected", "accepted", "completed", "approved")


def authorize_commitment(ctx: ModeContext, sender: str) -> None:
    """Who may commit, by the bound policy's `commitment.authority`."""
    if not may_commit(ctx.policy, sender, ctx.initiator, list(ctx.participants)):
        raise forbidden("sender lacks commitment authority")


def authorize_initiator_commitment(ctx: ModeContext, sender: str) -> None:
    """multi_round and passthrough modes: the initiator only, whatever the policy says."""
    if sender != ctx.initiator:
        raise forbidden("only the initiator may commit")


def validate_commitment(ctx: ModeContext, payload: bytes) -> core_pb2.CommitmentPayload:
    commitment = decode(core_pb2.CommitmentPayload, payload)
    for name in ("commitment_id", "action", "authority_scope", "reason"):
        require(bool(getattr(commitment, name).strip()), f"commitment {name} is blank")
    require(commitment.mode_version == ctx.mode_version, "commitment mode_version mismatch")
    require(
        commitment.configuration_version == ctx.configuration_version,
        "commitment configuration_version mismatch",
    )
    require(
        commitment.policy_version in ("", ctx.policy.policy_id),
        "commitment policy_version mismatch",
    )
    if commitment.HasField("supersedes"):
        ref = commitment.supersedes
        require(
            bool(ref.session_id.strip()) and bool(ref.commitment_hash.strip()),
            "supersedes needs session_id and commitment_hash",
        )
    action = commitment.action
    if action.endswith(_NEGATIVE_SUFFIXES):
        require(not commitment.outcome_positive, f"{action} requires outcome_positive=false")
    elif action.endswith(_POSITIVE_SUFFIXES):
        require(commitment.outcome_positive, f"{action} requires outcome_positive=true")
    return commitment


# Versions 1 and 2 as in the reference runtime (runtime-behavior.md §6.3); 3 as
# macp-sdk-python 0.22.0 documents it (its decision builder's default): see voting.py.
MAX_POLICY_SCHEMA_VERSION = 3


def check_policy_schema_version(ctx: ModeContext) -> list[str]:
    """The evaluator knows schema versions 1 to 3; a later one denies every commitment."""
    version = ctx.policy.schema_version
    if version > MAX_POLICY_SCHEMA_VERSION:
        return [f"policy schema_version {version} is not supported by the evaluator"]
    return []
