"""One side of one in-process figure, timed by pyperf. Runs under either virtual environment.

    python bench/workload.py vote --side ours --size 1000 -o out.json
    python bench/workload.py replay --side ref -o out.json

Sides: ``ours`` (this project's macp_sdk, our venv), ``ref`` (macp-sdk-python 0.22.0, its own
venv: it ships its own ``macp`` package) and ``floor`` (protobuf alone, our venv's bindings).
Each pyperf value is the time of one action (one ``vote()``, one envelope replayed), in CPU
time of this process: the work is single-threaded and CPU-bound, and on a shared machine wall
time mostly measures the neighbours.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyperf

_clock = time.process_time  # CPU seconds of this process (see the module docstring)
MODE = "macp.mode.decision.v1"
ORCH = "agent://orch"
REPLAY_ENVELOPES = 100_000


def _envelope(
    envelope_pb2: Any, session_id: str, index: int, sender: str, kind: str, payload: Any
) -> Any:
    return envelope_pb2.Envelope(
        macp_version="1.0",
        mode=MODE,
        message_type=kind,
        message_id=f"m{index}",
        session_id=session_id,
        sender=sender,
        timestamp_unix_ms=1_700_000_000_000 + index,
        payload=payload.SerializeToString(),
    )


def decision_history(session_id: str, count: int) -> list[Any]:
    """SessionStart, then ``count`` accepted actions: Proposal, Evaluation, Objection, 3 Votes.

    Each (proposal, voter) pair votes once, so no side records duplicate-vote anomalies.
    """
    from macp.modes.decision.v1 import decision_pb2
    from macp.v1 import core_pb2, envelope_pb2

    start = core_pb2.SessionStartPayload(
        intent="bench",
        participants=[ORCH, "agent://a", "agent://b", "agent://c"],
        mode_version="1.0.0",
        configuration_version="cfg-1",
        ttl_ms=3_600_000,
    )
    out = [_envelope(envelope_pb2, session_id, 0, ORCH, "SessionStart", start)]
    for index in range(1, count + 1):
        step, pid = (index - 1) % 6, f"p{(index - 1) // 6}"
        if step == 0:
            kind, sender = "Proposal", ORCH
            payload: Any = decision_pb2.ProposalPayload(proposal_id=pid, option="deploy")
        elif step == 1:
            kind, sender = "Evaluation", "agent://a"
            payload = decision_pb2.EvaluationPayload(
                proposal_id=pid, recommendation="APPROVE", confidence=0.9, reason="ok"
            )
        elif step == 2:
            kind, sender = "Objection", "agent://b"
            payload = decision_pb2.ObjectionPayload(proposal_id=pid, reason="r", severity="low")
        else:
            kind, sender = "Vote", f"agent://{'abc'[step - 3]}"
            payload = decision_pb2.VotePayload(proposal_id=pid, vote="APPROVE")
        out.append(_envelope(envelope_pb2, session_id, index, sender, kind, payload))
    return out


class _AckAtOnce:
    """A client whose send returns an ok Ack at once: the network is excluded."""

    auth = None

    def __init__(self) -> None:
        from macp.v1 import envelope_pb2

        self.ack = envelope_pb2.Ack(ok=True)

    def send(self, envelope: Any, **kwargs: Any) -> Any:
        return self.ack


def _session(side: str) -> Any:
    if side == "ours":
        from macp_sdk import DecisionSession
    else:
        from macp_sdk.decision import DecisionSession
    return DecisionSession(_AckAtOnce())


def _voters(count: int) -> list[str]:
    return [f"agent://voter-{k}" for k in range(count)]


def vote_time(side: str, size: int) -> Callable[[int], float]:
    """Seconds for ``loops`` votes in a session already holding ``size`` actions."""
    if side == "floor":
        from macp.modes.decision.v1 import decision_pb2
        from macp.v1 import envelope_pb2

        session_id = str(uuid.uuid4())

        def floor(loops: int) -> float:
            voters = _voters(loops)
            t0 = _clock()
            for k in range(loops):
                payload = decision_pb2.VotePayload(proposal_id="p0", vote="APPROVE", reason="")
                envelope_pb2.Envelope(
                    macp_version="1.0",
                    mode=MODE,
                    message_type="Vote",
                    message_id=str(uuid.uuid4()),
                    session_id=session_id,
                    sender=voters[k],
                    timestamp_unix_ms=time.time_ns() // 1_000_000,
                    payload=payload.SerializeToString(),
                ).SerializeToString()
            return _clock() - t0

        return floor

    session = _session(side)
    for envelope in decision_history(session.session_id, size):
        session.projection.apply_envelope(envelope)
    proposals = max(1, size // 6)
    offset = [0]

    def timed(loops: int) -> float:
        voters = _voters(offset[0] + loops)[offset[0] :]
        pids = [f"p{k % proposals}" for k in range(loops)]
        offset[0] += loops
        vote = session.vote
        t0 = _clock()
        for k in range(loops):
            vote(pids[k], "APPROVE", sender=voters[k])
        return _clock() - t0

    return timed


def _payload_classes() -> dict[str, Any]:
    """Message type -> payload class of the replayed history."""
    from macp.modes.decision.v1 import decision_pb2
    from macp.v1 import core_pb2

    return {
        "SessionStart": core_pb2.SessionStartPayload,
        "Proposal": decision_pb2.ProposalPayload,
        "Evaluation": decision_pb2.EvaluationPayload,
        "Objection": decision_pb2.ObjectionPayload,
        "Vote": decision_pb2.VotePayload,
    }


def replay_time(side: str) -> Callable[[int], float]:
    """Seconds to replay REPLAY_ENVELOPES accepted envelopes into a fresh projection."""
    history = decision_history(str(uuid.uuid4()), REPLAY_ENVELOPES - 1)
    if side == "floor":
        classes = _payload_classes()

        def floor(loops: int) -> float:
            total = 0.0
            for _ in range(loops):
                t0 = _clock()
                for envelope in history:
                    classes[envelope.message_type].FromString(envelope.payload)
                total += _clock() - t0
            return total

        return floor

    if side == "bound":
        return _bound(history)
    if side in ("ours", "unjournaled"):
        from macp_sdk.projections.decision import DecisionProjection
    else:
        from macp_sdk.projections import DecisionProjection

    def timed(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            projection = DecisionProjection()
            if side == "unjournaled":
                _unjournal(projection)
            apply = projection.apply_envelope
            t0 = _clock()
            for envelope in history:
                apply(envelope)
            total += _clock() - t0
            if projection.anomalies if side != "ref" else False:
                raise SystemExit(f"unexpected anomalies: {projection.anomalies[:3]}")
        return total

    return timed


def _unjournal(projection: Any) -> None:
    """Swaps the scaffold's tracked containers for plain ones the undo journal cannot see:
    what our projection costs without exact rollback of mode state (0.22.0 rolls back only
    its transcript and dedup set). Context for the report, not a way to use the SDK."""
    for name in ("proposals", "votes", "evaluations", "objections"):
        value = getattr(projection, name)
        plain = next(kind for kind in type(value).__mro__ if kind in (dict, list, set))
        object.__setattr__(projection, name, plain(value))


def _bound(history: list[Any]) -> Callable[[int], float]:
    """The least a Python projection keeping anything of each envelope does (see report)."""
    classes = _payload_classes()

    def bound(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            seen: set[str] = set()
            kept: list[tuple[str, str, str]] = []
            t0 = _clock()
            for envelope in history:
                message_id = envelope.message_id
                if message_id in seen:
                    continue
                payload = classes[envelope.message_type].FromString(envelope.payload)
                kept.append((getattr(payload, "proposal_id", ""), envelope.sender, message_id))
                seen.add(message_id)
            total += _clock() - t0
        return total

    return bound


def main() -> None:
    logging.disable(logging.WARNING)  # both SDKs log insecure channels etc.; not timed work

    def pass_args(cmd: list[str], args: Any) -> None:
        cmd.extend([args.figure, "--side", args.side, "--size", str(args.size)])

    runner = pyperf.Runner(add_cmdline_args=pass_args)
    runner.argparser.add_argument("figure", choices=["vote", "replay"])
    runner.argparser.add_argument(
        "--side", choices=["ours", "ref", "floor", "bound", "unjournaled"], required=True
    )
    runner.argparser.add_argument("--size", type=int, default=0)
    args = runner.parse_args()
    if args.figure == "vote":
        name = f"vote-{args.size}-{args.side}"
        runner.bench_time_func(name, vote_time(args.side, args.size))
    else:
        name = f"replay-{args.side}"
        runner.bench_time_func(name, replay_time(args.side), inner_loops=REPLAY_ENVELOPES)


if __name__ == "__main__":
    main()
