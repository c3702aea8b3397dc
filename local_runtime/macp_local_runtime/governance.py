"""GetDecisionReceipt, GetReceiptKeys and WhatIfReplay: lookup, authorization and errors.

The servicer makes one call per RPC; failures are StatusErrors whose text starts with the
MACP code (`RECEIPT_UNAVAILABLE: ...`), which clients read as the error's code.
"""

from __future__ import annotations

import grpc
from macp.v1 import core_pb2, policy_pb2

from .auth import Identity
from .errors import StatusError
from .kernel import Kernel
from .policy import policy_from_descriptor
from .receipts import ReceiptIssuer, ReceiptUnavailable
from .registry import ModeRegistry
from .session import Session
from .what_if import CandidateRejected, what_if_replay


class Governance:
    def __init__(self, kernel: Kernel, modes: ModeRegistry) -> None:
        self._kernel = kernel
        self._modes = modes
        self.issuer = ReceiptIssuer()

    def _observed(self, session_id: str, identity: Identity) -> Session:
        """Authorized like GetSession: participants, the initiator and observers."""
        session = self._kernel.session(session_id)
        if session is None:
            raise StatusError(
                grpc.StatusCode.NOT_FOUND,
                code="SESSION_NOT_FOUND",
                message=f"SESSION_NOT_FOUND: session '{session_id}' not found",
            )
        if not session.may_observe(identity.sender, identity.is_observer):
            raise StatusError(
                grpc.StatusCode.PERMISSION_DENIED,
                code="FORBIDDEN",
                message="FORBIDDEN: session access denied",
            )
        return session

    def decision_receipt(
        self, session_id: str, identity: Identity
    ) -> core_pb2.GetDecisionReceiptResponse:
        session = self._observed(session_id, identity)
        try:
            with session.lock:
                text = self.issuer.receipt_json(session)
        except ReceiptUnavailable as error:
            raise StatusError(
                grpc.StatusCode.FAILED_PRECONDITION,
                code="RECEIPT_UNAVAILABLE",
                message=f"RECEIPT_UNAVAILABLE: {error}",
            ) from None
        return core_pb2.GetDecisionReceiptResponse(receipt_json=text)

    def receipt_keys(self) -> core_pb2.GetReceiptKeysResponse:
        return core_pb2.GetReceiptKeysResponse(jwks_json=self.issuer.jwks_json())

    def what_if(
        self, request: policy_pb2.WhatIfReplayRequest, identity: Identity
    ) -> policy_pb2.WhatIfReplayResponse:
        if not request.HasField("candidate"):
            raise StatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                code="INVALID_REQUEST",
                message="INVALID_REQUEST: a candidate policy is required",
            )
        session = self._observed(request.session_id, identity)
        entry = self._modes.get(session.mode)
        if entry is None:  # an extension mode unregistered since the session started
            raise StatusError(
                grpc.StatusCode.FAILED_PRECONDITION,
                code="MODE_NOT_SUPPORTED",
                message=f"MODE_NOT_SUPPORTED: mode {session.mode!r} is no longer registered",
            )
        try:
            candidate = policy_from_descriptor(request.candidate)
            with session.lock:
                return what_if_replay(session, candidate, entry.new_rules)
        except (ValueError, CandidateRejected) as error:
            raise StatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                code="INVALID_POLICY_DEFINITION",
                message=f"INVALID_POLICY_DEFINITION: {error}",
            ) from None
