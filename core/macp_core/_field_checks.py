"""Client-side checks that generated builders apply before anything is sent.

Which checks a field gets comes from the mode proto's options; this module only knows how to
apply them. Failures raise MacpValidationError naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, cast

from .errors import MacpValidationError

_Value = TypeVar("_Value", str, bytes, int, float, bool)


def checked(
    name: str,
    value: _Value,
    *,
    required: bool = False,
    allowed: Sequence[str] = (),
    normalize: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
) -> _Value:
    """Returns the value to send (normalised) or raises MacpValidationError."""
    if isinstance(value, str):
        # Inline rather than a helper call: this runs for every field of every action sent.
        if normalize == "upper":
            text = value.upper()
        elif normalize == "lower":
            text = value.lower()
        else:
            text = value
        if required and not text.strip():
            raise MacpValidationError(name, value, "a non-empty string")
        if allowed and text not in allowed:
            raise MacpValidationError(name, value, "one of " + ", ".join(allowed))
        return text
    if isinstance(value, bytes):
        if required and not value:
            raise MacpValidationError(name, value, "non-empty bytes")
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise MacpValidationError(name, value, "a finite number")
    if minimum is not None and value < minimum:
        raise MacpValidationError(name, value, _range_text(minimum, maximum))
    if maximum is not None and value > maximum:
        raise MacpValidationError(name, value, _range_text(minimum, maximum))
    if required and not value:
        raise MacpValidationError(name, value, "a non-zero number")
    return value


class FieldCheck(Protocol):
    """One field's check as a function of the value alone (see :func:`field_check`)."""

    def __call__(self, value: _Value, /) -> _Value: ...


_FOLDS = {"upper": str.upper, "lower": str.lower}


def field_check(
    name: str,
    *,
    required: bool = False,
    allowed: Sequence[str] = (),
    normalize: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
) -> FieldCheck:
    """:func:`checked` with the options bound, made once per field when a mode module loads.

    Builders run one per checked field of every action sent: a valid string, int or float
    returns here without a keyword-argument call; any other value, and every failure, goes
    through :func:`checked`, which normalises it or raises the error naming the field.
    """
    allowed = tuple(allowed)

    def slow(value: Any) -> Any:
        return checked(
            name,
            value,
            required=required,
            allowed=allowed,
            normalize=normalize,
            minimum=minimum,
            maximum=maximum,
        )

    fold = _FOLDS.get(normalize)
    if allowed:
        # A blank allowed value fails a required check, so it never takes the fast path.
        accepted = frozenset(v for v in allowed if v.strip() or not required)
        # The spellings callers write (as allowed, upper, lower, capitalised) -> the value
        # to send, so a valid one costs one dict lookup and no case fold; any other spelling
        # goes through checked(), which folds it and accepts it or raises.
        spellings = {
            spelling: spelling if fold is None else fold(spelling)
            for value in accepted
            for spelling in (value, value.upper(), value.lower(), value.capitalize())
        }
        choices = {k: v for k, v in spellings.items() if v in accepted}.get

        def check_choice(value: Any) -> Any:
            if value.__class__ is str:
                text = choices(value)
                if text is not None:
                    return text
            return slow(value)

        return cast(FieldCheck, check_choice)
    if minimum is not None or maximum is not None:
        # Finite bounds: NaN and infinities fail the comparison and get checked()'s error.
        low = -sys.float_info.max if minimum is None else minimum
        high = sys.float_info.max if maximum is None else maximum

        def check_number(value: Any) -> Any:
            kind = value.__class__
            if (kind is float or kind is int) and low <= value <= high and (value or not required):
                return value
            return slow(value)

        return cast(FieldCheck, check_number)
    # The common text checks get their own closures: one test each on the fast path.
    if fold is None and required:

        def check_required_text(value: Any) -> Any:
            if value.__class__ is str and value.strip():
                return value
            return slow(value)

        return cast(FieldCheck, check_required_text)
    if fold is None:

        def check_any_text(value: Any) -> Any:
            return value if value.__class__ is str else slow(value)

        return cast(FieldCheck, check_any_text)

    def check_text(value: Any) -> Any:
        if value.__class__ is str:
            text = fold(value)
            if not required or text.strip():
                return text
        return slow(value)

    return cast(FieldCheck, check_text)


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"a number from {_number(minimum)} to {_number(maximum)}"
    if minimum is not None:
        return f"a number >= {_number(minimum)}"
    return f"a number <= {_number(maximum)}"


def _number(bound: float | None) -> str:
    """Bounds are floats in the options; a whole one prints as an integer (100000000, not
    1e+08), since int64 fields are bounded by whole numbers."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return repr(bound)


def exactly_one(group: str, **members: object) -> None:
    """A oneof takes exactly one member: raises MacpValidationError naming the others."""
    given = [name for name, value in members.items() if value is not None]
    if len(given) != 1:
        raise MacpValidationError(
            group,
            tuple(given),
            "exactly one of " + ", ".join(members),
            hint="pass one member of the oneof; the runtime would keep only the last",
        )
