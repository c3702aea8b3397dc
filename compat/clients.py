"""The three published clients of macp-sdk-python 0.22.0's API, and what each needs besides the SDK.

Each client is installed with ``--no-deps`` (its metadata requires ``macp-sdk-python``, which
we replace); ``deps`` are its other requirements, pinned so a compat run is repeatable.
``driver`` is the file under ``compat/drivers/`` that runs the client's main flows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Client:
    name: str
    requirement: str
    deps: tuple[str, ...]
    driver: str


CLIENTS: tuple[Client, ...] = (
    Client(
        name="langgraph-macp",
        requirement="langgraph-macp==0.1.3",
        # Requires-Dist: langgraph<2,>=1.0; langchain-core<2,>=1.0 (and the SDK's receipts extra).
        deps=("langgraph==1.2.22", "langchain-core==1.8.1"),
        driver="langgraph_flows.py",
    ),
    Client(
        name="claude-agent-sdk-macp",
        requirement="claude-agent-sdk-macp==0.1.3",
        # Requires-Dist: claude-agent-sdk<0.3,>=0.2 (and the SDK's receipts extra).
        deps=("claude-agent-sdk==0.2.184",),
        driver="claude_flows.py",
    ),
    Client(
        name="macp-mcp",
        requirement="macp-mcp==0.2.0",
        # Requires-Dist: mcp<3,>=2.3.0; rfc8785<0.2,>=0.1.4; typing-extensions>=4.12.
        deps=("mcp==2.3.0", "rfc8785==0.1.4", "typing-extensions>=4.12"),
        driver="mcp_flows.py",
    ),
)

#: What stands in for the SDK. "ours": this project's wheel (its receipts extra gives
#: cryptography and rfc8785). "anchor": the published SDK, for reference runs only.
ANCHOR_SDK = "macp-sdk-python[receipts]==0.22.0"
#: Distributions our project replaces; they must never be installed next to it.
REPLACED = ("macp-sdk-python", "macp-proto")
