"""Session id format (runtime-behavior.md §3.1 step 2)."""

from __future__ import annotations

import re

_UUID_SHAPE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_LOWER_UUID_V4_V7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{22,}")


def is_valid_session_id(session_id: str) -> bool:
    """A lowercase UUID v4/v7, or a base64url token of at least 22 characters.

    Anything shaped like a UUID must be a lowercase v4/v7 one, even though its characters
    would also pass as base64url. Every pattern must match the whole id (`fullmatch`): with
    `match` and `$`, an id ending in "\\n" would pass.
    """
    if _UUID_SHAPE.fullmatch(session_id):
        return _LOWER_UUID_V4_V7.fullmatch(session_id) is not None
    return _BASE64URL.fullmatch(session_id) is not None
