"""`field_check` (the bound checks generated builders run) agrees with `checked` everywhere.

Its fast paths skip `checked` for valid strings and numbers; for any options and any value
both must return the same value of the same type, or raise the same error.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from macp_core._field_checks import checked, field_check
from macp_sdk.errors import MacpValidationError

WORDS = ["APPROVE", "reject", "Abstain", "", " ", "low", "LOW", "ünï", "x y"]
values = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=8),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.binary(max_size=4),
)
options = st.fixed_dictionaries(
    {
        "required": st.booleans(),
        "allowed": st.one_of(
            st.just(()), st.lists(st.sampled_from(WORDS), max_size=4).map(tuple)
        ),
        "normalize": st.sampled_from(["", "upper", "lower"]),
        "minimum": st.one_of(st.none(), st.floats(-100, 100)),
        "maximum": st.one_of(st.none(), st.floats(-100, 100)),
    }
)


def _outcome(function: Any, value: Any) -> tuple[str, Any]:
    try:
        result = function(value)
    except MacpValidationError as exc:
        return "error", str(exc)
    return type(result).__name__, result


@settings(max_examples=400, deadline=None)
@given(opts=options, value=values)
def test_field_check_returns_or_raises_as_checked_does(opts: dict[str, Any], value: Any) -> None:
    bound = field_check("field", **opts)
    expected = _outcome(lambda v: checked("field", v, **opts), value)
    got = _outcome(bound, value)
    if expected[0] == "float" and expected[1] != expected[1]:  # NaN: no bounds, passed through
        assert got[0] == "float" and got[1] != got[1]
    else:
        assert got == expected


def test_the_generated_kinds_of_check() -> None:
    vote = field_check(
        "vote", required=True, allowed=("APPROVE", "REJECT", "ABSTAIN"), normalize="upper"
    )
    assert vote("approve") == "APPROVE"
    for bad in ("maybe", "", " "):
        try:
            vote(bad)
        except MacpValidationError as exc:
            assert exc.field == "vote"
        else:
            raise AssertionError(f"{bad!r} passed")
    proposal_id = field_check("proposal_id", required=True)
    assert proposal_id("p1") == "p1"
    confidence = field_check("confidence", minimum=0.0, maximum=1.0)
    assert confidence(0.5) == 0.5 and confidence(1) == 1
    for bad_number in (1.5, float("nan"), float("inf"), -1):
        try:
            confidence(bad_number)
        except MacpValidationError as exc:
            assert exc.field == "confidence"
        else:
            raise AssertionError(f"{bad_number!r} passed")
