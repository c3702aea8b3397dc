"""Credentials sent on every RPC, and the client-side identity guard.

The runtime binds the envelope ``sender`` to the authenticated identity and refuses a
mismatch; :func:`resolve_sender` catches that mistake before anything goes on the wire and
says which auth would have worked. Tokens never appear in ``repr()``, logs or error text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._identity import resolve_sender as resolve_sender  # re-exported
from .errors import MacpValidationError

AUTHORIZATION_HEADER = "authorization"
BEARER_PREFIX = "Bearer "


def _check_token(token: str) -> None:
    # The value is deliberately left out of the error: it is a secret.
    if not isinstance(token, str) or not token.strip():
        raise MacpValidationError("token", "<empty>", "a non-empty bearer token")
    if any(ch in token for ch in "\r\n\t ") or not token.isprintable():
        raise MacpValidationError(
            "token", "<redacted>", "a token without whitespace or control characters"
        )


@dataclass(frozen=True)
class AuthConfig:
    """A bearer credential plus what the SDK knows about the identity it authenticates as.

    ``sender_hint`` fills ``Envelope.sender`` when no ``sender=`` is given;
    ``expected_sender`` (when set) is enforced: a resolved sender that differs raises
    :class:`MacpIdentityMismatchError` before sending.
    """

    bearer_token: str = field(repr=False)
    sender_hint: str | None = None
    expected_sender: str | None = None

    def __post_init__(self) -> None:
        _check_token(self.bearer_token)

    @classmethod
    def for_dev_agent(cls, agent_id: str, *, expected_sender: str | None = None) -> AuthConfig:
        """Dev-mode identity: sends ``authorization: Bearer <agent_id>``; the runtime (started
        with ``MACP_ALLOW_INSECURE=1`` and no token map) binds ``agent_id`` as the sender."""
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise MacpValidationError("agent_id", agent_id, "a non-empty agent id")
        return cls(
            bearer_token=agent_id,
            sender_hint=agent_id,
            expected_sender=expected_sender if expected_sender is not None else agent_id,
        )

    @classmethod
    def for_bearer(
        cls,
        token: str,
        *,
        expected_sender: str | None = None,
        sender_hint: str | None = None,
    ) -> AuthConfig:
        """A token issued by the deployment (static token or JWT).

        Pass ``expected_sender`` (the identity the token maps to) to get the client-side guard.
        """
        return cls(
            bearer_token=token,
            sender_hint=sender_hint if sender_hint is not None else expected_sender,
            expected_sender=expected_sender,
        )

    @property
    def sender(self) -> str | None:
        """The sender hint (what 0.22.0 returned); ``resolve_sender`` also honours
        ``expected_sender``."""
        return self.sender_hint

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """gRPC metadata carrying the credential."""
        return ((AUTHORIZATION_HEADER, BEARER_PREFIX + self.bearer_token),)

    def __repr__(self) -> str:
        return (
            f"AuthConfig(bearer_token=<redacted>, sender_hint={self.sender_hint!r}, "
            f"expected_sender={self.expected_sender!r})"
        )

    __str__ = __repr__
