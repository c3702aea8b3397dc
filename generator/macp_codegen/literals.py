"""The one way a value from a proto or its options becomes Python source.

The model keeps values as values; templates print them through the `py` filter, and the model
fills a literal (a parameter default) through `python_literal` too, so escaping is decided
here only.
"""

from __future__ import annotations

import math

# What json.dumps(value, ensure_ascii=False) returns for a str, without building an encoder
# per call (templates print tens of thousands of literals in a large generation).
from json.encoder import encode_basestring as _json_string


def python_literal(value: str | int | float | bool | None) -> str:
    """Python source that evaluates to `value`.

    Strings are written as JSON strings: every JSON string is a valid double-quoted Python
    literal with the same value (its escapes `\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX` mean the
    same in Python, and it never holds a raw control character), and non-ASCII text stays
    readable.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} has no Python literal")
    if isinstance(value, (int, float)):
        return repr(value)
    raise TypeError(f"no Python literal for {type(value).__name__}")
