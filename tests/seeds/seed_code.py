"""The Python code of the two seed documents (../shared/seeds), read at test time.

The seeds are pages copied as plain text: no code fences, and the "Streaming" page lost its
indentation and glued some prose onto the last line of a block. So each block is located by
its first line and either the heading that follows it ("Building Orchestrators" kept its
indentation) or its last statement (the text after it on that line is prose). On the
Streaming page a line ending in ``:`` gets its one-line body indented back, which is all
that page's blocks need (every ``if``/``for`` there has a one-statement body).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
ORCHESTRATORS = "000_083dc9efe8490af4.txt"  # "Building Orchestrators"
STREAMING = "002_fd40ad67742202ce.txt"  # "Streaming"


@dataclass(frozen=True)
class Spec:
    name: str
    seed: str
    first: str  # the block's first line starts with this
    before: str = ""  # the block ends before the line that starts with this, or
    through: str = ""  # at this statement (whatever follows it on its line is prose)


SPECS = [
    Spec(
        "policy-driven-decision",
        ORCHESTRATORS,
        "from macp_sdk import AuthConfig, MacpClient, DecisionSession",
        before="Pattern: Multi-stage pipeline",
    ),
    Spec(
        "multi-stage-pipeline",
        ORCHESTRATORS,
        "def deployment_pipeline(client):",
        before="Pattern: Event-driven orchestrator",
    ),
    Spec(
        "event-driven",
        ORCHESTRATORS,
        "stream = client.open_stream(auth=coordinator_auth)",
        before="What NOT to put in the SDK",
    ),
    Spec(
        "raw-macp-stream",
        STREAMING,
        "from macp_sdk import MacpClient, AuthConfig",
        through="stream.close()",
    ),
    Spec(
        "session-helpers-stream",
        STREAMING,
        "session = DecisionSession(client, session_id=",
        through="response = stream.read(timeout=5.0)",
    ),
    Spec(
        "watch-mode-registry",
        STREAMING,
        "for event in client.watch_mode_registry(",
        through='print(f"Registry changed: {event}")',
    ),
    Spec(
        "watch-roots",
        STREAMING,
        "for event in client.watch_roots(",
        through='print(f"Roots changed: {event}")',
    ),
]


def seed_lines(seed: str) -> list[str]:
    return (SEEDS / seed).read_text(encoding="utf-8").splitlines()


def _reindent(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        header = out[-1] if out else ""
        if header.rstrip().endswith(":") and line.strip():
            indent = len(header) - len(header.lstrip())
            out.append(" " * (indent + 4) + line.strip())
        else:
            out.append(line)
    return out


def block(spec: Spec) -> str:
    lines = seed_lines(spec.seed)
    start = next(i for i, line in enumerate(lines) if line.startswith(spec.first))
    body: list[str] = []
    for line in lines[start:]:
        if spec.before and line.startswith(spec.before):
            break
        if spec.through and spec.through in line:
            body.append(line[: line.index(spec.through) + len(spec.through)])
            break
        body.append(line)
    else:
        raise LookupError(f"{spec.seed}: the end of block {spec.name!r} was not found")
    if spec.through:
        body = _reindent(body)
    return "\n".join(body).rstrip() + "\n"


def blocks() -> dict[str, str]:
    return {spec.name: block(spec) for spec in SPECS}
