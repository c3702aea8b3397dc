"""Soak: 3,000 sessions in rounds, with eviction, keep the runtime's memory flat.

Memory is traced with tracemalloc (Python allocations of the whole process, runtime thread
included) rather than RSS, which the allocator and gRPC's C core make noisy. The check is
relative: what one round of sessions holds before eviction is the yardstick, and the
memory left after eviction must not grow by a fraction of it from round to round.
"""

from __future__ import annotations

import gc
import tracemalloc

from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2_grpc
from macp_sdk.local_runtime import LocalRuntime, ManualClock

from .helpers import DECISION, envelope, new_session_id, send, session_start

Stub = core_pb2_grpc.MACPRuntimeServiceStub
ROUNDS = 6
SESSIONS_PER_ROUND = 500


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def run_round(stub: Stub) -> None:
    # Open sessions with some history; the sweep expires them (TTL) and then evicts them.
    for _ in range(SESSIONS_PER_ROUND):
        sid = new_session_id()
        assert send(stub, session_start(DECISION, sid, "lead", ["alice"]), "lead").ok
        proposal = decision_pb2.ProposalPayload(proposal_id="p1", option="ship")
        assert send(stub, envelope(DECISION, "Proposal", sid, "alice", proposal), "alice").ok


def test_memory_stays_flat_with_eviction(
    runtime: LocalRuntime, clock: ManualClock, stub: Stub
) -> None:
    tracemalloc.start()
    try:
        after_eviction: list[int] = []
        held: list[int] = []
        for _ in range(ROUNDS):
            before = traced()
            run_round(stub)
            held.append(traced() - before)
            assert runtime.session_count() == SESSIONS_PER_ROUND
            for _ in range(2):  # expire (TTL), then evict once retention has passed
                clock.advance(runtime.config.session_retention_ms)
                runtime.sweep()
            assert runtime.session_count() == 0
            after_eviction.append(traced())
    finally:
        tracemalloc.stop()
    yardstick = min(held)
    assert yardstick > 0
    growth = after_eviction[-1] - after_eviction[1]  # round 0 warms caches up
    assert growth < yardstick // 4, (growth, yardstick, after_eviction)
