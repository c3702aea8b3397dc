"""How a client opens its channel: plaintext, TLS with optional custom roots, or mutual TLS.

A dataclass, so apart from ``_requests``: it is defined when the first client is made, not
when the client class is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from ._logging import get_logger
from .envelope import validate_required
from .errors import MacpValidationError

logger = get_logger("client")


@dataclass(frozen=True)
class ChannelSettings:
    """How to open the channel: plaintext, TLS with optional custom roots, or mutual TLS."""

    target: str
    secure: bool
    root_certificates: bytes | None = None
    private_key: bytes | None = None
    certificate_chain: bytes | None = None
    options: tuple[tuple[str, str | int | bool], ...] = ()

    def __post_init__(self) -> None:
        validate_required("target", self.target)
        if not self.secure and (
            self.root_certificates or self.private_key or self.certificate_chain
        ):
            raise MacpValidationError(
                "secure", False, "True when certificates are given (they need TLS)"
            )
        if (self.private_key is None) != (self.certificate_chain is None):
            raise MacpValidationError(
                "private_key/certificate_chain",
                "<one given>",
                "both (mutual TLS) or neither",
            )

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def warn_if_insecure(self) -> None:
        if not self.secure:
            logger.warning(
                "plaintext channel to %s: traffic and credentials are not encrypted "
                "(secure=False); use TLS outside local development",
                self.target,
            )
