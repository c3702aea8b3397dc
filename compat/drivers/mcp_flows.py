"""macp-mcp 0.2.0's main flows, as its README describes them.

Nothing is stubbed (the package calls no LLM: the model is the MCP client, here an in-memory
``mcp.Client`` making the tool calls a model would make). Two agents each run their own
macp-mcp server and drive one Decision session; the ``macp-mcp`` command serves over stdio;
and the tool-call gate opens Quorum and Decision sessions that approvers settle with the SDK
under test, in front of an in-memory upstream MCP server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
from typing import Any

from _harness import check, exit_with

HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _settings(target: str, agent: str) -> Any:
    from macp_mcp.config import Settings

    return Settings(target=target, agent_id=agent, allow_insecure=True, replay_idle_ms=300)


def _structured(result: Any) -> dict[str, Any]:
    check(not result.is_error, "tool error", [c.text for c in result.content])
    if result.structured_content is not None:
        return dict(result.structured_content)
    return dict(json.loads(result.content[0].text))


def _error_text(result: Any) -> str:
    check(bool(result.is_error), "expected a tool error", result)
    return str(result.content[0].text)


def import_client(target: str) -> None:
    import macp_mcp.bridge
    import macp_mcp.gate
    import macp_mcp.server

    check(macp_mcp.__version__ == "0.2.0", "version", macp_mcp.__version__)
    for name in macp_mcp.gate.__all__:
        check(hasattr(macp_mcp.gate, name), f"macp_mcp.gate.{name}")
    check(callable(macp_mcp.server.build_server), "build_server")


def decision_over_mcp_tools(target: str) -> None:
    """Two agents, one server each: start, propose, evaluate, vote, commit, read and verify."""
    from macp_mcp.server import build_server
    from mcp import Client

    async def flow() -> None:
        async with (
            Client(build_server(_settings(target, "coordinator"))) as lead,
            Client(build_server(_settings(target, "alice"))) as alice,
        ):
            names = sorted(t.name for t in (await lead.list_tools()).tools)
            check(
                names
                == [
                    "commit",
                    "evaluate",
                    "get_commitment",
                    "get_session",
                    "propose",
                    "start_session",
                    "verify",
                    "vote",
                ],
                "tools",
                names,
            )
            started = _structured(
                await lead.call_tool(
                    "start_session", {"intent": "pick a plan", "participants": ["alice"]}
                )
            )
            sid = started["session_id"]
            check(started["ok"] and started["session_state"] == "OPEN", "started", started)
            check(started["participants"] == ["coordinator", "alice"], "members", started)
            _structured(
                await lead.call_tool(
                    "propose",
                    {
                        "session_id": sid,
                        "proposal_id": "p1",
                        "option": "canary",
                        "rationale": "safe",
                    },
                )
            )
            _structured(
                await alice.call_tool(
                    "evaluate",
                    {
                        "session_id": sid,
                        "proposal_id": "p1",
                        "recommendation": "APPROVE",
                        "confidence": 0.8,
                        "reason": "fine",
                    },
                )
            )
            for agent in (alice, lead):
                voted = _structured(
                    await agent.call_tool(
                        "vote", {"session_id": sid, "proposal_id": "p1", "vote": "APPROVE"}
                    )
                )
                check(voted["vote"] == "APPROVE", "vote", voted)
            view = _structured(await alice.call_tool("get_session", {"session_id": sid}))
            check(view["state"] == "OPEN" and view["you"] == "alice", "view", view)
            check([p["option"] for p in view["proposals"]] == ["canary"], "proposals", view)
            check(len(view["evaluations"]) == 1 and len(view["votes"]) == 2, "ballots", view)
            check(view["majority_winner"] == "p1", "winner", view)
            check(view["approve_totals"] == {"p1": 2}, "totals", view)
            pending = _structured(await lead.call_tool("get_commitment", {"session_id": sid}))
            check(pending["found"] is False, "no commitment yet", pending)
            refused = _error_text(
                await alice.call_tool(
                    "commit",
                    {
                        "session_id": sid,
                        "action": "deployment.approved",
                        "authority_scope": "release",
                        "reason": "p1 won",
                    },
                )
            )
            check(refused.startswith("FORBIDDEN: "), "non-initiator commit refused", refused)
            committed = _structured(
                await lead.call_tool(
                    "commit",
                    {
                        "session_id": sid,
                        "action": "deployment.approved",
                        "authority_scope": "release",
                        "reason": "p1 won",
                    },
                )
            )
            check(committed["session_state"] == "RESOLVED", "resolved", committed)
            got = _structured(await alice.call_tool("get_commitment", {"session_id": sid}))
            check(got["found"] and bool(HASH.match(got["commitment_hash"])), "commitment", got)
            check(got["commitment"]["action"] == "deployment.approved", "action", got)
            check(got["sender"] == "coordinator", "sender", got)
            by_history = _structured(
                await alice.call_tool(
                    "verify", {"commitment_hash": got["commitment_hash"], "session_id": sid}
                )
            )
            check(by_history["outcome"] == "match", "verify history", by_history)
            by_bytes = _structured(
                await lead.call_tool(
                    "verify",
                    {"commitment_hash": got["commitment_hash"], "payload_b64": got["payload_b64"]},
                )
            )
            check(by_bytes["outcome"] == "match", "verify bytes", by_bytes)
            wrong = "sha256:" + "0" * 64
            mismatch = _structured(
                await lead.call_tool(
                    "verify", {"commitment_hash": wrong, "payload_b64": got["payload_b64"]}
                )
            )
            check(mismatch["outcome"] == "mismatch", "mismatch", mismatch)
            closed = _error_text(
                await alice.call_tool(
                    "vote", {"session_id": sid, "proposal_id": "p1", "vote": "REJECT"}
                )
            )
            check(closed.startswith("SESSION_NOT_OPEN: "), "vote after commit", closed)

    asyncio.run(flow())


def stdio_command(target: str) -> None:
    """The installed ``macp-mcp`` command, as an MCP client launches it."""
    from mcp import Client, StdioServerParameters

    env = dict(os.environ)
    env.update(MACP_RUNTIME_TARGET=target, MACP_AGENT_ID="desk", MACP_ALLOW_INSECURE="1")
    # The MCP client only sees "Connection closed" when the server dies at start: say why.
    probe = subprocess.run(
        [sys.executable, "-c", "import macp_mcp.server"], capture_output=True, text=True, env=env
    )
    stderr_lines = probe.stderr.strip().splitlines()
    check(probe.returncode == 0, "the macp-mcp server imports", stderr_lines[-1:])
    params = StdioServerParameters(command=sys.executable, args=["-m", "macp_mcp"], env=env)

    async def flow() -> None:
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            check(len(tools) == 8, "tools", [t.name for t in tools])
            started = _structured(
                await client.call_tool(
                    "start_session", {"intent": "stdio", "participants": ["bob"]}
                )
            )
            check(started["initiator"] == "desk", "initiator", started)
            view = _structured(
                await client.call_tool("get_session", {"session_id": started["session_id"]})
            )
            check(view["participants"] == ["desk", "bob"], "participants", view)

    asyncio.run(flow())


async def _approve_when_open(
    target: str, cid: str, mode: str, ballots: dict[str, str], request_id: str
) -> None:
    """Approvers find the gate's session by context_id and vote with the SDK under test."""
    from macp_sdk import (
        AsyncDecisionSession,
        AsyncMacpClient,
        AsyncQuorumSession,
        AuthConfig,
    )

    client = AsyncMacpClient(
        target=target, allow_insecure=True, auth=AuthConfig.for_dev_agent("watcher")
    )
    try:
        sid = ""
        for _ in range(400):
            found = [m for m in await client.list_sessions() if m.context_id == cid]
            if found:
                sid = found[0].session_id
                break
            await asyncio.sleep(0.05)
        check(bool(sid), "the gate's session appeared")
        for voter, ballot in ballots.items():
            auth = AuthConfig.for_dev_agent(voter)
            if mode == "quorum":
                q = AsyncQuorumSession(client, session_id=sid)
                send = {"APPROVE": q.approve, "REJECT": q.reject}[ballot]
                await send(request_id, reason="compat", sender=voter, auth=auth)
            else:
                d = AsyncDecisionSession(client, session_id=sid)
                for _ in range(400):  # the Proposal follows SessionStart
                    try:
                        await d.vote(request_id, ballot, reason="compat", sender=voter, auth=auth)
                        break
                    except Exception as error:  # noqa: BLE001 - retried until proposed
                        last = error
                        await asyncio.sleep(0.05)
                else:
                    raise AssertionError(f"vote never accepted: {last}")
    finally:
        await client.close()


def _rule(mode: str, threshold: int) -> Any:
    from macp_mcp.gate import parse_policy

    policy = parse_policy(
        {
            "version": 1,
            "server": "files",
            "rules": [
                {
                    "tool": "write_*",
                    "mode": mode,
                    "participants": ["alice", "bob"],
                    "threshold": threshold,
                    "ttl_ms": 30000,
                }
            ],
        },
        "gate",
    )
    return policy


def gate_quorum_approves(target: str) -> None:
    from macp_mcp.gate import Approved, GateEngine, context_id

    policy = _rule("macp.mode.quorum.v1", 2)
    args = {"path": "/srv/a.txt", "content": "hi"}
    cid = context_id("files", "write_file", args)
    check(cid.startswith("sha256:") and len(cid) == 71, "context id", cid)

    async def flow() -> Any:
        engine = GateEngine(_settings(target, "gate"), poll_seconds=0.2)
        try:
            verdict, _ = await asyncio.gather(
                engine.decide(policy.rules[0], "files", "write_file", args),
                _approve_when_open(
                    target, cid, "quorum", {"alice": "APPROVE", "bob": "APPROVE"}, cid
                ),
            )
        finally:
            await engine.aclose()
        return verdict

    verdict = asyncio.run(flow())
    check(isinstance(verdict, Approved), "approved", verdict)
    check(bool(HASH.match(verdict.commitment_hash)), "hash", verdict)
    check(verdict.meta()["outcome"] == "approve", "meta", verdict.meta())


def gate_decision_denies(target: str) -> None:
    from macp_mcp.gate import GateEngine, Refused, context_id

    policy = _rule("macp.mode.decision.v1", 2)
    args = {"path": "/srv/b.txt"}
    cid = context_id("files", "write_file", args)

    async def flow() -> Any:
        engine = GateEngine(_settings(target, "gate"), poll_seconds=0.2)
        try:
            verdict, _ = await asyncio.gather(
                engine.decide(policy.rules[0], "files", "write_file", args),
                _approve_when_open(target, cid, "decision", {"alice": "REJECT"}, "call"),
            )
        finally:
            await engine.aclose()
        return verdict

    verdict = asyncio.run(flow())
    check(isinstance(verdict, Refused), "refused", verdict)
    check(
        verdict.text.startswith("POLICY_DENIED: tool call write_file denied by session "),
        "refusal text",
        verdict.text,
    )


def gate_waits_on_one_stream(target: str) -> None:
    """While approvers take their time, the gate keeps one subscription open.

    The gate reads with a poll timeout and takes ``None`` for the end of the stream, as the
    SDK documents (a timeout raises MacpTimeoutError): an SDK that returns ``None`` on a
    timeout makes it reopen and replay the stream on every poll.
    """
    from macp_mcp.bridge import default_client_factory
    from macp_mcp.gate import Approved, GateEngine, context_id

    policy = _rule("macp.mode.quorum.v1", 1)
    args = {"path": "/srv/slow.txt"}
    cid = context_id("files", "write_file", args)
    opened: list[int] = []

    def counting_factory(settings: Any) -> Any:
        client = default_client_factory(settings)
        open_stream = client.open_stream

        def counted(*a: Any, **kw: Any) -> Any:
            opened.append(1)
            return open_stream(*a, **kw)

        client.open_stream = counted
        return client

    async def slow_approver() -> None:
        await asyncio.sleep(2.0)  # ten of the gate's 0.2 s polls
        await _approve_when_open(target, cid, "quorum", {"alice": "APPROVE"}, cid)

    async def flow() -> Any:
        engine = GateEngine(
            _settings(target, "gate"), client_factory=counting_factory, poll_seconds=0.2
        )
        try:
            verdict, _ = await asyncio.gather(
                engine.decide(policy.rules[0], "files", "write_file", args), slow_approver()
            )
        finally:
            await engine.aclose()
        return verdict

    verdict = asyncio.run(flow())
    check(isinstance(verdict, Approved), "approved", verdict)
    check(len(opened) <= 2, "stream opens while waiting 2 s (0.22.0: 1)", len(opened))


def gate_proxy_forwards(target: str) -> None:
    """The gate in front of an upstream MCP server: passthrough, and an approved call."""
    from macp_mcp.gate import META_KEY, GateEngine, build_gate_server, context_id
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    upstream = MCPServer(name="files")
    written: list[str] = []

    @upstream.tool()
    def read_file(path: str) -> str:
        return f"contents of {path}"

    @upstream.tool()
    def write_file(path: str, content: str) -> str:
        written.append(path)
        return f"wrote {path}"

    policy = _rule("macp.mode.quorum.v1", 1)
    args = {"path": "/srv/c.txt", "content": "x"}
    cid = context_id("files", "write_file", args)

    async def flow() -> None:
        engine = GateEngine(_settings(target, "gate"), poll_seconds=0.2)
        gate = build_gate_server(policy, engine, lambda: Client(upstream))
        async with Client(gate) as client:
            names = sorted(t.name for t in (await client.list_tools()).tools)
            check(names == ["read_file", "write_file"], "listing is the upstream's", names)
            plain = await client.call_tool("read_file", {"path": "/srv/c.txt"})
            check(not plain.is_error and "contents of" in plain.content[0].text, "read", plain)
            gated, _ = await asyncio.gather(
                client.call_tool("write_file", args),
                _approve_when_open(target, cid, "quorum", {"alice": "APPROVE"}, cid),
            )
            check(not gated.is_error, "gated call", gated)
            meta = (gated.meta or {})[META_KEY]
            check(
                meta["outcome"] == "approve" and bool(HASH.match(meta["commitment_hash"])),
                "commitment meta",
                meta,
            )
        check(written == ["/srv/c.txt"], "upstream ran the approved call once", written)

    asyncio.run(flow())


def payload_hash_matches_sdk(target: str) -> None:
    """The bridge's verify agrees with the SDK's own hash over bytes it is handed."""
    from macp.v1 import core_pb2
    from macp_mcp.bridge import MacpBridge
    from macp_sdk import commitment_hash

    payload = core_pb2.CommitmentPayload(
        commitment_id="c1",
        action="a.approved",
        authority_scope="s",
        reason="r",
        mode_version="1.0.0",
        policy_version="policy.default",
        configuration_version="config.default",
        outcome_positive=True,
    )
    claim = commitment_hash(payload)
    bridge = MacpBridge(_settings(target, "x"))
    wire = base64.b64encode(payload.SerializeToString()).decode()
    result = asyncio.run(bridge.verify(claim, payload_b64=wire))
    check(result["outcome"] == "match", "verify", result)


FLOWS = [
    import_client,
    decision_over_mcp_tools,
    stdio_command,
    gate_quorum_approves,
    gate_decision_denies,
    gate_waits_on_one_stream,
    gate_proxy_forwards,
    payload_hash_matches_sdk,
]

if __name__ == "__main__":
    exit_with(FLOWS)
