"""`make compat`: run the published clients of macp-sdk-python 0.22.0 on this project's SDK.

For each client (compat/clients.py) a virtual environment under ``.cache/compat/<sdk>/<client>``
gets, in this order: the SDK (``--sdk ours``: this project's wheel with its receipts extra;
``--sdk anchor``: macp-sdk-python 0.22.0 from PyPI, for a reference run), the client's other
requirements, and the client itself with ``--no-deps`` (its metadata requires
macp-sdk-python, which ours replaces). With ``--sdk ours`` the run stops if
macp-sdk-python or macp-proto got in anyway. Then the client's driver (compat/drivers/) runs
its flows in that environment, each flow against the embedded runtime: in process
(``macp_sdk.local_runtime.LocalRuntime``) on our SDK, and as a ``macp-local-runtime``
process from this project's .venv for the anchor, which has no embedded runtime.

Prints one line per flow, a count per client and the summary ``compat: N passed, M failed``;
exits 1 when a flow failed. Results also go to ``.cache/compat/<sdk>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from clients import ANCHOR_SDK, CLIENTS, REPLACED, Client

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = ROOT / "compat" / "drivers"
CACHE = ROOT / ".cache" / "compat"
RESULT_PREFIX = "compat-result "
DRIVER_TIMEOUT_S = 600


def _log(message: str) -> None:
    print(message, flush=True)


def _run(cmd: Sequence[str], **kwargs: object) -> None:
    result = subprocess.run(list(cmd), capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"compat: command failed ({result.returncode}): {' '.join(cmd)}")


def build_wheel(project: Path) -> Path:
    """The project's wheel, built fresh so the run tests the current tree."""
    dist = CACHE / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    _log(f"compat: building the wheel of {project}")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(dist),
            str(project),
        ]
    )
    wheels = sorted(dist.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"compat: expected one wheel in {dist}, found {wheels}")
    return wheels[0]


def _installed(python: Path, distribution: str) -> bool:
    probe = (
        "import importlib.metadata as m, sys\n"
        "try: m.version(sys.argv[1])\n"
        "except m.PackageNotFoundError: sys.exit(1)"
    )
    return subprocess.run([str(python), "-c", probe, distribution]).returncode == 0


def prepare(client: Client, sdk: str, wheel: Path | None) -> Path:
    """The client's venv with the chosen SDK in it; returns its python."""
    home = CACHE / sdk / client.name
    python = home / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    stamp = home / ".compat-stamp"
    wanted = json.dumps(
        {
            "sdk": ANCHOR_SDK if sdk == "anchor" else "ours",
            "deps": client.deps,
            "client": client.requirement,
        }
    )
    fresh = not (python.exists() and stamp.exists() and stamp.read_text() == wanted)
    if fresh:
        _log(f"compat: creating {home.relative_to(ROOT)} (downloads {client.name}'s dependencies)")
        shutil.rmtree(home, ignore_errors=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
    # The SDK first, then the client's other requirements, then the client without its deps.
    if sdk == "ours":
        assert wheel is not None
        if fresh:
            _run([*pip, f"{wheel}[receipts]"])
        else:  # deps are in place; swap in the freshly built project
            _run([*pip, "--no-deps", "--force-reinstall", str(wheel)])
    elif fresh:
        _run([*pip, ANCHOR_SDK])
    if fresh:
        _run([*pip, *client.deps])
        _run([*pip, "--no-deps", client.requirement])
        stamp.write_text(wanted)
    if sdk == "ours":
        intruders = [name for name in REPLACED if _installed(python, name)]
        if intruders:
            raise SystemExit(
                f"compat: {', '.join(intruders)} got into {home}; ours must replace it"
            )
    return python


@contextmanager
def runtime_process() -> Iterator[str]:
    """A `macp-local-runtime` from this project's .venv (for SDKs without an embedded one)."""
    command = ROOT / ".venv" / "bin" / "macp-local-runtime"
    proc = subprocess.Popen(
        [str(command), "--allow-insecure", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "listening on " not in line:
            raise SystemExit(f"compat: macp-local-runtime did not start: {line!r}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_driver(client: Client, python: Path, target: str | None) -> list[dict[str, object]]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if target:
        env["MACP_COMPAT_TARGET"] = target
    try:
        proc = subprocess.run(
            [str(python), str(DRIVERS / client.driver)],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(DRIVERS),
            timeout=DRIVER_TIMEOUT_S,
        )
        output, errors, status = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as expired:
        output = (
            expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        )
        errors, status = f"driver timed out after {DRIVER_TIMEOUT_S} s", -1
    results = [
        json.loads(line[len(RESULT_PREFIX) :])
        for line in output.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    if status != 0 and not results:
        results = [{"flow": "driver", "ok": False, "detail": (errors or output)[-2000:]}]
    return results


def _headline(detail: str) -> str:
    """The exception line of a traceback (gRPC errors end in a lone '>')."""
    lines = [line.strip(" |") for line in detail.splitlines() if line.strip(" |+-")]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk", choices=("ours", "anchor"), default="ours")
    parser.add_argument("--client", action="append", choices=[c.name for c in CLIENTS])
    parser.add_argument(
        "--project",
        type=Path,
        default=ROOT,
        help="the source tree whose wheel is 'ours' (default: this one), e.g. a merge preview",
    )
    args = parser.parse_args(argv)
    chosen = [c for c in CLIENTS if not args.client or c.name in args.client]
    wheel = build_wheel(args.project.resolve()) if args.sdk == "ours" else None
    report: dict[str, list[dict[str, object]]] = {}
    for client in chosen:
        python = prepare(client, args.sdk, wheel)
        if args.sdk == "anchor":
            with runtime_process() as target:
                results = run_driver(client, python, target)
        else:
            results = run_driver(client, python, None)
        report[client.name] = results
        for r in results:
            status = "PASS" if r["ok"] else "FAIL"
            detail = "" if r["ok"] else f": {_headline(str(r.get('detail', '')))}"
            _log(f"  {status} {client.name} {r['flow']}{detail}")
    (CACHE / args.sdk).mkdir(parents=True, exist_ok=True)
    (CACHE / args.sdk / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    total_pass = total_fail = 0
    for name, results in report.items():
        passed = sum(1 for r in results if r["ok"])
        failed = len(results) - passed
        total_pass += passed
        total_fail += failed
        _log(f"{name} ({args.sdk} SDK): {passed} passed, {failed} failed")
    _log(f"compat: {total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
