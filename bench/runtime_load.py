"""Embedded runtime load: accepted messages per second with 1 or 50 concurrent sessions.

    python bench/runtime_load.py --sessions 50 --threads 10 --target 127.0.0.1:PORT \
        --latencies lat.json -o out.json

Each pyperf value is the wall time per accepted message while ``threads`` client threads drive
``sessions`` decision sessions (raw generated stub, blocking Send) against a runtime in its
own process; 1 / value is the throughput. Per-message latencies go to ``--latencies`` (JSON
list of seconds, appended to) for the p50 / p99 columns.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyperf

MODE = "macp.mode.decision.v1"
MESSAGES_PER_SESSION_50 = 60  # 50 sessions x 60 = 3,000 messages per value
MESSAGES_ONE_SESSION = 1_500


def _load(
    target: str, sessions: int, threads: int, latencies: list[float]
) -> Callable[[int], float]:
    import grpc
    from macp.modes.decision.v1 import decision_pb2
    from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2

    channels = [grpc.insecure_channel(target) for _ in range(threads)]
    stubs = [core_pb2_grpc.MACPRuntimeServiceStub(channel) for channel in channels]
    metadata = (("authorization", "Bearer orch"),)
    per_session = MESSAGES_ONE_SESSION if sessions == 1 else MESSAGES_PER_SESSION_50

    def envelope(session_id: str, kind: str, payload: Any) -> Any:
        return core_pb2.SendRequest(
            envelope=envelope_pb2.Envelope(
                macp_version="1.0",
                mode=MODE,
                message_type=kind,
                message_id=str(uuid.uuid4()),
                session_id=session_id,
                sender="orch",
                timestamp_unix_ms=time.time_ns() // 1_000_000,
                payload=payload.SerializeToString(),
            )
        )

    def start(stub: Any) -> str:
        session_id = str(uuid.uuid4())
        payload = core_pb2.SessionStartPayload(
            intent="load",
            participants=["orch", "a"],
            mode_version="1.0.0",
            configuration_version="config.default",
            ttl_ms=3_600_000,
        )
        assert stub.Send(envelope(session_id, "SessionStart", payload), metadata=metadata).ack.ok
        return session_id

    def drive(stub: Any, session_ids: list[str], out: list[float]) -> None:
        # Round-robin over this thread's sessions: each message is one Proposal.
        for k in range(per_session):
            for session_id in session_ids:
                request = envelope(
                    session_id,
                    "Proposal",
                    decision_pb2.ProposalPayload(proposal_id=f"p{k}", option="o"),
                )
                t0 = time.perf_counter()
                ack = stub.Send(request, metadata=metadata).ack
                out.append(time.perf_counter() - t0)
                if not ack.ok:
                    raise SystemExit(f"refused: {ack.error}")

    def run(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            owned: list[list[str]] = [[] for _ in range(threads)]
            for index in range(sessions):
                owned[index % threads].append(start(stubs[index % threads]))
            outs: list[list[float]] = [[] for _ in range(threads)]
            workers = [
                threading.Thread(target=drive, args=(stubs[i], owned[i], outs[i]))
                for i in range(threads)
            ]
            t0 = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            total += time.perf_counter() - t0
            for out in outs:
                latencies.extend(out)
        return total

    return run


def main() -> None:
    def pass_args(cmd: list[str], args: Any) -> None:
        cmd.extend(["--sessions", str(args.sessions), "--threads", str(args.threads)])
        cmd.extend(["--target", args.target, "--latencies", args.latencies])

    runner = pyperf.Runner(add_cmdline_args=pass_args)
    runner.argparser.add_argument("--sessions", type=int, required=True)
    runner.argparser.add_argument("--threads", type=int, required=True)
    runner.argparser.add_argument("--target", required=True)
    runner.argparser.add_argument("--latencies", required=True)
    args = runner.parse_args()
    latencies: list[float] = []
    messages = args.sessions * (
        MESSAGES_ONE_SESSION if args.sessions == 1 else MESSAGES_PER_SESSION_50
    )
    func = _load(args.target, args.sessions, args.threads, latencies)
    runner.bench_time_func(f"runtime-{args.sessions}", func, inner_loops=messages)
    if args.worker:
        path = Path(args.latencies)
        earlier = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps(earlier + latencies))


if __name__ == "__main__":
    main()
