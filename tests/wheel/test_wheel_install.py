"""The toolkit installs and runs from its wheel (marker `wheel`; alone: `make wheel-test`).

Builds the wheel from a copy of the source tree, installs it with the `codegen` extra in a
fresh virtual environment outside the repository, generates an SDK from a scratch proto
folder with the installed `macp-codegen`, and runs a real decision session against the
embedded runtime, importing the SDK from that output in its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.wheel

SESSION = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import macp_sdk
    from macp_sdk import AuthConfig, DecisionSession, MacpClient
    from macp_sdk.facts import decision as facts
    from macp_sdk.local_runtime import LocalRuntime

    output = Path(sys.argv[1]).resolve()
    assert Path(macp_sdk.__file__).resolve().is_relative_to(output), macp_sdk.__file__
    with LocalRuntime() as runtime:
        auth = AuthConfig.for_dev_agent("orchestrator")
        voter = AuthConfig.for_dev_agent("a")
        with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
            session = DecisionSession(client, auth=auth)
            session.start(intent="pick", participants=["orchestrator", "a"], ttl_ms=60_000)
            session.propose("p1", "v2")
            session.vote("p1", facts.VOTE_APPROVE, sender="a", auth=voter)
            session.commit(
                action="decision.selected", authority_scope="release", reason="majority"
            )
            # A fresh scaffold: only the generated base's records and the core's state.
            projection = session.decision_projection
            votes = projection.vote_records["p1"]
            print(votes[0].vote, votes[0].sender, projection.is_committed)
    """
)


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _source_copy(target: Path) -> Path:
    """The tracked sources only: a build never writes into the worktree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_wheel_installs_and_generates_a_working_sdk(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(REPO)
    source = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    # The dev environment's setuptools builds it (no network for the build itself).
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(dist), str(source)],
        tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("macp_codegen-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    # The codegen extra resolves from the pip cache / the package index.
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[codegen]"], tmp_path)

    project = tmp_path / "project"
    shutil.copytree(REPO / "proto", project / "proto")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    codegen = str(venv / "bin" / "macp-codegen")
    out = _run([codegen, "generate"], project, clean_env)
    assert "written" in out
    output = project / "generated"
    assert (output / "macp" / "sdk" / "v1" / "options_pb2.py").is_file()
    assert (output / "macp_sdk" / "facts" / "decision.py").is_file()
    _run([codegen, "check"], project, clean_env)

    script = tmp_path / "session.py"
    script.write_text(SESSION, encoding="utf-8")
    env = {**clean_env, "PYTHONPATH": str(output)}
    printed = _run([str(python), str(script), str(output)], tmp_path, env)
    assert printed.split() == ["APPROVE", "a", "True"]

    # Bad input after install: a one-line located error and exit 2, never a traceback.
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = subprocess.run(
        [codegen, "generate"], cwd=empty, env=clean_env, capture_output=True, text=True
    )
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr and "proto root does not exist" in failed.stderr


def test_without_the_codegen_extra_the_command_says_what_to_install(tmp_path: Path) -> None:
    source = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(dist), str(source)],
        tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("macp_codegen-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    project = tmp_path / "project"
    shutil.copytree(REPO / "proto", project / "proto")
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    failed = subprocess.run(
        [str(venv / "bin" / "macp-codegen"), "generate"],
        cwd=project,
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "macp-codegen[codegen]" in failed.stderr
    assert not (project / "generated").exists()
