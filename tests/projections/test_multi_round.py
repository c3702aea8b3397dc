"""multi_round projection: latest value per participant, agreement, convergence."""

from __future__ import annotations

from macp_sdk.projections.multi_round import MultiRoundProjection

from .envelopes import MULTI_ROUND, Feed, apply_ok

COORD, AL, BO = "agent://coord", "agent://al", "agent://bo"


def test_convergence_follows_the_runtime_rule() -> None:
    proj, feed = MultiRoundProjection(), Feed(MULTI_ROUND)
    apply_ok(proj, feed.start(COORD, [AL, BO]))
    assert proj.phase == "Pending" and not proj.all_agree and proj.agreed_value is None
    apply_ok(proj, feed.send(AL, "Contribute", value="a"))
    assert proj.phase == "Contributing"
    assert proj.all_agree and proj.agreed_value == "a"  # the only contributor agrees with itself
    assert not proj.is_converged and proj.pending_contributors() == [BO]
    apply_ok(proj, feed.send(BO, "Contribute", value="b"))
    assert not proj.all_agree and proj.converged_value is None
    apply_ok(proj, feed.send(BO, "Contribute", value="a"))
    assert proj.contributions == {AL: "a", BO: "a"}
    assert proj.is_converged and proj.converged_value == "a" and proj.phase == "Converged"
    assert proj.is_commit_eligible
    assert proj.contribution_history(BO) == ["b", "a"] and proj.revisions == {AL: 1, BO: 2}
    apply_ok(proj, feed.send(BO, "Contribute", value="a"))  # same value: not a revision
    assert proj.revisions[BO] == 2
    apply_ok(proj, feed.send(AL, "Contribute", value="c"))  # diverges again
    assert proj.phase == "Contributing" and proj.value_of(AL) == "c"
    apply_ok(proj, feed.send(AL, "Contribute", value="a"))
    apply_ok(proj, feed.commit(COORD, "multi_round.converged", True))
    assert proj.phase == "Committed" and proj.converged_value == "a"


def test_declared_initiator_must_contribute_too() -> None:
    proj, feed = MultiRoundProjection(), Feed(MULTI_ROUND)
    apply_ok(proj, feed.start(COORD, [COORD, AL]))
    apply_ok(proj, feed.send(AL, "Contribute", value="x"))
    assert not proj.is_converged and proj.pending_contributors() == [COORD]
    apply_ok(proj, feed.send(COORD, "Contribute", value="x"))
    assert proj.is_converged


def test_unknown_participants_never_converge() -> None:
    proj, feed = MultiRoundProjection(), Feed(MULTI_ROUND)
    apply_ok(proj, feed.send(AL, "Contribute", value="x"))
    assert proj.all_agree and not proj.is_converged


def test_legacy_json_payload() -> None:
    """The runtime's extension used to send ``{"value": ...}`` JSON; it still decodes."""
    proj, feed = MultiRoundProjection(), Feed(MULTI_ROUND)
    apply_ok(proj, feed.start(COORD, [AL]))
    apply_ok(proj, feed.envelope(AL, "Contribute", b'{"value": "json"}'))
    assert proj.converged_value == "json"
