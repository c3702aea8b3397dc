"""A mode the project never saw: a bare proto with no options becomes a working session.

The proto sits next to the project's own protos (as a user adding a mode would put it), is
generated into a temporary folder, imported from there in a fresh interpreter, registered on
the embedded runtime as an extension mode and driven through a whole session, then through a
second one by two agents (generated participant, typed `on_bid` and `ctx.actions.bid`). No
hand-written line is involved.

Its package is `acme.auction.v1`, which the naming convention maps to `ext.auction.v1`: ids
under `macp.mode.*` are reserved for standards-track modes and the runtime refuses to register
them as extensions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from codegen_helpers import run_cli

AUCTION = """syntax = "proto3";

package acme.auction.v1;

// A bid on the lot.
message BidPayload {
  string bid_id = 1;
  int64 amount = 2;
  string note = 3;
}

// A bidder takes a bid back.
message RetractPayload {
  string bid_id = 1;
  string reason = 2;
}
"""

DRIVE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import macp_sdk
assert macp_sdk.__file__.startswith(sys.argv[1]), macp_sdk.__file__
from macp_sdk import AuctionSession, AuthConfig, MacpClient
from macp_sdk.local_runtime import LocalRuntime

auth = AuthConfig.for_dev_agent("auctioneer")
with LocalRuntime() as runtime:
    with MacpClient(target=runtime.target, secure=False, auth=auth) as client:
        registered = AuctionSession.register_mode(client)
        session = AuctionSession(client, auth=auth)
        ann, bob = AuthConfig.for_dev_agent("ann"), AuthConfig.for_dev_agent("bob")
        bidders = ["auctioneer", "ann", "bob"]
        session.start(intent="sell the lot", participants=bidders, ttl_ms=60_000)
        session.bid("b1", amount=100, sender="ann", auth=ann)
        session.bid("b2", amount=120, note="final", sender="bob", auth=bob)
        session.retract("b1", reason="too low", sender="ann", auth=ann)
        ack = session.commit(action="auction.sold", authority_scope="lot-7", reason="b2 wins")
        projection = session.auction_projection

        # The same mode as agents: typed handlers and actions, generated like the session.
        import threading
        from macp_sdk import AuctionParticipant
        from macp_sdk.agent import InitiatorConfig
        from macp_sdk.envelope import new_session_id

        agent_session, ended = new_session_id(), {}
        with MacpClient(target=runtime.target, secure=False, auth=ann) as ann_client:
            seller = AuctionParticipant(
                participant_id="auctioneer", session_id=agent_session, client=client,
                initiator_config=InitiatorConfig(
                    intent="sell lot 8", participants=bidders, ttl_ms=60_000
                ),
            )
            bidder = AuctionParticipant(
                participant_id="ann", session_id=agent_session, client=ann_client
            )
            bidder.on("SessionStart", lambda m, ctx: ctx.actions.bid("b9", amount=300))
            seller.on_bid(
                lambda bid, ctx: ctx.actions.commit(
                    "auction.sold", "lot-8", reason=f"{bid.bid_id} at {bid.amount}"
                )
            )
            for agent in (seller, bidder):
                agent.on_terminal(lambda r, who=agent.participant_id: ended.__setitem__(who, r))
            threads = [threading.Thread(target=a.run) for a in (bidder, seller)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        print(json.dumps({
            "agents": {who: r.state for who, r in sorted(ended.items())},
            "agent_reason": ended["auctioneer"].commitment.reason,
            "registered": registered.ok,
            "mode": AuctionSession.MODE,
            "bids": sorted(projection.bid_records),
            "amount": projection.bid_records["b2"][0].amount,
            "retracted": [r.reason for r in projection.retract_records["b1"]],
            "state": ack.session_state,
            "committed": projection.is_committed,
            "listed": [m.mode for m in client.list_ext_modes().modes],
        }))
"""


def test_a_new_mode_without_options_runs_a_whole_session(tmp_path: Path, repo_root: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(repo_root / "proto", project / "proto")
    shutil.copy(repo_root / "pyproject.toml", project / "pyproject.toml")
    auction = project / "proto" / "acme" / "auction" / "v1" / "auction.proto"
    auction.parent.mkdir(parents=True)
    auction.write_text(AUCTION)

    result = run_cli("generate", "--project-root", str(project))
    assert result.status == 0, result.err
    output = project / "generated"
    assert (output / "macp_sdk" / "modes" / "auction.py").is_file()

    run = subprocess.run(
        [sys.executable, "-c", DRIVE, str(output)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout.strip().splitlines()[-1])
    assert facts == {
        "agents": {"ann": "Committed", "auctioneer": "Committed"},
        "agent_reason": "b9 at 300",
        "registered": True,
        "mode": "ext.auction.v1",
        "bids": ["b1", "b2"],
        "amount": 120,
        "retracted": ["too low"],
        "state": 2,  # SESSION_STATE_RESOLVED
        "committed": True,
        "listed": facts["listed"],
    }
    assert "ext.auction.v1" in facts["listed"]
