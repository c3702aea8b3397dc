"""CPU time of one command, timed by pyperf: user + system time of the process and of the
processes it waited for (ruff, under ``generate``), read with ``wait4``.

    python bench/command.py --name check --cmd '["macp-codegen", "check"]' -o out.json

Wall time of a short command on a shared machine mostly measures the neighbours; CPU time
is what the command itself costs. ``--fresh DIR`` makes DIR absent before every run (untimed):
with ``--trash T`` it is moved into T with one rename (the caller deletes T when the whole
bench run ends), otherwise it is deleted (why that matters: bench/scratch.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import pyperf
from scratch import clear  # bench/scratch.py, next to this file


def cpu_seconds(argv: list[str], fresh: str, trash: str, cwd: str) -> Callable[[int], float]:
    def run(loops: int) -> float:
        total = 0.0
        for _ in range(loops):
            if fresh:
                clear(fresh, trash)
            proc = subprocess.Popen(
                argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                raise SystemExit(f"{argv} exited {proc.returncode}")
            total += usage.ru_utime + usage.ru_stime
        return total

    return run


def main() -> None:
    def pass_args(cmd: list[str], args: Any) -> None:
        cmd.extend(["--name", args.name, "--cmd", args.cmd, "--fresh", args.fresh])
        cmd.extend(["--trash", args.trash, "--cwd", args.cwd])

    runner = pyperf.Runner(add_cmdline_args=pass_args)
    runner.argparser.add_argument("--name", required=True)
    runner.argparser.add_argument("--cmd", required=True, help="the command, a JSON list")
    runner.argparser.add_argument("--fresh", default="")
    runner.argparser.add_argument("--trash", default="", help="move --fresh here, not delete")
    runner.argparser.add_argument("--cwd", default=os.getcwd())
    args = runner.parse_args()
    run = cpu_seconds(json.loads(args.cmd), args.fresh, args.trash, args.cwd)
    runner.bench_time_func(args.name, run)


if __name__ == "__main__":
    main()
