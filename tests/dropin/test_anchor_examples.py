"""macp-sdk-python 0.22.0's own README and docstring examples run on our SDK.

The examples are read at test time from the 0.22.0 install in its own virtual environment
(.cache/anchor-0.22.0, shared with the other differential tests); `anchor_examples.py` says
what each program adds to 0.22.0's text (the endpoint, the context a fragment leaves
undefined, placeholders, a report of what happened). Each program runs in its own process,
once under our SDK and once under 0.22.0 (which proves the example and its expected outcome
are valid), against embedded runtimes on loopback started here:

- "dev": plaintext with dev-mode auth, like the README's ``MACP_ALLOW_INSECURE=1`` runtime;
- "tls": TLS (a throwaway CA, trusted by the program through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH)
  with the static token ``tok-coord`` bound to ``coordinator``, for the README's production
  block, which is TLS by default. Its ``runtime.example.com`` becomes ``localhost``.

An example that fails on our SDK for a reason owned elsewhere is listed in
OURS_EXPECTED_TO_FAIL with that reason; one that fails on 0.22.0 too in
ANCHOR_EXPECTED_TO_FAIL. Both lists must stay exact: a listed example that passes fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from governance.anchor import anchor_python
from macp_sdk.local_runtime import LocalRuntime, RuntimeConfig, StaticToken
from runtime.certs import make_pki

from .anchor_examples import Example, examples, literal_blocks, readme, readme_blocks

RUNNER = Path(__file__).with_name("run_example.py")

# Every runnable example 0.22.0 shows: the README's five Python blocks and the four literal
# blocks of its docstrings (the README's other fences are shell commands and one output).
NAMES = [
    "readme-connect-local-dev",
    "readme-connect-production",
    "readme-drive-a-decision",
    "readme-async",
    "readme-decision-receipts",
    "docstring-macp_error_code",
    "docstring-AsyncMacpStream",
    "docstring-AsyncMacpClient",
    "docstring-from_bootstrap",
]
# name -> why it cannot pass on our SDK (and whose work it waits for). None at present.
OURS_EXPECTED_TO_FAIL: dict[str, str] = {}
# name -> why 0.22.0 itself fails it. None: every example is valid on 0.22.0.
ANCHOR_EXPECTED_TO_FAIL: dict[str, str] = {}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    facts: dict[str, Any]
    printed: list[str]  # stdout before the FACTS line
    stderr: str


def _site_packages(python: Path) -> Path:
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def anchor() -> Path:
    return anchor_python()


@pytest.fixture(scope="module")
def site(anchor: Path) -> Path:
    return _site_packages(anchor)


def _run(python: Path | str, program: Path, env: dict[str, str], cwd: Path) -> Outcome:
    done = subprocess.run(
        [str(python), str(RUNNER), str(program)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,  # holds no project package
        env=env,
    )
    lines = done.stdout.splitlines()
    facts: dict[str, Any] = {}
    if lines and lines[-1].startswith("FACTS "):
        facts = json.loads(lines.pop()[len("FACTS ") :])
    return Outcome(done.returncode, facts, lines, done.stderr)


@pytest.fixture(scope="module")
def outcomes(
    anchor: Path, site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str], Outcome]]:
    """Every example, under both SDKs, all in parallel against the same two runtimes."""
    work = tmp_path_factory.mktemp("anchor-examples")
    pki = make_pki()
    (work / "ca.pem").write_bytes(pki.ca_cert)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(work / "ca.pem")
    tls_config = RuntimeConfig(
        auth_tokens=[StaticToken(token="tok-coord", sender="coordinator")],
        tls_cert_chain=pki.server_cert,
        tls_private_key=pki.server_key,
        allow_insecure=False,
    )
    with LocalRuntime() as dev, LocalRuntime(tls_config) as tls:
        port = tls.target.rsplit(":", 1)[1]
        found = examples(site, dev.target, f"localhost:{port}")
        assert [e.name for e in found] == NAMES
        jobs = []
        for example in found:
            for side, python in (("ours", Path(sys.executable)), ("0.22.0", anchor)):
                program = work / f"{example.name}-{side}.py"
                program.write_text(example.program, encoding="utf-8")
                jobs.append((example.name, side, python, program))
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = pool.map(lambda job: _run(job[2], job[3], env, work), jobs)
            yield {(name, side): r for (name, side, _, _), r in zip(jobs, results, strict=True)}


@pytest.fixture(scope="module")
def by_name(site: Path) -> dict[str, Example]:
    # The expected outcomes (no runtime needed to build them; the targets are placeholders).
    return {e.name: e for e in examples(site, "dev.invalid:1", "tls.invalid:1")}


def _problem(example: Example, outcome: Outcome) -> str | None:
    if outcome.returncode != 0:
        return f"exit {outcome.returncode}\n{outcome.stderr[-3000:]}"
    expected = dict(example.expected)
    if "stdout" in expected and outcome.printed != expected.pop("stdout"):
        return f"printed {outcome.printed}, the example shows {example.expected['stdout']}"
    if outcome.facts != expected:
        return f"observed {outcome.facts}, expected {expected}"
    return None


# What our SDK may log while an example runs: the one warning per plaintext client that the
# README's `allow_insecure=True` asks for. Anything else (a projection-anomaly warning, say)
# is noise 0.22.0's users never saw.
OUR_EXPECTED_LOG = "plaintext channel to "


def _noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith(OUR_EXPECTED_LOG)]


def _check(
    name: str, side: str, known: dict[str, str], by_name: dict[str, Example], outcomes: Any
) -> None:
    outcome = outcomes[name, side]
    problem = _problem(by_name[name], outcome)
    if problem is None and side == "ours" and _noise(outcome.stderr):
        problem = f"logged {_noise(outcome.stderr)}"
    if name in known:
        assert problem is not None, f"{name} now passes on {side}: remove it from the list"
        pytest.xfail(known[name])
    assert problem is None, f"{by_name[name].where} on {side}: {problem}"


def test_every_runnable_example_is_covered(site: Path) -> None:
    blocks = readme_blocks(readme(site))
    python = [b.where for b in blocks if b.lang == "python"]
    assert python == [
        "Local dev (the runtime above)",
        "Production (Bearer + TLS)",
        "3. Drive a decision",
        "4. Async (asyncio)",
        "Decision receipts",
    ]
    assert {b.lang for b in blocks} == {"python", "bash", ""}  # "": the async example's output
    assert [b.where for b in literal_blocks(site)] == [
        "macp_sdk/agent/runner.py: from_bootstrap",
        "macp_sdk/async_client.py: AsyncMacpStream",
        "macp_sdk/async_client.py: AsyncMacpClient",
        "macp_sdk/client.py: macp_error_code",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_on_our_sdk(name: str, by_name: dict[str, Example], outcomes: Any) -> None:
    _check(name, "ours", OURS_EXPECTED_TO_FAIL, by_name, outcomes)


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_on_0_22_0(name: str, by_name: dict[str, Example], outcomes: Any) -> None:
    _check(name, "0.22.0", ANCHOR_EXPECTED_TO_FAIL, by_name, outcomes)
