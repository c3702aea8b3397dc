"""A mode package of its own, made with only the installed toolkit (marker `wheel`).

A fresh virtual environment gets this project's wheel (the SDK and the toolkit) and nothing
else: no clone, no PYTHONPATH. A user's proto in their own package (`acme.auction.v1`) is
generated with `--sdk-package acme_modes` into a folder that `pip install` turns into a
distribution; its `macp_sdk.modes` entry point makes the installed SDK's registry know the mode
(decode_envelope, describe_envelope, session_class), and a whole session runs on the embedded
runtime with the mode registered through `register_mode`.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from .test_wheel_install import REPO, _run, _source_copy

pytestmark = pytest.mark.wheel

AUCTION = """syntax = "proto3";

package acme.auction.v1;

// A bid on the lot.
message BidPayload {
  string bid_id = 1;
  int64 amount = 2;
}

// A bidder takes a bid back.
message RetractPayload {
  string bid_id = 1;
  string reason = 2;
}
"""

SESSION = textwrap.dedent(
    """
    import json

    import acme_modes
    from acme_modes import AuctionSession
    from acme_modes.modes.auction import build_bid
    from macp_sdk import (
        MODE_REGISTRY, AuthConfig, DecisionSession, MacpClient, decode_envelope,
        describe_envelope,
    )
    from macp_sdk._registry import session_class
    from macp_sdk.local_runtime import LocalRuntime

    envelope = build_bid(session_id="s1", sender="ann", bid_id="b1", amount=7)
    facts = {
        "package": acme_modes.__file__,
        "known": "ext.auction.v1" in MODE_REGISTRY,
        "standard_still_known": "macp.mode.decision.v1" in MODE_REGISTRY,
        "session_class": session_class("ext.auction.v1") is AuctionSession,
        "decoded": type(decode_envelope(envelope)).__name__,
        "described": describe_envelope(envelope),
        "decision": DecisionSession.MODE,
    }
    # The agent dispatch knows the mode too: its binding comes from the package's participants.
    from macp_core.agent.modes import binding_for

    from acme_modes.projections.auction import AuctionProjection

    facts["agent_projection"] = binding_for("ext.auction.v1").projection_class is AuctionProjection
    auth = AuthConfig.for_dev_agent("auctioneer")
    ann = AuthConfig.for_dev_agent("ann")
    with LocalRuntime() as runtime:
        with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
            facts["registered"] = AuctionSession.register_mode(client).ok
            session = AuctionSession(client, auth=auth)
            session.start(intent="sell", participants=["auctioneer", "ann"], ttl_ms=60_000)
            session.bid("b1", amount=100, sender="ann", auth=ann)
            session.commit(action="auction.sold", authority_scope="lot", reason="b1")
            facts["amount"] = session.auction_projection.bid_records["b1"][0].amount
    print(json.dumps(facts))
    """
)


def test_a_mode_package_of_its_own_plugs_into_the_installed_sdk(tmp_path: Path) -> None:
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
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", f"{wheel}[codegen]"], tmp_path)

    project = tmp_path / "acme"
    proto = project / "proto" / "acme" / "auction" / "v1" / "auction.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(AUCTION)
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    codegen = str(venv / "bin" / "macp-codegen")
    out = _run(
        [codegen, "generate", "--sdk-package", "acme_modes", "--output", "modes"],
        project,
        clean_env,
    )
    output = project / "modes"
    assert "written" in out
    # Only the user's modules (and their reference pages): the installed SDK brings macp,
    # macp_sdk and the core.
    assert sorted(p.name for p in output.iterdir() if not p.name.startswith(".")) == [
        "acme",
        "acme_modes",
        "docs",
        "pyproject.toml",
    ]
    _run([codegen, "check", "--sdk-package", "acme_modes", "--output", "modes"], project, clean_env)
    _run([python, "-m", "pip", "install", "-q", "--no-deps", str(output)], tmp_path, clean_env)

    script = tmp_path / "session.py"
    script.write_text(SESSION, encoding="utf-8")
    printed = _run([python, str(script)], tmp_path, clean_env)
    facts = json.loads(printed.strip().splitlines()[-1])
    assert Path(facts.pop("package")).is_relative_to(venv)
    assert facts == {
        "known": True,
        "standard_still_known": True,
        "session_class": True,
        "decoded": "BidPayload",
        "described": facts["described"],
        "decision": "macp.mode.decision.v1",
        "agent_projection": True,
        "registered": True,
        "amount": 100,
    }
    assert facts["described"].startswith("Bid from ann [ext.auction.v1]")
    assert "amount: 7" in facts["described"]
    assert not (REPO / "generated" / "acme").exists()
