"""`make bench`: every figure of docs/performance.md, side by side with 0.22.0 and the floor.

Run with this project's venv (``.venv/bin/python bench/run.py``); ``make bench`` first builds
``.bench/ref``, a separate venv holding macp-sdk-python 0.22.0 (it ships its own ``macp``
package, so it never shares an environment with ours). Each side of each figure runs as its
own process under pyperf; the repetitions are interleaved (rep 1 of every figure and side,
then rep 2, ...) so a noisy neighbour hits all sides alike. The report gives the median of
all values and their spread (p25-p75 and min-max).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyperf

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OURS = ROOT / ".venv" / "bin" / "python"
REF = ROOT / ".bench" / "ref" / "bin" / "python"
SIDES = ("ours", "ref", "floor")
VOTE_SIZES = (10, 1_000, 100_000)
SCALE_MODES = (1, 10, 50, 200)


@dataclass
class Series:
    """All values (seconds) one benchmark produced over the repetitions."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Job:
    name: str
    command: list[str]
    cwd: Path = ROOT
    before: Callable[[], object] | None = None


def python_for(side: str) -> str:
    return str(REF if side == "ref" else OURS)


def pyperf_opts(processes: int, values: int, warmups: int, loops: int | None) -> list[str]:
    opts = ["--processes", str(processes), "--values", str(values), "--warmups", str(warmups)]
    return opts + (["--loops", str(loops)] if loops else [])


def run_job(job: Job, results: dict[str, Series], scratch: Path) -> None:
    out = scratch / f"{job.name}.json"
    out.unlink(missing_ok=True)
    if job.before is not None:
        job.before()
    started = time.monotonic()
    command = list(job.command)
    at = command.index("--") if "--" in command else len(command)  # pyperf command: before --
    command[at:at] = ["--quiet", "-o", str(out)]
    proc = subprocess.run(command, cwd=job.cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  {job.name}: FAILED\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}", flush=True)
        return
    bench = pyperf.Benchmark.load(str(out))
    results.setdefault(job.name, Series()).values.extend(bench.get_values())
    took = time.monotonic() - started
    print(f"  {job.name}: median {results[job.name].median:.3g} s ({took:.0f} s)", flush=True)


# -- figures --------------------------------------------------------------------------------


def in_process_jobs(quick: bool) -> list[Job]:
    jobs = []
    for size in VOTE_SIZES:
        for side in SIDES:
            cmd = [python_for(side), str(BENCH / "workload.py"), "vote", "--side", side]
            cmd += ["--size", str(size), *pyperf_opts(1, 3, 1, 500 if quick else 2000)]
            jobs.append(Job(f"vote-{size}-{side}", cmd))
    for side in (*SIDES, "bound", "unjournaled"):
        cmd = [python_for(side), str(BENCH / "workload.py"), "replay", "--side", side]
        jobs.append(Job(f"replay-{side}", cmd + pyperf_opts(1, 2, 0, 1)))
    return jobs


def command_job(name: str, argv: list[str], values: int, cwd: Path = ROOT) -> Job:
    """Wall time of a command (pyperf command)."""
    cmd = [str(OURS), "-m", "pyperf", "command", *pyperf_opts(1, values, 1, 1)]
    return Job(name, [*cmd, "--", *argv], cwd)


def cpu_job(
    name: str, argv: list[str], values: int, fresh: Path | None = None, trash: Path | None = None
) -> Job:
    """CPU time of a command (bench/command.py): what it costs, whatever the neighbours do.
    `fresh` is made absent before each run, untimed: moved into `trash` when given, else
    deleted (why: bench/scratch.py)."""
    cmd = [str(OURS), str(BENCH / "command.py"), "--name", name, "--cmd", json.dumps(argv)]
    cmd += ["--cwd", str(ROOT), "--fresh", str(fresh or ""), "--trash", str(trash or "")]
    return Job(name, cmd + pyperf_opts(1, values, 1, 1))


PACKAGE_DIRS = ("core", "generated", "generator", "local_runtime")
IMPORTS = {
    "ours": "import macp_sdk; from macp_sdk import MacpClient, DecisionSession",
    "ref": "import macp_sdk; from macp_sdk import MacpClient, DecisionSession",
    "floor": (
        "import grpc; from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2; "
        "from macp.modes.decision.v1 import decision_pb2"
    ),
    "python": "pass",
}


def import_jobs() -> list[Job]:
    wall = [
        command_job(f"import-{side}", [python_for(side), "-c", code], 10)
        for side, code in IMPORTS.items()
    ]
    cpu = [
        cpu_job(f"import-cpu-{side}", [python_for(side), "-c", code], 10)
        for side, code in IMPORTS.items()
    ]
    return wall + cpu


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))


def codegen_jobs(scratch: Path) -> list[Job]:
    import grpc_tools

    wkt = Path(grpc_tools.__file__).parent / "_proto"
    protoc_out = scratch / "protoc-out"
    protoc_out.mkdir(exist_ok=True)
    # The toolkit ships options.proto (the mode protos import it): protoc compiles it too, as
    # `generate` does.
    toolkit = ROOT / "generator" / "macp_codegen" / "proto"
    protoc = [str(OURS), "-m", "grpc_tools.protoc", "-Iproto", f"-I{toolkit}", f"-I{wkt}"]
    protoc += [f"--python_out={protoc_out}", *proto_files(), "macp/sdk/v1/options.proto"]
    # `generate` writes: give it its own copy of the project so the worktree is never touched.
    project = scratch / "generate-project"
    if not project.exists():
        shutil.copytree(ROOT / "proto", project / "proto")
        shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
        shutil.copytree(ROOT / "generated", project / "generated")
    codegen = str(ROOT / ".venv" / "bin" / "macp-codegen")
    return [
        cpu_job("check-noop", [codegen, "check"], 10),
        cpu_job("protoc", protoc, 10),
        cpu_job("generate", [codegen, "generate", "--project-root", str(project)], 3),
    ]


def scale_project(scratch: Path, count: int) -> tuple[list[str], Path]:
    """The `generate` command for `count` synthetic modes, and its output folder."""
    project = scratch / f"scale-{count}"
    if not project.exists():
        subprocess.run([str(OURS), str(BENCH / "synth.py"), str(project), str(count)], check=True)
    out = project / "out"
    codegen = str(ROOT / ".venv" / "bin" / "macp-codegen")
    argv = [codegen, "generate", "--project-root", str(project), "--proto-root"]
    argv += [str(project / "proto"), "--include", str(ROOT / "proto"), "--output", str(out)]
    return argv, out


def scale_jobs(scratch: Path) -> list[Job]:
    """Each run generates from scratch into a folder never used before: the previous output is
    moved into the trash (deleted when the whole bench run ends), not deleted before the run."""
    jobs = []
    for count in SCALE_MODES:
        argv, out = scale_project(scratch, count)
        jobs.append(cpu_job(f"scale-{count}", argv, 1, fresh=out, trash=trash_folder(scratch)))
    return jobs


def scale_after_delete_jobs(scratch: Path) -> list[Job]:
    """Context for the scale figure: 200 modes right after deleting the previous output (as
    `rm -rf out && macp-codegen generate` would). Run after every other figure, so that no
    other run pays for the inodes it frees."""
    argv, out = scale_project(scratch, 200)
    return [cpu_job("scale-200-after-delete", argv, 1, fresh=out)]


def trash_folder(scratch: Path) -> Path:
    return scratch / "trash"


class Runtime:
    """The embedded runtime in its own process, on a free loopback port."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.target = ""

    def start(self) -> str:
        self.stop()
        runtime = str(ROOT / ".venv" / "bin" / "macp-local-runtime")
        self.proc = subprocess.Popen(
            # Plaintext on loopback: the command refuses it without the explicit opt-in.
            [runtime, "--listen", "127.0.0.1:0", "--allow-insecure"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        # "macp-local-runtime listening on HOST:PORT (plaintext, dev-mode auth)"
        line = self.proc.stdout.readline()
        self.target = line.split(" listening on ", 1)[1].split()[0]
        return self.target

    def rss_kib(self) -> int:
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None


def network_jobs(runtime: Runtime, scratch: Path) -> list[Job]:
    jobs = []
    fresh = runtime.start  # a fresh runtime per job: earlier sessions never weigh on the next
    for side in SIDES:
        cmd = [python_for(side), str(BENCH / "e2e.py"), "--side", side, "--target", "{target}"]
        jobs.append(Job(f"e2e-{side}", cmd + pyperf_opts(1, 1, 0, 1), before=fresh))
    for sessions, threads in ((1, 1), (50, 10)):
        latencies = scratch / f"latencies-{sessions}.json"
        cmd = [str(OURS), str(BENCH / "runtime_load.py"), "--sessions", str(sessions)]
        cmd += ["--threads", str(threads), "--target", "{target}", "--latencies", str(latencies)]
        jobs.append(Job(f"runtime-{sessions}", cmd + pyperf_opts(1, 3, 1, 1), before=fresh))
    return jobs


def session_memory(runtime: Runtime, sessions: int = 1_000) -> float:
    """KiB of runtime RSS per open session (SessionStart only), in a fresh runtime."""
    target = runtime.start()
    code = f"""
import sys, uuid, grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2
stub = core_pb2_grpc.MACPRuntimeServiceStub(grpc.insecure_channel({target!r}))
md = (("authorization", "Bearer orch"),)
def start():
    payload = core_pb2.SessionStartPayload(intent="m", participants=["orch", "a"],
        mode_version="1.0.0", configuration_version="config.default", ttl_ms=3_600_000)
    env = envelope_pb2.Envelope(macp_version="1.0", mode="macp.mode.decision.v1",
        message_type="SessionStart", message_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()),
        sender="orch", payload=payload.SerializeToString())
    assert stub.Send(core_pb2.SendRequest(envelope=env), metadata=md).ack.ok
count = int(sys.argv[1])
for _ in range(count):
    start()
"""
    subprocess.run([str(OURS), "-c", code, "50"], check=True)  # warm the server up
    before = runtime.rss_kib()
    subprocess.run([str(OURS), "-c", code, str(sessions)], check=True)
    after = runtime.rss_kib()
    runtime.stop()
    return (after - before) / sessions


def peak_rss_kib(argv: list[str], runs: int = 5) -> float:
    """Median peak RSS of a command (its own rusage, via wait4)."""
    peaks = []
    for _ in range(runs):
        proc = subprocess.Popen(argv)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed")
        peaks.append(usage.ru_maxrss)
    return statistics.median(peaks)


# -- the report -----------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            x.split(":", 1)[1].strip()
            for x in cpuinfo.read_text().splitlines()
            if x.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    version = subprocess.run(
        [str(OURS), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {version}, {platform.system()} {platform.release()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small counts, to try the harness")
    parser.add_argument("--only", default="", help="comma-separated job name prefixes")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    if not REF.exists():
        print("bench: .bench/ref is missing (make bench creates it)", file=sys.stderr)
        return 2
    os.environ.pop("PYTHONPATH", None)
    # Installed packages (0.22.0, grpc, protobuf) come with bytecode; give this checkout's the
    # same, so no side's import figure includes compiling sources.
    subprocess.run([str(OURS), "-m", "compileall", "-q", *PACKAGE_DIRS], cwd=ROOT, check=True)
    scratch = Path(tempfile.mkdtemp(prefix="macp-bench-"))
    runtime = Runtime()
    results: dict[str, Series] = {}
    started = time.monotonic()
    try:
        jobs = [
            *in_process_jobs(args.quick),
            *import_jobs(),
            *codegen_jobs(scratch),
            *scale_jobs(scratch),
            *network_jobs(runtime, scratch),
        ]
        last = scale_after_delete_jobs(scratch)
        if args.only:
            prefixes = tuple(args.only.split(","))
            jobs = [j for j in jobs if j.name.startswith(prefixes)]
            last = [j for j in last if j.name.startswith(prefixes)]
        for rep in range(1, args.repetitions + 1):
            print(f"repetition {rep}/{args.repetitions}", flush=True)
            for job in jobs:
                resolved = Job(job.name, job.command, job.cwd, job.before)
                if job.before == runtime.start:
                    job.before()
                    resolved = Job(
                        job.name, [runtime.target if c == "{target}" else c for c in job.command]
                    )
                run_job(resolved, results, scratch)
        # Figures that free many inodes go last: no later run pays for them (bench/scratch.py).
        for rep in range(1, args.repetitions + 1):
            for job in last:
                print(f"last figures, repetition {rep}/{args.repetitions}", flush=True)
                run_job(job, results, scratch)
        runtime.stop()
        memory = {
            side: peak_rss_kib([python_for(side), "-c", code]) for side, code in IMPORTS.items()
        }
        per_session = session_memory(runtime) if not args.only or "runtime" in args.only else None
        latencies = {}
        for sessions in (1, 50):
            path = scratch / f"latencies-{sessions}.json"
            if path.exists():
                values = sorted(json.loads(path.read_text()))
                latencies[sessions] = (
                    values[len(values) // 2],
                    values[min(len(values) - 1, int(0.99 * len(values)))],
                )
    finally:
        runtime.stop()
        shutil.rmtree(trash_folder(scratch), ignore_errors=True)
    from report import render  # bench/report.py, next to this file

    text = render(
        results=results,
        memory=memory,
        per_session_kib=per_session,
        latencies=latencies,
        machine=machine(),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        repetitions=args.repetitions,
        minutes=(time.monotonic() - started) / 60,
    )
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({(time.monotonic() - started) / 60:.1f} min)")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
