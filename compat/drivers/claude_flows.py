"""claude-agent-sdk-macp 0.1.3's main flows, as its README describes them.

The only stub is the model: every function of the package takes ``query=``, a stand-in for
``claude_agent_sdk.query`` that yields a ``ResultMessage`` with ``structured_output`` (the
README's "Testing without a model", which its own tests and default example use). The
subagent definitions, the ``consensus`` MCP tool (called through an in-memory MCP client),
the SDK under test and the embedded runtime are all real.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from _harness import check, exit_with

HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _message(**fields: Any) -> Any:
    from claude_agent_sdk import ResultMessage

    base: dict[str, Any] = {
        "subtype": "success",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "is_error": False,
        "num_turns": 1,
        "session_id": "stub",
    }
    base.update(fields)
    return ResultMessage(**base)


class StubQuery:
    """``query(*, prompt, options)``: one canned answer per subagent, keyed by its prompt."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.prompts: list[dict[str, Any]] = []
        self.options: list[Any] = []

    def __call__(self, *, prompt: str, options: Any) -> AsyncIterator[Any]:
        self.prompts.append(json.loads(prompt))
        self.options.append(options)
        role = options.system_prompt.split("\n", 1)[0]
        answer = self.answers[role]
        return self._stream(answer)

    @staticmethod
    async def _stream(answer: Any) -> AsyncIterator[Any]:
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, dict):
            yield _message(structured_output=answer)
        else:
            yield answer


def _verdict(recommendation: str, confidence: float = 0.9) -> dict[str, Any]:
    return {"recommendation": recommendation, "confidence": confidence, "reason": "stub"}


def _agents(*roles: str) -> dict[str, Any]:
    from claude_agent_sdk import AgentDefinition

    return {
        role: AgentDefinition(description=f"{role} review", prompt=f"You review {role}.")
        for role in roles
    }


def _client(target: str, agent: str = "coordinator") -> Any:
    from macp_sdk import AuthConfig, MacpClient

    return MacpClient(target=target, allow_insecure=True, auth=AuthConfig.for_dev_agent(agent))


def _session_state(target: str, session_id: str) -> int:
    client = _client(target)  # the initiator may read its session
    try:
        return int(client.get_session(session_id).metadata.state)
    finally:
        client.close()


def _check_committed(target: str, result: dict[str, Any], outcome: str) -> None:
    from macp.v1 import envelope_pb2
    from macp_sdk import commitment_from_projection, commitment_hash

    check(result["outcome"] == outcome, "outcome", result)
    check(bool(HASH.match(result["commitment_hash"])), "hash format", result)
    recomputed = commitment_hash(commitment_from_projection(result["commitment"]))
    check(recomputed == result["commitment_hash"], "hash recomputes", result)
    state = _session_state(target, result["session_id"])
    check(state == envelope_pb2.SESSION_STATE_RESOLVED, "session resolved", state)


def import_client(target: str) -> None:
    import claude_agent_sdk_macp

    for name in claude_agent_sdk_macp.__all__:
        check(hasattr(claude_agent_sdk_macp, name), f"claude_agent_sdk_macp.{name}")


def consensus_with_subagents(target: str) -> None:
    """The README quick start: three AgentDefinitions, Decision mode, approve."""
    from claude_agent_sdk_macp import DEFAULT_MODEL, EVALUATION_SCHEMA, macp_consensus

    query = StubQuery(
        {
            "You review security.": _verdict("APPROVE"),
            "You review sre.": _verdict("REJECT"),
            "You review product.": _verdict("APPROVE"),
        }
    )
    client = _client(target)
    result = asyncio.run(
        macp_consensus(
            client,
            "ship v2 to all users",
            agents=_agents("security", "sre", "product"),
            query=query,
        )
    )
    client.close()
    _check_committed(target, result, "approve")
    check((result["approvals"], result["threshold"]) == (2, 2), "tally", result)
    check(len(query.prompts) == 3, "one query() per subagent", query.prompts)
    check(query.prompts[0]["option"] == "ship v2 to all users", "prompt", query.prompts[0])
    opts = query.options[0]
    check(opts.model == DEFAULT_MODEL, "model", opts.model)
    check(opts.output_format["schema"] == EVALUATION_SCHEMA, "output schema", opts.output_format)


def consensus_quorum_rejects(target: str) -> None:
    from claude_agent_sdk_macp import macp_consensus

    query = StubQuery(
        {
            "You review security.": _verdict("BLOCK"),
            "You review sre.": _verdict("REVIEW"),
            "You review product.": _verdict("APPROVE"),
        }
    )
    client = _client(target)
    result = asyncio.run(
        macp_consensus(
            client,
            {"option": "open the firewall", "rationale": "debugging", "details": {"port": 22}},
            agents=_agents("security", "sre", "product"),
            mode="quorum",
            query=query,
        )
    )
    client.close()
    _check_committed(target, result, "reject")
    check(result["mode"] == "macp.mode.quorum.v1", "mode", result)
    check(result["commitment"]["action"] == "macp.consensus.rejected", "action", result)


def participants_mixed_evaluators(target: str) -> None:
    """``participants=``: a Claude subagent next to a plain function evaluator."""
    from claude_agent_sdk_macp import ConsensusParticipant, claude_evaluator, macp_consensus

    query = StubQuery({"You review security.": _verdict("APPROVE")})
    participants = [
        ConsensusParticipant(
            "security", claude_evaluator(_agents("security")["security"], query=query)
        ),
        ConsensusParticipant(
            "rules",
            lambda proposal, info: {
                "recommendation": "APPROVE",
                "confidence": 1,
                "reason": "in policy",
            },
        ),
    ]
    client = _client(target)
    result = asyncio.run(
        macp_consensus(client, "rotate keys", participants=participants, threshold=2)
    )
    client.close()
    _check_committed(target, result, "approve")
    check(result["approvals"] == 2, "approvals", result)


def consensus_tool_over_mcp(target: str) -> None:
    """A lead agent's view: ``mcp__macp__consensus`` called through an MCP client."""
    from claude_agent_sdk_macp import macp_consensus_server
    from mcp import Client

    seen: list[dict[str, Any]] = []

    async def on_result(result: dict[str, Any]) -> None:
        seen.append(result)

    query = StubQuery(
        {"You review security.": _verdict("APPROVE"), "You review sre.": _verdict("APPROVE")}
    )
    client = _client(target)
    server = macp_consensus_server(
        client, agents=_agents("security", "sre"), on_result=on_result, query=query
    )
    check(server["name"] == "macp", "server name", server)

    async def call() -> Any:
        async with Client(server["instance"]) as mcp_client:
            tools = (await mcp_client.list_tools()).tools
            check([t.name for t in tools] == ["consensus"], "tools", tools)
            return await mcp_client.call_tool(
                "consensus", {"option": "ship it", "details": {"build": 7}}
            )

    answer = asyncio.run(call())
    client.close()
    check(not answer.is_error, "tool error", answer)
    result = json.loads(answer.content[0].text)
    _check_committed(target, result, "approve")
    check(seen == [result], "on_result saw the result", seen)


def failed_run_cancels(target: str) -> None:
    """A failed ``query()`` run raises MacpSdkError and the session is cancelled."""
    from claude_agent_sdk_macp import ConsensusParticipant, claude_evaluator, macp_consensus
    from macp.v1 import envelope_pb2
    from macp_sdk import MacpSdkError

    sessions: list[str] = []

    def recorder(proposal: dict[str, Any], info: Any) -> dict[str, Any]:
        sessions.append(info.session_id)
        return _verdict("APPROVE")

    query = StubQuery(
        {
            "You review security.": _message(
                subtype="error_max_turns", is_error=True, errors=["too many turns"]
            )
        }
    )
    participants = [
        ConsensusParticipant("recorder", recorder),
        ConsensusParticipant(
            "security", claude_evaluator(_agents("security")["security"], query=query)
        ),
    ]
    client = _client(target)
    try:
        asyncio.run(macp_consensus(client, "doomed", participants=participants))
    except MacpSdkError as error:
        check("error_max_turns" in str(error), "error text", error)
    else:
        raise AssertionError("macp_consensus did not raise")
    finally:
        client.close()
    state = _session_state(target, sessions[0])
    check(state == envelope_pb2.SESSION_STATE_CANCELLED, "session cancelled", state)


def tool_failure_is_error_result(target: str) -> None:
    """A failing vote comes back as ``consensus failed: ...``, not an exception."""
    from claude_agent_sdk_macp import consensus_tool

    query = StubQuery({"You review security.": RuntimeError("model unavailable")})
    client = _client(target)
    tool = consensus_tool(client, agents=_agents("security"), query=query)
    answer = asyncio.run(tool.handler({"option": "ship"}))
    client.close()
    check(answer.get("is_error") is True, "is_error", answer)
    check(answer["content"][0]["text"].startswith("consensus failed: "), "text", answer)


def receipt_integrity_only(target: str) -> None:
    from claude_agent_sdk_macp import consensus_receipt, macp_consensus
    from macp_sdk import verify_receipt

    query = StubQuery({"You review security.": _verdict("APPROVE")})
    client = _client(target)
    result = asyncio.run(
        macp_consensus(client, "audit me", agents=_agents("security"), query=query)
    )
    client.close()
    receipt = consensus_receipt(result, issuer="did:web:example.com")
    check(verify_receipt(receipt, {})["verdict"] == "integrity_only", "verdict", receipt)


FLOWS = [
    import_client,
    consensus_with_subagents,
    consensus_quorum_rejects,
    participants_mixed_evaluators,
    consensus_tool_over_mcp,
    failed_run_cancels,
    tool_failure_is_error_result,
    receipt_integrity_only,
]

if __name__ == "__main__":
    exit_with(FLOWS)
