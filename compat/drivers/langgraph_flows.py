"""langgraph-macp 0.1.3's main flows, as its README and (unshipped) example describe them.

The only stub is the LLM: LangChain's ``FakeListChatModel`` with canned answers, which is what
the package's own tests and default example use. Everything else is real: a LangGraph
``StateGraph`` with ``MacpConsensusNode``, the SDK under test, and the embedded runtime.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any, TypedDict

from _harness import check, exit_with

HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _answer(recommendation: str, confidence: float = 0.9, reason: str = "ok") -> str:
    return json.dumps(
        {"recommendation": recommendation, "confidence": confidence, "reason": reason}
    )


def _client(target: str, agent: str = "coordinator") -> Any:
    from macp_sdk import AuthConfig, MacpClient

    return MacpClient(target=target, allow_insecure=True, auth=AuthConfig.for_dev_agent(agent))


def _participants(answers: dict[str, str]) -> list[Any]:
    from langchain_core.language_models import FakeListChatModel
    from langgraph_macp import ConsensusParticipant, llm_evaluator

    return [
        ConsensusParticipant(pid, llm_evaluator(FakeListChatModel(responses=[text])))
        for pid, text in answers.items()
    ]


class State(TypedDict, total=False):
    transaction: dict[str, Any]
    risk: float
    proposal: dict[str, Any]
    macp: dict[str, Any]
    route: str


def _fraud_graph(node: Any) -> Any:
    """The README/example shape: score signals, settle through the node, route on the outcome."""
    from langgraph.graph import END, START, StateGraph

    def score(state: State) -> State:
        tx = state["transaction"]
        risk = 0.8 if tx["amount"] > 5000 else 0.2
        return {
            "risk": risk,
            "proposal": {
                "option": f"release transaction {tx['id']}",
                "rationale": f"risk score {risk}",
                "details": {"amount": tx["amount"], "risk": risk},
            },
        }

    def route(state: State) -> State:
        return {"route": "release" if state["macp"]["outcome"] == "approve" else "hold"}

    graph = StateGraph(State)
    graph.add_node("score", score)
    graph.add_node("consensus", node)
    graph.add_node("route", route)
    graph.add_edge(START, "score")
    graph.add_edge("score", "consensus")
    graph.add_edge("consensus", "route")
    graph.add_edge("route", END)
    return graph.compile()


def _check_committed(target: str, result: dict[str, Any], outcome: str) -> None:
    """The result is what the runtime recorded: session resolved, hash recomputes."""
    from macp.v1 import envelope_pb2
    from macp_sdk import commitment_from_projection, commitment_hash

    check(result["outcome"] == outcome, "outcome", result)
    check(bool(HASH.match(result["commitment_hash"])), "commitment hash format", result)
    payload = commitment_from_projection(result["commitment"])
    check(commitment_hash(payload) == result["commitment_hash"], "hash recomputes", result)
    suffix = "approved" if outcome == "approve" else "rejected"
    check(result["commitment"]["action"] == f"macp.consensus.{suffix}", "action", result)
    check(result["commitment"]["outcome_positive"] is (outcome == "approve"), "outcome_positive")
    client = _client(target)  # the initiator may read its session
    try:
        meta = client.get_session(result["session_id"]).metadata
    finally:
        client.close()
    check(meta.state == envelope_pb2.SESSION_STATE_RESOLVED, "session resolved", meta)
    check(meta.mode == result["mode"], "mode", meta.mode, result["mode"])


def import_client(target: str) -> None:
    import langgraph_macp

    for name in langgraph_macp.__all__:
        check(hasattr(langgraph_macp, name), f"langgraph_macp.{name}")


def decision_graph_approves(target: str) -> None:
    from langgraph_macp import MacpConsensusNode

    client = _client(target)
    node = MacpConsensusNode(
        client,
        _participants(
            {
                "fraud": _answer("APPROVE"),
                "growth": _answer("APPROVE"),
                "compliance": _answer("REJECT"),
            }
        ),
    )
    final = _fraud_graph(node).invoke({"transaction": {"id": "tx-1", "amount": 120}})
    client.close()
    result = final["macp"]
    _check_committed(target, result, "approve")
    check(final["route"] == "release", "route", final)
    check((result["approvals"], result["threshold"]) == (2, 2), "tally", result)
    check(result["mode"] == "macp.mode.decision.v1", "mode", result)
    check(result["commitment"]["reason"] == "2/3 approvals (threshold 2)", "reason", result)


def decision_graph_rejects(target: str) -> None:
    from langgraph_macp import MacpConsensusNode

    client = _client(target)
    node = MacpConsensusNode(
        client,
        _participants(
            {
                "fraud": _answer("BLOCK"),
                "growth": _answer("REJECT"),
                "compliance": _answer("APPROVE"),
            }
        ),
    )
    final = _fraud_graph(node).invoke({"transaction": {"id": "tx-2", "amount": 9000}})
    client.close()
    _check_committed(target, final["macp"], "reject")
    check(final["route"] == "hold", "route", final)
    check(final["macp"]["approvals"] == 0, "approvals", final["macp"])


def quorum_graph_approves(target: str) -> None:
    from langgraph_macp import MacpConsensusNode

    client = _client(target)
    node = MacpConsensusNode(
        client,
        _participants(
            {"alice": _answer("APPROVE"), "bob": _answer("REVIEW"), "carol": _answer("APPROVE")}
        ),
        mode="quorum",
        threshold=2,
        output_key="macp",
    )
    final = _fraud_graph(node).invoke({"transaction": {"id": "tx-3", "amount": 10}})
    client.close()
    result = final["macp"]
    _check_committed(target, result, "approve")
    check(result["mode"] == "macp.mode.quorum.v1", "mode", result)
    check(result["approvals"] == 2, "approvals", result)


def ainvoke_path(target: str) -> None:
    from langgraph_macp import MacpConsensusNode

    client = _client(target)
    node = MacpConsensusNode(
        client, _participants({"a": _answer("APPROVE"), "b": _answer("APPROVE")})
    )
    final = asyncio.run(_fraud_graph(node).ainvoke({"transaction": {"id": "tx-4", "amount": 1}}))
    client.close()
    _check_committed(target, final["macp"], "approve")


def custom_voter_sees_projection(target: str) -> None:
    """A participant's ``voter=`` (an SDK VotingStrategy) decides from the session projection."""
    from langgraph_macp import MacpConsensusNode
    from langgraph_macp.node import ConsensusParticipant

    seen: list[int] = []

    class Vote:
        def __init__(self, vote: str, reason: str) -> None:
            self.vote, self.reason = vote, reason

    class Contrarian:
        def should_vote(self, projection: Any) -> bool:
            seen.append(len(list(projection.evaluations)))
            return True

        def decide_vote(self, projection: Any) -> Any:
            return Vote("reject", "contrarian")

    participants = _participants({"a": _answer("APPROVE"), "b": _answer("APPROVE")})
    a, b = participants
    participants = [a, ConsensusParticipant(b.id, b.evaluator, voter=Contrarian())]
    client = _client(target)
    node = MacpConsensusNode(client, participants, threshold=2)
    final = node.invoke({"proposal": "adopt the contrarian"})
    client.close()
    _check_committed(target, final["macp"], "reject")
    check(seen == [2], "the voter saw both evaluations in the projection", seen)


def unparseable_answer_abstains(target: str) -> None:
    from langgraph_macp import UNPARSEABLE, MacpConsensusNode, parse_evaluation

    parsed = parse_evaluation("```json\n" + _answer("approve", 1, "fenced") + "\n```")
    check((parsed.recommendation, parsed.confidence) == ("APPROVE", 1.0), "fence", parsed)
    garbled = parse_evaluation("I think yes")
    check((garbled.recommendation, garbled.reason) == ("REVIEW", UNPARSEABLE), "garbled", garbled)
    client = _client(target)
    node = MacpConsensusNode(
        client,
        _participants({"a": _answer("APPROVE"), "b": "no idea", "c": _answer("APPROVE")}),
    )
    final = node.invoke({"proposal": {"option": "ship", "details": {"n": 1}}})
    client.close()
    _check_committed(target, final["macp"], "approve")


def evaluator_failure_cancels(target: str) -> None:
    from langgraph_macp import ConsensusParticipant, MacpConsensusNode
    from macp.v1 import envelope_pb2

    sessions: list[str] = []

    def broken(proposal: dict[str, Any], info: Any) -> dict[str, Any]:
        sessions.append(info.session_id)
        raise RuntimeError("evaluator exploded")

    client = _client(target)
    node = MacpConsensusNode(client, [ConsensusParticipant("a", broken)])
    try:
        node.invoke({"proposal": "doomed"})
    except RuntimeError as error:
        check("exploded" in str(error), "the evaluator's error is re-raised", error)
    else:
        raise AssertionError("the node did not re-raise")
    state = client.get_session(sessions[0]).metadata.state
    client.close()
    check(state == envelope_pb2.SESSION_STATE_CANCELLED, "session cancelled", state)


def _result(target: str) -> dict[str, Any]:
    from langgraph_macp import MacpConsensusNode

    client = _client(target)
    node = MacpConsensusNode(client, _participants({"a": _answer("APPROVE")}))
    final = node.invoke({"proposal": "receipt me"})
    client.close()
    return dict(final["macp"])


def receipt_integrity_only(target: str) -> None:
    from langgraph_macp import consensus_receipt
    from macp_sdk import verify_receipt

    result = _result(target)
    receipt = consensus_receipt(result, issuer="did:web:example.com")
    check(receipt["receipt_format"] == "macp-receipt/1", "format", receipt)
    verdict = verify_receipt(receipt, {})
    check(verdict["verdict"] == "integrity_only", "verdict", verdict)


def receipt_attested(target: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from langgraph_macp import consensus_receipt
    from macp_sdk import ReceiptSigner, verify_receipt

    seed = bytes(range(32))
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    x = base64.urlsafe_b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    result = _result(target)
    receipt = consensus_receipt(
        result,
        issuer="did:web:example.com",
        issued_at="2026-01-02T03:04:05Z",
        signer=ReceiptSigner("k1", private_key=seed),
    )
    verdict = verify_receipt(receipt, {"k1": x.rstrip(b"=").decode()})
    check(verdict["verdict"] == "attested", "verdict", verdict)
    check(verify_receipt(receipt, {})["verdict"] == "integrity_only", "untrusted key")


FLOWS = [
    import_client,
    decision_graph_approves,
    decision_graph_rejects,
    quorum_graph_approves,
    ainvoke_path,
    custom_voter_sees_projection,
    unparseable_answer_abstains,
    evaluator_failure_cancels,
    receipt_integrity_only,
    receipt_attested,
]

if __name__ == "__main__":
    exit_with(FLOWS)
