"""`macp-codegen generate --watch`: regenerates on change, survives bad input, stops on Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import run_cli
from macp_codegen import watch as watch_module
from macp_codegen.watch import snapshot, watch

from workflow.workspace import DECISION, edit

MODES = "generated/macp_sdk/modes/decision.py"


def scripted_sleep(*steps: Callable[[], None]) -> Callable[[float], None]:
    """A sleep that runs one step per poll, then stops the loop the way Ctrl-C does."""
    pending = list(steps)

    def sleep(_: float) -> None:
        if not pending:
            raise KeyboardInterrupt
        pending.pop(0)()

    return sleep


def test_a_change_triggers_exactly_one_regeneration(tmp_path: Path) -> None:
    (tmp_path / "a.proto").write_text("one")
    calls: list[int] = []

    def change() -> None:
        (tmp_path / "a.proto").write_text("two, longer")

    runs = watch(
        [tmp_path],
        lambda: calls.append(1),
        cycles=3,
        sleep=scripted_sleep(change, lambda: None, lambda: None),
    )
    assert runs == 2 and len(calls) == 2  # the first run, then one for the change


def test_caches_and_hidden_files_do_not_count(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    (tmp_path / ".swp").write_text("")
    (tmp_path / "a.proto").write_text("")
    assert list(snapshot([tmp_path])) == [tmp_path / "a.proto"]


def test_ctrl_c_ends_the_loop_cleanly(tmp_path: Path) -> None:
    assert watch([tmp_path], lambda: None, sleep=scripted_sleep()) == 1


def test_the_cli_regenerates_recovers_from_bad_input_and_stops_cleanly(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [
        lambda: edit(project, DECISION, "  string rationale = 3;", "  string summary = 3"),
        lambda: edit(project, DECISION, "  string summary = 3", "  string summary = 3;"),
    ]
    monkeypatch.setattr(watch_module.time, "sleep", scripted_sleep(*steps))

    run = run_cli("generate", "--project-root", str(project), "--watch", "--interval", "0")

    assert run.status == 0
    assert f"{project / DECISION}:" in run.err and ": error: " in run.err  # reported, not fatal
    assert "summary: str" in (project / MODES).read_text()
    assert run.out.rstrip().endswith("macp-codegen: stopped watching")
    assert run_cli("check", "--project-root", str(project)).status == 0
