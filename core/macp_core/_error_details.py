"""The structured parts of an SDK error: a refused Ack's fields and a refusal's details.

They live apart from :mod:`macp_core.errors` (which re-exports them) because they are
dataclasses: defining a dataclass costs more than the rest of the error hierarchy, and only a
refusal needs them, so ``import macp_sdk`` does not pay for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PolicyDenial:
    """One structured reason a governance policy refused a Commitment."""

    code: str
    message: str = ""
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorDetails:
    reasons: tuple[str, ...] = ()
    denials: tuple[PolicyDenial, ...] = ()


def parse_error_details(details: bytes | str | None) -> ErrorDetails:
    """Decode ``MACPError.details`` (JSON ``{"reasons": [...], "denials": [...]}``).

    Never raises: anything that is not that shape yields empty details.
    """
    if not details:
        return ErrorDetails()
    try:
        raw = details.decode("utf-8") if isinstance(details, bytes) else details
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return ErrorDetails()
    if not isinstance(doc, dict):
        return ErrorDetails()
    reasons = tuple(str(r) for r in doc.get("reasons") or () if isinstance(r, str | int | float))
    denials: list[PolicyDenial] = []
    for item in doc.get("denials") or ():
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            people = item.get("participants") or ()
            denials.append(
                PolicyDenial(
                    code=item["code"],
                    message=str(item.get("message", "")),
                    participants=tuple(str(p) for p in people if isinstance(p, str)),
                )
            )
    return ErrorDetails(reasons=reasons, denials=tuple(denials))


@dataclass(frozen=True)
class AckFailure:
    """The fields of a refused Ack (or of a gRPC error that carries a MACP code)."""

    code: str
    message: str = ""
    session_id: str = ""
    message_id: str = ""
    reasons: tuple[str, ...] = ()
    denials: tuple[PolicyDenial, ...] = field(default=())
