"""`make compat`'s own plumbing, without its downloads.

The suite itself (the three published clients in their own venvs) runs in `make compat`; here
we check that every driver imports in our .venv (the clients are imported inside the flows, so
a driver module needs only the standard library), that the harness reports each flow with
the embedded runtime, fails a flow on an exception or on a projection-anomaly warning, and
that the runner reads what a driver printed, including a driver that crashed.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / "compat"
DRIVERS = COMPAT / "drivers"


_MODULES = ("clients", "run", "_harness", "langgraph_flows", "claude_flows", "mcp_flows")


@pytest.fixture
def compat_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(DRIVERS))
    monkeypatch.syspath_prepend(str(COMPAT))
    yield
    for name in _MODULES:  # generic names: leave none behind for other tests
        sys.modules.pop(name, None)


def _load(name: str) -> ModuleType:
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def test_every_client_has_a_driver_with_named_flows(compat_path: None) -> None:
    clients = _load("clients")
    names = [c.name for c in clients.CLIENTS]
    assert names == ["langgraph-macp", "claude-agent-sdk-macp", "macp-mcp"]
    for client in clients.CLIENTS:
        assert (DRIVERS / client.driver).is_file(), client
        driver = _load(client.driver.removesuffix(".py"))
        flows = driver.FLOWS
        assert flows and all(callable(f) for f in flows), client.name
        assert flows[0].__name__ == "import_client", client.name
        assert len({f.__name__ for f in flows}) == len(flows), client.name
        # Installed with --no-deps: the SDK the client requires is never in its deps.
        assert not any(d.startswith(clients.REPLACED) for d in client.deps), client.name


def _results(out: str) -> list[dict[str, object]]:
    prefix = "compat-result "
    return [json.loads(line[len(prefix) :]) for line in out.splitlines() if line.startswith(prefix)]


def test_harness_runs_flows_on_the_embedded_runtime(
    compat_path: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MACP_COMPAT_TARGET", raising=False)
    harness = _load("_harness")
    targets: list[str] = []

    def reaches_runtime(target: str) -> None:
        from macp_sdk import AuthConfig, MacpClient

        targets.append(target)
        client = MacpClient(
            target=target, allow_insecure=True, auth=AuthConfig.for_dev_agent("probe")
        )
        try:
            assert client.list_modes()
        finally:
            client.close()

    def breaks(target: str) -> None:
        raise ValueError("broken on purpose")

    def logs_anomaly(target: str) -> None:
        logging.getLogger("macp_sdk").warning("projection anomaly unknown_proposal: Vote x")

    status = harness.main([reaches_runtime, breaks, logs_anomaly])
    results = _results(capsys.readouterr().out)
    assert status == 1
    assert [(r["flow"], r["ok"]) for r in results] == [
        ("reaches_runtime", True),
        ("breaks", False),
        ("logs_anomaly", False),
    ]
    assert "ValueError: broken on purpose" in str(results[1]["detail"])
    assert "AnomalyWarning" in str(results[2]["detail"])
    assert targets and targets[0].startswith("127.0.0.1:")


def test_harness_without_a_runtime_fails_every_flow(
    compat_path: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = _load("_harness")

    def no_runtime() -> object:
        raise ImportError("no macp_sdk.local_runtime here")

    monkeypatch.setattr(harness, "runtime", no_runtime)

    def flow(target: str) -> None:
        raise AssertionError("never runs")

    assert harness.main([flow]) == 1
    (result,) = _results(capsys.readouterr().out)
    assert result["ok"] is False and "no runtime" in str(result["detail"])


def test_runner_reads_results_and_a_crashed_driver(compat_path: None, tmp_path: Path) -> None:
    run = _load("run")
    clients = _load("clients")
    good = tmp_path / "good.py"
    good.write_text(
        "import json\n"
        "print('noise')\n"
        "for flow, ok in (('a', True), ('b', False)):\n"
        "    d = {'flow': flow, 'ok': ok, 'detail': '' if ok else 'x\\nKeyError: k\\n>'}\n"
        "    print('compat-result ' + json.dumps(d))\n"
        "raise SystemExit(1)\n"
    )
    crashed = tmp_path / "crashed.py"
    crashed.write_text("import macp_sdk.no_such_module_in_any_version\n")
    python = Path(sys.executable)
    results = run.run_driver(clients.Client("c", "c==1", (), str(good)), python, None)
    assert [(r["flow"], r["ok"]) for r in results] == [("a", True), ("b", False)]
    assert run._headline(str(results[1]["detail"])) == "KeyError: k"
    (crash,) = run.run_driver(clients.Client("c", "c==1", (), str(crashed)), python, None)
    assert crash["flow"] == "driver" and crash["ok"] is False
    assert "ModuleNotFoundError" in run._headline(str(crash["detail"]))
