"""Client-side checks that generated builders apply before anything is sent.

Which checks a field gets comes from the mode proto's options; this module only knows how to
apply them. Failures raise MacpValidationError naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

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


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"a number from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"a number >= {minimum:g}"
    return f"a number <= {maximum:g}"
