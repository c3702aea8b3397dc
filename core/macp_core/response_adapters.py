"""Typed results some generated client methods return instead of the raw response.

A method gets one through its `(macp.sdk.v1.rpc).response_adapter` option; the functions here
are semantics (parsing the runtime's JSON), the choice of RPC lives in the proto.
"""

from __future__ import annotations

from macp.v1 import core_pb2

from .receipt import DecisionReceiptResult, ReceiptKeySet, receipt_keys_from_proto


def decision_receipt_result(response: core_pb2.GetDecisionReceiptResponse) -> DecisionReceiptResult:
    """The receipt parsed (`receipt`, ready for verify_receipt) and verbatim (`raw`)."""
    return DecisionReceiptResult.from_proto(response)


def receipt_key_set(response: core_pb2.GetReceiptKeysResponse) -> ReceiptKeySet:
    """The runtime's receipt verification keys as a JWK Set (`{"keys": []}` when unsigned)."""
    return receipt_keys_from_proto(response)
