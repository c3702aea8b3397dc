"""End to end over loopback gRPC against the embedded runtime: 10,000 actions in one session.

    python bench/e2e.py --side ours --target 127.0.0.1:PORT -o out.json

Each pyperf value is the mean time of one action (a blocking Send and its Ack) in a session
that starts, takes 2,500 proposals and then 7,500 votes (three voters each). ``floor`` sends
the same envelopes through a raw generated stub; ``ours`` and ``ref`` go through each SDK's
client and DecisionSession. The runtime runs in its own process (started by bench/run.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyperf

MODE = "macp.mode.decision.v1"
ACTIONS = 10_000
PROPOSALS = ACTIONS // 4
VOTERS = ("a", "b", "c")
PARTICIPANTS = ["orch", *VOTERS]


def _script() -> list[tuple[str, str, str]]:
    """(sender, message type, proposal id) for every action after SessionStart."""
    steps = [("orch", "Proposal", f"p{k}") for k in range(PROPOSALS)]
    steps += [(voter, "Vote", f"p{k}") for k in range(PROPOSALS) for voter in VOTERS]
    return steps


def floor_run(target: str) -> Callable[[int], float]:
    import grpc
    from macp.modes.decision.v1 import decision_pb2
    from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

    stub = core_pb2_grpc.MACPRuntimeServiceStub(grpc.insecure_channel(target))
    metadata = {name: (("authorization", f"Bearer {name}"),) for name in PARTICIPANTS}

    def envelope(session_id: str, sender: str, kind: str, payload: Any) -> Any:
        return envelope_pb2.Envelope(
            macp_version="1.0",
            mode=MODE,
            message_type=kind,
            message_id=str(uuid.uuid4()),
            session_id=session_id,
            sender=sender,
            timestamp_unix_ms=time.time_ns() // 1_000_000,
            payload=payload.SerializeToString(),
        )

    def run(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            session_id = str(uuid.uuid4())
            start = core_pb2.SessionStartPayload(
                intent="bench",
                participants=PARTICIPANTS,
                mode_version="1.0.0",
                configuration_version="config.default",
                ttl_ms=3_600_000,
            )
            request = core_pb2.SendRequest(
                envelope=envelope(session_id, "orch", "SessionStart", start)
            )
            assert stub.Send(request, metadata=metadata["orch"]).ack.ok
            t0 = time.perf_counter()
            for sender, kind, pid in _script():
                if kind == "Proposal":
                    payload: Any = decision_pb2.ProposalPayload(proposal_id=pid, option="o")
                else:
                    payload = decision_pb2.VotePayload(proposal_id=pid, vote="APPROVE")
                request = core_pb2.SendRequest(envelope=envelope(session_id, sender, kind, payload))
                ack = stub.Send(request, metadata=metadata[sender]).ack
                if not ack.ok:
                    raise SystemExit(f"floor: {kind} refused: {ack.error}")
            total += time.perf_counter() - t0
        return total

    return run


def sdk_run(side: str, target: str) -> Callable[[int], float]:
    if side == "ours":
        from macp_sdk import AuthConfig, DecisionSession, MacpClient

        client = MacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent("orch"))
    else:
        from macp_sdk import AuthConfig, DecisionSession, MacpClient  # 0.22.0's names

        client = MacpClient(
            target=target, allow_insecure=True, auth=AuthConfig.for_dev_agent("orch")
        )
    auths = {name: AuthConfig.for_dev_agent(name) for name in PARTICIPANTS}

    def run(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            session = DecisionSession(client, auth=auths["orch"])
            session.start(intent="bench", participants=PARTICIPANTS, ttl_ms=3_600_000)
            t0 = time.perf_counter()
            for sender, kind, pid in _script():
                if kind == "Proposal":
                    session.propose(pid, "o", auth=auths[sender])
                else:
                    session.vote(pid, "APPROVE", auth=auths[sender])
            total += time.perf_counter() - t0
        return total

    return run


def main() -> None:
    logging.disable(logging.WARNING)

    def pass_args(cmd: list[str], args: Any) -> None:
        cmd.extend(["--side", args.side, "--target", args.target])

    runner = pyperf.Runner(add_cmdline_args=pass_args)
    runner.argparser.add_argument("--side", choices=["ours", "ref", "floor"], required=True)
    runner.argparser.add_argument("--target", required=True)
    args = runner.parse_args()
    func = floor_run(args.target) if args.side == "floor" else sdk_run(args.side, args.target)
    runner.bench_time_func(f"e2e-{args.side}", func, inner_loops=ACTIONS)


if __name__ == "__main__":
    main()
