"""A mode in any proto package: importable right after `generate`, and never breaking others.

- The development environment has the output folder itself on its import path (`make setup`
  writes a .pth file), so a new top-level package such as `acme` imports with no edit to
  pyproject.toml or PYTHONPATH.
- The registry imports a mode's protobuf module only when that mode is used: with one mode's
  package missing, every other mode (and `import macp_sdk`) still works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from codegen_helpers import run_cli

from .test_unseen_mode import AUCTION

CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_environment_imports_any_package_generated_into_the_output(
    tmp_path: Path, repo_root: Path
) -> None:
    from macp_codegen.config import load_config
    from macp_codegen.output_path import install

    output = load_config(repo_root).output
    probe = f"import json, sys; print(json.dumps({str(output)!r} in sys.path))"
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=CLEAN_ENV, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) is True, "run `make setup` (it writes the .pth file)"
    # The .pth names the configured output of whichever project it is run for.
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[tool.macp-codegen]\noutput = "out"\n')
    site = tmp_path / "site"
    pth = install(other, site)
    assert pth.read_text().strip() == str((other / "out").resolve())


DRIVE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from macp.v1 import envelope_pb2
from macp_sdk import MODE_REGISTRY, DecisionSession, decode_envelope, describe_envelope
from macp_sdk.modes.decision import build_propose

envelope = build_propose(session_id="s", sender="a", proposal_id="p1", option="x")
facts = {
    "modes": sorted(MODE_REGISTRY),
    "decision": type(decode_envelope(envelope)).__name__,
    "session": DecisionSession.MODE,
}
try:
    MODE_REGISTRY["ext.auction.v1"].payloads["Bid"]
except ModuleNotFoundError as exc:
    facts["auction"] = exc.name
bid = envelope_pb2.Envelope(mode="ext.auction.v1", message_type="Bid", payload=b"")
try:
    describe_envelope(bid)
except ModuleNotFoundError as exc:
    facts["described"] = exc.name
print(json.dumps(facts))
"""


def test_a_missing_mode_package_breaks_only_that_mode(tmp_path: Path, repo_root: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(repo_root / "proto", project / "proto")
    shutil.copy(repo_root / "pyproject.toml", project / "pyproject.toml")
    auction = project / "proto" / "acme" / "auction" / "v1" / "auction.proto"
    auction.parent.mkdir(parents=True)
    auction.write_text(AUCTION)
    assert run_cli("generate", "--project-root", str(project)).status == 0
    output = project / "generated"
    shutil.rmtree(output / "acme")  # e.g. a mode package not installed here

    run = subprocess.run(
        [sys.executable, "-c", DRIVE, str(output)],
        capture_output=True,
        text=True,
        env=CLEAN_ENV,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert "ext.auction.v1" in facts["modes"] and "macp.mode.decision.v1" in facts["modes"]
    assert facts["decision"] == "ProposalPayload"
    assert facts["session"] == "macp.mode.decision.v1"
    assert facts["auction"] == "acme"
    assert facts["described"] == "acme"
