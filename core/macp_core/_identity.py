"""The client-side identity guard: which ``Envelope.sender`` a call sends with its auth.

Apart from :mod:`macp_core.auth` (which re-exports :func:`resolve_sender`) because every send
runs it while :class:`~macp_core.auth.AuthConfig` is a dataclass, costly to define: a session
or client class imports this without paying for the credential class until one is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import MacpIdentityMismatchError

if TYPE_CHECKING:
    from .auth import AuthConfig


def _suggest(sender: str) -> str:
    return (
        f"pass auth=AuthConfig.for_dev_agent({sender!r}) on a dev runtime, or "
        f"auth=AuthConfig.for_bearer(<token issued to {sender!r}>, expected_sender={sender!r})"
    )


def resolve_sender(sender: str | None, auth: AuthConfig | None) -> str:
    """The ``Envelope.sender`` to send with ``auth``.

    An explicit ``sender`` wins; otherwise the auth's known identity; otherwise ``""`` (the
    runtime fills in the authenticated identity). When the auth names the identity it
    authenticates as, a different sender raises :class:`MacpIdentityMismatchError` naming the
    auth that would be needed.
    """
    known = (auth.expected_sender or auth.sender_hint) if auth is not None else None
    resolved = sender if sender else (known or "")
    expected = auth.expected_sender if auth is not None else None
    if expected and resolved != expected:
        raise MacpIdentityMismatchError(
            expected,
            resolved,
            f"sender {resolved!r} cannot match the authenticated identity {expected!r}: "
            f"the runtime binds the sender to the credential. To send as {resolved!r}, "
            + _suggest(resolved),
        )
    return resolved
