"""macp-sdk-python 0.22.0's own examples, read at test time from its installed package.

Nothing of 0.22.0's example text is stored in this repository: `examples(site)` reads the
README (the package METADATA's description) and the literal blocks (``::``) of its module
docstrings from the 0.22.0 install, and turns each into a program for `run_example.py`.

What a program adds to 0.22.0's text, and nothing else:
- the endpoint: the examples' addresses (``127.0.0.1:50051``, ``runtime.example.com:50051``,
  ``localhost:50051``) become the embedded runtime's;
- the context a fragment refers to but does not define (``client``, ``session_id``,
  ``commitment``, the receipt key pair), built from the README's own connect block where a
  client is needed;
- placeholders: a ``...`` statement (where 0.22.0 leaves "your code here") becomes a
  statement that records it was reached; the bootstrap JSON's ``"..."`` values become
  concrete ones;
- an epilogue that reports what happened (``report(...)``), which the test compares with
  what the example shows (its printed output block, its result comment, or its comment's
  promise).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path
from typing import Any

DIST_INFO = "macp_sdk_python-0.22.0.dist-info"
_FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
_ADDRESSES = ("127.0.0.1:50051", "runtime.example.com:50051", "localhost:50051")


@dataclass(frozen=True)
class Block:
    where: str  # the README heading, or "module.py: qualname"
    lang: str
    text: str


@dataclass(frozen=True)
class Example:
    name: str
    where: str  # where 0.22.0 shows it
    program: str
    expected: dict[str, Any] = field(default_factory=dict)


# -- extraction --------------------------------------------------------------------------


def readme(site: Path) -> str:
    """The README as published: the description of 0.22.0's METADATA."""
    text = (site / DIST_INFO / "METADATA").read_text(encoding="utf-8")
    payload = Parser().parsestr(text).get_payload()
    assert isinstance(payload, str)
    return payload


def readme_blocks(markdown: str) -> list[Block]:
    """Every fenced block, each named by the nearest heading above it."""
    blocks = []
    for match in _FENCE.finditer(markdown):
        above = markdown[: match.start()].splitlines()
        heading = next((line for line in reversed(above) if line.startswith("#")), "")
        blocks.append(Block(heading.lstrip("# "), match["lang"], match["body"]))
    return blocks


def literal_blocks(site: Path) -> list[Block]:
    """reST literal blocks (a paragraph ending in ``::``) of every docstring in macp_sdk."""
    found = []
    package = site / "macp_sdk"
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            doc = ast.get_docstring(node, clean=True)
            if not doc:
                continue
            name = getattr(node, "name", "<module>")
            where = f"{path.relative_to(package.parent)}: {name}"
            for body in _literals(doc):
                found.append(Block(where, "", body))
    return found


def _literals(doc: str) -> list[str]:
    lines = doc.splitlines()
    out = []
    for i, line in enumerate(lines):
        if not line.rstrip().endswith("::") or i + 1 >= len(lines) or lines[i + 1].strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for following in lines[i + 2 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        out.append(textwrap.dedent("\n".join(body)).strip("\n") + "\n")
    return out


# -- adaptation ----------------------------------------------------------------------------


def with_endpoint(code: str, target: str) -> str:
    for address in _ADDRESSES:
        code = code.replace(address, target)
    return code


def fill_placeholders(code: str, statement: str) -> str:
    """Each ``...`` statement line becomes ``statement`` (one or more lines), same indent."""
    out = []
    for line in code.splitlines():
        if line.strip() == "...":
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in statement.splitlines())
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def shown_result(code: str, assigned: str) -> Any:
    """The value a ``# {...}`` comment right after ``assigned = ...`` shows."""
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{assigned} = ") and i + 1 < len(lines):
            comment = lines[i + 1].strip()
            if comment.startswith("# "):
                return json.loads(comment[2:])
    raise LookupError(f"no result comment after {assigned} =")


def _find(blocks: list[Block], where: str, lang: str = "python") -> Block:
    hits = [b for b in blocks if b.where.startswith(where) and b.lang == lang]
    if len(hits) != 1:
        raise LookupError(f"0.22.0's README: expected one {lang!r} block under {where!r}")
    return hits[0]


def _literal(blocks: list[Block], where: str) -> Block:
    hits = [b for b in blocks if b.where == where]
    if len(hits) != 1:
        raise LookupError(f"0.22.0's docstrings: expected one literal block in {where!r}")
    return hits[0]


# What the programs add (see the module docstring). The receipt key pair: a fresh Ed25519
# seed and its public key as the JWK "x" member (base64url, no padding).
_KEY_PAIR = """
import base64
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
_key = Ed25519PrivateKey.generate()
seed = _key.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
)
public_key_x = base64.urlsafe_b64encode(
    _key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).rstrip(b"=").decode()
"""

_SESSION_STATE = """
from macp.v1.envelope_pb2 import SessionState
report(winner=winner,
       state=SessionState.Name(client.get_session(session.session_id).metadata.state))
"""

_ASYNC_SESSION = """
from macp_sdk import AsyncDecisionSession, AsyncMacpClient, AuthConfig
client = AsyncMacpClient(
    target="127.0.0.1:50051", allow_insecure=True, auth=AuthConfig.for_dev_agent("coordinator")
)
_session = AsyncDecisionSession(client)
await _session.start(intent="replay", participants=["coordinator"], ttl_ms=60_000)
await _session.propose("p1", "option-a")
session_id = _session.session_id
seen = []
"""

# Runs the bootstrapped participant: as the initiator it starts the session, then reads it
# until stopped; the program stops it (from another thread, as 0.22.0 documents) once the
# session exists. Each run gets a fresh session id.
_BOOTSTRAP = """
import tempfile, threading, time, uuid
from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, MacpClient
from macp_sdk.agent import from_bootstrap
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as _f:
    _f.write(BOOTSTRAP.replace("@SESSION_ID@", _session_id := str(uuid.uuid4())))
participant = from_bootstrap(_f.name)
_runner = threading.Thread(target=participant.run, daemon=True)
_runner.start()
_client = MacpClient(
    target="127.0.0.1:50051", allow_insecure=True, auth=AuthConfig.for_dev_agent("agent-a")
)
for _ in range(400):  # until the participant's SessionStart is accepted
    try:
        _client.get_session(participant.session_id)
        break
    except Exception:
        time.sleep(0.05)
participant.stop()
_runner.join(timeout=30)
report(participant_id=participant.participant_id, mode=participant.mode,
       same_session=participant.session_id == _session_id, run_returned=not _runner.is_alive(),
       state=SessionState.Name(_client.get_session(_session_id).metadata.state),
       participants=list(_client.get_session(_session_id).metadata.participants))
_client.cancel_session(_session_id, reason="bootstrap example done")
_client.close()
"""

BOOTSTRAP_VALUES = {
    "participant_id": "agent-a",
    "session_id": "@SESSION_ID@",
    "auth_token": "agent-a",
}
BOOTSTRAP_INITIATOR = {"session_start": {"intent": "from bootstrap", "ttl_ms": 60_000}}


def _bootstrap_json(text: str) -> str:
    for key, value in BOOTSTRAP_VALUES.items():
        text = text.replace(f'"{key}": "..."', f'"{key}": {json.dumps(value)}')
    text = text.replace("{ ... }", json.dumps(BOOTSTRAP_INITIATOR))
    json.loads(text)  # every placeholder filled
    return text


def examples(site: Path, dev_target: str, tls_target: str) -> list[Example]:
    """Every runnable example of 0.22.0's README and docstrings, as programs for its runtime."""
    blocks = readme_blocks(readme(site))
    literals = literal_blocks(site)

    def dev(code: str) -> str:
        return with_endpoint(code, dev_target)

    local = _find(blocks, "Local dev").text
    drive = _find(blocks, "3. Drive a decision").text
    receipt = _find(blocks, "Decision receipts").text
    async_block = _find(blocks, "4. Async")
    async_output = _find(blocks, "4. Async", lang="")
    error_code = _literal(literals, "macp_sdk/client.py: macp_error_code").text
    stream = _literal(literals, "macp_sdk/async_client.py: AsyncMacpStream").text
    async_client = _literal(literals, "macp_sdk/async_client.py: AsyncMacpClient").text
    bootstrap = _literal(literals, "macp_sdk/agent/runner.py: from_bootstrap").text
    return [
        Example(
            "readme-connect-local-dev",
            "README: " + _find(blocks, "Local dev").where,
            dev(local)
            + "report(protocol=client.initialize().selected_protocol_version)\nclient.close()\n",
            {"protocol": "1.0"},
        ),
        Example(
            # TLS by default and a bearer token bound to "coordinator": the runtime serves TLS
            # with that static token (its CA trusted through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).
            "readme-connect-production",
            "README: " + _find(blocks, "Production").where,
            with_endpoint(_find(blocks, "Production").text, tls_target)
            + "session = DecisionSession(client)\n"
            "session.start(intent='tls', participants=['coordinator'], ttl_ms=60_000)\n"
            "session.propose('p1', 'over TLS')\n"
            "meta = client.get_session(session.session_id).metadata\n"
            "report(active=[a.participant_id for a in meta.participant_activity])\n"
            "client.close()\n",
            {"active": ["coordinator"]},
        ),
        Example(
            "readme-drive-a-decision",
            "README: 3. Drive a decision (after the local-dev connect block)",
            dev(local) + drive + _SESSION_STATE,
            {"winner": "p1", "state": "SESSION_STATE_RESOLVED"},
        ),
        Example(
            "readme-async",
            "README: " + async_block.where,
            dev(async_block.text),
            {"stdout": async_output.text.splitlines()},
        ),
        Example(
            "readme-decision-receipts",
            "README: Decision receipts (after the connect and decision blocks)",
            dev(local)
            + drive
            + "commitment = session.decision_projection.commitment\n"
            + _KEY_PAIR
            + receipt
            + "report(result=result)\n",
            {"result": shown_result(receipt, "result")},
        ),
        Example(
            "docstring-macp_error_code",
            "macp_sdk/client.py: macp_error_code",
            dev(local)
            + "import grpc\nfrom macp_sdk import SESSION_NOT_FOUND, macp_error_code\n"
            + "session_id = 'b3a5f3a2-5d0e-4c3b-8a49-0c8f5f1f0a77'\n"
            + fill_placeholders(error_code, "report(matched=True)"),
            {"matched": True},
        ),
        Example(
            "docstring-AsyncMacpStream",
            "macp_sdk/async_client.py: AsyncMacpStream",
            dev(_ASYNC_SESSION)
            + fill_placeholders(
                stream,
                "seen.append(envelope.message_type)\n"
                "if envelope.message_type == 'Proposal':\n    break",
            )
            + "report(seen=seen)\nawait client.close()\n",
            {"seen": ["SessionStart", "Proposal"]},
        ),
        Example(
            "docstring-AsyncMacpClient",
            "macp_sdk/async_client.py: AsyncMacpClient",
            "from macp_sdk import AsyncMacpClient, AuthConfig\n"
            + dev(async_client)
            + "report(completed=True)\n",
            {"completed": True},
        ),
        Example(
            "docstring-from_bootstrap",
            "macp_sdk/agent/runner.py: from_bootstrap",
            f"BOOTSTRAP = {dev(_bootstrap_json(bootstrap))!r}\n" + dev(_BOOTSTRAP),
            {
                "participant_id": BOOTSTRAP_VALUES["participant_id"],
                "same_session": True,
                "mode": "macp.mode.decision.v1",
                "run_returned": True,
                "state": "SESSION_STATE_OPEN",
                "participants": ["agent-a", "agent-b"],
            },
        ),
    ]
