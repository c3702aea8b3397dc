"""Render docs/performance.md from the figures bench/run.py collected."""

from __future__ import annotations

from typing import Any, Protocol


class _Series(Protocol):
    values: list[float]

    @property
    def median(self) -> float: ...

    def quantile(self, q: float) -> float: ...


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _cell(series: _Series | None) -> str:
    if series is None or not series.values:
        return "n/a"
    spread = f"{_fmt(series.quantile(0.25))}–{_fmt(series.quantile(0.75))}"
    return f"**{_fmt(series.median)}** ({spread}, n={len(series.values)})"


def _ratio(a: _Series | None, b: _Series | None) -> float | None:
    if a is None or b is None or not a.values or not b.values:
        return None
    return a.median / b.median


def _rate(series: _Series | None) -> str:
    return "n/a" if series is None or not series.values else f"{1 / series.median:,.0f}/s"


def _x(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}×"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def render(
    *,
    results: dict[str, Any],
    memory: dict[str, float],
    per_session_kib: float | None,
    latencies: dict[int, tuple[float, float]],
    machine: str,
    date: str,
    repetitions: int,
    minutes: float,
) -> str:
    get = results.get
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Re-run it after a change",
        "that could move a figure and commit the result.",
        "",
        f"- Date: {date}",
        f"- Machine: {machine}",
        f"- Repetitions: {repetitions}, interleaved (every figure and side once, then again);",
        "  each side of each figure runs as its own process under pyperf. The reference SDK,",
        "  macp-sdk-python 0.22.0, runs from its own virtual environment (.bench/ref).",
        "  To keep one run within ~15 minutes on 2 cores the counts are small: per repetition",
        "  `vote()` takes 3 values of 2,000 calls, replay 2 values of 100,000 envelopes, end to",
        "  end and generator scale 1 value each, the command figures 10 runs (generate 3).",
        f"- Whole run: {minutes:.1f} min. Cells: **median** (p25–p75 of all values, n values).",
        "- The machine is shared. The in-process figures (`vote()`, replay) are timed in CPU time",
        "  of the benchmark process, which the neighbours barely move; the others are wall time",
        "  (a process start, gRPC and a second process are part of what they measure), so their",
        "  absolute numbers move with the load and their ratios, taken from interleaved runs,",
        "  much less.",
        "",
        "## Per-action overhead: `vote()`",
        "",
        "One `DecisionSession.vote()` (builder, validation, envelope, projection) with a client",
        "whose `send` returns an ok Ack at once, in a session already holding N actions",
        "(Proposal, Evaluation, Objection and three Votes per proposal). Floor: building and",
        "serializing the VotePayload and the Envelope with protobuf directly.",
        "Target: ≤ 1.5× floor at every size.",
        "",
        "| actions in session | ours | 0.22.0 | floor | ours / 0.22.0 | ours / floor | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in (10, 1_000, 100_000):
        ours, ref, floor = (get(f"vote-{size}-{s}") for s in ("ours", "ref", "floor"))
        to_floor = _ratio(ours, floor)
        lines.append(
            f"| {size:,} | {_cell(ours)} | {_cell(ref)} | {_cell(floor)} | "
            f"{_x(_ratio(ours, ref))} | {_x(to_floor)} | "
            f"{_verdict(None if to_floor is None else to_floor <= 1.5)} |"
        )
    ours, ref, floor, bound, bare = (
        get(f"replay-{s}") for s in ("ours", "ref", "floor", "bound", "unjournaled")
    )
    to_ref, to_floor = _ratio(ours, ref), _ratio(ours, floor)
    lines += [
        "",
        "## Projection replay",
        "",
        "100,000 accepted decision envelopes applied to a fresh projection; time per envelope.",
        "Floor: decoding the payloads alone. Target: at least 0.22.0's rate, ≤ 2× floor.",
        "Bound (context, not a target): the least a Python projection that keeps anything of",
        "each envelope does — decode the payload, skip a repeated `message_id`, keep a 3-tuple",
        "(subject, sender, message_id) — with no hooks, phases, records or rollback.",
        "Unjournaled (context, not a way to use the SDK): ours with the scaffold's containers",
        "swapped for plain ones the undo journal cannot see, i.e. without exact rollback of mode",
        "state, which 0.22.0 does not offer (it rolls back only its transcript and dedup set).",
        "",
        "| | ours | 0.22.0 | floor | bound | unjournaled |",
        "|---|---|---|---|---|---|",
        f"| per envelope | {_cell(ours)} | {_cell(ref)} | {_cell(floor)} | {_cell(bound)} "
        f"| {_cell(bare)} |",
        f"| rate | {_rate(ours)} | {_rate(ref)} | {_rate(floor)} | {_rate(bound)} "
        f"| {_rate(bare)} |",
        "",
        f"ours / 0.22.0: {_x(to_ref)} ({_verdict(None if to_ref is None else to_ref <= 1.0)});"
        f" ours / floor: {_x(to_floor)}"
        f" ({_verdict(None if to_floor is None else to_floor <= 2.0)});"
        f" bound / floor: {_x(_ratio(bound, floor))};"
        f" unjournaled / 0.22.0: {_x(_ratio(bare, ref))}.",
    ]
    ours, ref, floor = (get(f"e2e-{s}") for s in ("ours", "ref", "floor"))
    to_floor = _ratio(ours, floor)
    lines += [
        "",
        "## End to end over loopback gRPC",
        "",
        "10,000 actions (2,500 proposals, then 7,500 votes) in one decision session against the",
        "embedded runtime in its own process; time per action (blocking Send until the Ack).",
        "Floor: a raw generated stub sending the same envelopes. Target: ≤ 1.1× raw stub.",
        "",
        "| | ours | 0.22.0 | raw stub | ours / 0.22.0 | ours / raw stub | target |",
        "|---|---|---|---|---|---|---|",
        f"| per action | {_cell(ours)} | {_cell(ref)} | {_cell(floor)} | "
        f"{_x(_ratio(ours, ref))} | {_x(to_floor)} | "
        f"{_verdict(None if to_floor is None else to_floor <= 1.1)} |",
    ]
    lines += [
        "",
        "## `import macp_sdk`",
        "",
        "A fresh interpreter importing the package and the client and session names. Floor:",
        "`grpc` and the `_pb2` modules (envelope, core, core gRPC, decision). Wall time is the",
        "process's; CPU time (user + system) is what the import itself costs whatever the",
        "neighbours do, so the ratios and the verdict use it. Import only: minus a bare",
        "interpreter (`python -c pass`). Peak memory: the process's max RSS. Every side reads",
        "compiled bytecode, as an installed wheel has it (pip compiles on install; the bench",
        "runs `compileall` over this checkout's packages first).",
        "Target: ≤ 1.15× floor.",
        "",
        "| | wall (process) | CPU (process) | CPU, import only | peak RSS "
        "| import / floor | RSS / floor | import / 0.22.0 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    bare = get("import-cpu-python")

    def import_only(side: str) -> float | None:
        series = get(f"import-cpu-{side}")
        if series is None or bare is None or not series.values or not bare.values:
            return None
        return float(series.median - bare.median)

    floor_only, ref_only = import_only("floor"), import_only("ref")
    for side, label in (
        ("ours", "ours"),
        ("ref", "0.22.0"),
        ("floor", "floor"),
        ("python", "python -c pass"),
    ):
        only = import_only(side)
        only_ratio = None if only is None or not floor_only else only / floor_only
        mem = memory.get(side)
        mem_ratio = None if mem is None or not memory.get("floor") else mem / memory["floor"]
        to_ref = None if only is None or not ref_only else only / ref_only
        verdict = ""
        if side == "ours" and only_ratio is not None and mem_ratio is not None:
            verdict = f" ({_verdict(only_ratio <= 1.15)} / {_verdict(mem_ratio <= 1.15)})"
        ratios = "| | |" if side == "python" else f"| {_x(only_ratio)} | {_x(mem_ratio)}{verdict} |"
        lines.append(
            f"| {label} | {_cell(get(f'import-{side}'))} | {_cell(get(f'import-cpu-{side}'))} | "
            f"{'n/a' if only is None else _fmt(only)} | "
            f"{'n/a' if mem is None else f'{mem / 1024:.1f} MiB'} {ratios} "
            f"{_x(to_ref) if side == 'ours' else ''} |"
        )
    check, protoc, generate = get("check-noop"), get("protoc"), get("generate")
    to_protoc = _ratio(check, protoc)
    lines += [
        "",
        "## `macp-codegen check` and `generate`",
        "",
        "`check` with nothing to do, in this repository; `generate` of this project's SDK into a",
        "copy of it; floor: a bare protoc process (`python -m grpc_tools.protoc --python_out`) on",
        "the same protos. CPU time (user + system) of each process and what it waited for.",
        "Target: no-op check ≤ 1.5× protoc.",
        "",
        "| | time | / protoc | target |",
        "|---|---|---|---|",
        f"| check (no-op) | {_cell(check)} | {_x(to_protoc)} | "
        f"{_verdict(None if to_protoc is None else to_protoc <= 1.5)} |",
        f"| generate | {_cell(generate)} | {_x(_ratio(generate, protoc))} | reported |",
        f"| protoc | {_cell(protoc)} | 1.00× | |",
    ]
    lines += [
        "",
        "## Generator scale",
        "",
        "`macp-codegen generate` from scratch for N synthetic modes (copies of the golden widget",
        "mode), one run per size and repetition; CPU time (user + system, ruff included).",
        "Each run writes into a folder never used before: the previous run's output is moved",
        "aside with one rename (untimed) and deleted when the whole bench run ends. Target:",
        "linear, ≤ 2 s at 200 modes.",
        "",
        "| modes | time | per mode | per added mode |",
        "|---|---|---|---|",
    ]
    previous: tuple[int, float] | None = None
    for count in (1, 10, 50, 200):
        series = get(f"scale-{count}")
        median = series.median if series is not None and series.values else None
        per = "n/a" if median is None else _fmt(median / count)
        # The slope from the previous size: what one more mode costs, fixed costs left out.
        added = "n/a"
        if median is not None and previous is not None:
            slope = (median - previous[1]) / (count - previous[0])
            added = ("-" if slope < 0 else "") + _fmt(abs(slope))
        lines.append(f"| {count} | {_cell(series)} | {per} | {added} |")
        previous = None if median is None else (count, median)
    at_200 = get("scale-200")
    if at_200 is not None and at_200.values:
        lines.append("")
        lines.append(f"200 modes in {_fmt(at_200.median)}: {_verdict(at_200.median <= 2.0)}.")
    after_delete = get("scale-200-after-delete")
    if after_delete is not None and after_delete.values:
        lines += [
            "",
            f"Context, not the figure: 200 modes right after deleting the previous output, "
            f"{_cell(after_delete)}.",
            "Run last, after every other figure. It costs more system time because ext4 without",
            "a journal skips recently freed inodes (≈30 s) when it allocates new ones.",
        ]
    lines += [
        "",
        "## Embedded runtime",
        "",
        "Accepted messages per second (Proposals through a raw stub, blocking Send) with 1",
        "session from 1 thread (1,500 messages) and 50 concurrent sessions from 10 threads",
        "(60 messages each), runtime in its own process; latency is per Send. Memory: runtime",
        "RSS growth per open session over 1,000 SessionStarts. Reported (the issue measured",
        "≈1,300 msg/s at 50 sessions from 10 threads, p50 7 ms, p99 14 ms).",
        "",
        "| sessions | msg/s | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for sessions in (1, 50):
        series = get(f"runtime-{sessions}")
        rate_text = "n/a" if series is None or not series.values else f"{1 / series.median:,.0f}"
        p50, p99 = latencies.get(sessions, (None, None))
        lines.append(
            f"| {sessions} | {rate_text} | {'n/a' if p50 is None else _fmt(p50)} | "
            f"{'n/a' if p99 is None else _fmt(p99)} |"
        )
    lines += [
        "",
        "Memory per open session: "
        + ("n/a" if per_session_kib is None else f"{per_session_kib:.1f} KiB")
        + ".",
        "",
    ]
    return "\n".join(lines)
