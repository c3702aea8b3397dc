"""The generator-scale figure's harness: what it does between runs and how it reports them.

bench/ is not a package; its modules are loaded from their files.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_fresh_run_moves_the_previous_output_into_the_trash(tmp_path: Path) -> None:
    clear = _load("scratch").clear
    out, trash = tmp_path / "out", tmp_path / "trash"
    for run in range(2):
        (out / "pkg").mkdir(parents=True)
        (out / "pkg" / "a.py").write_text(f"run {run}\n")
        inode = (out / "pkg" / "a.py").stat().st_ino
        clear(str(out), str(trash))
        assert not out.exists()
        # Moved, not copied and not deleted: the same file, still there.
        moved = [p for p in trash.rglob("a.py") if p.stat().st_ino == inode]
        assert len(moved) == 1 and moved[0].read_text() == f"run {run}\n"
    assert len(list(trash.iterdir())) == 2
    clear(str(out), str(trash))  # nothing to move
    assert len(list(trash.iterdir())) == 2


def test_without_a_trash_the_output_is_deleted(tmp_path: Path) -> None:
    clear = _load("scratch").clear
    out = tmp_path / "out"
    (out / "pkg").mkdir(parents=True)
    (out / "pkg" / "a.py").write_text("x\n")
    clear(str(out))
    assert not out.exists()
    assert os.listdir(tmp_path) == []


@dataclass
class _Series:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        ordered = sorted(self.values)
        return ordered[len(ordered) // 2]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.values)
        return ordered[round(q * (len(ordered) - 1))]


def _render(results: dict[str, _Series]) -> str:
    text: str = _load("report").render(
        results=results,
        memory={},
        per_session_kib=None,
        latencies={},
        machine="test",
        date="today",
        repetitions=1,
        minutes=1.0,
    )
    return text.split("## Generator scale", 1)[1].split("## Embedded runtime", 1)[0]


def test_the_scale_section_gives_per_mode_and_added_mode_costs() -> None:
    section = _render(
        {
            "scale-1": _Series([0.2]),
            "scale-10": _Series([0.3]),
            "scale-50": _Series([0.7]),
            "scale-200": _Series([1.6]),
            "scale-200-after-delete": _Series([3.0]),
        }
    )
    assert "| 10 | **300 ms** (300 ms–300 ms, n=1) | 30 ms | 11.1 ms |" in section
    assert "| 200 | **1.6 s** (1.6 s–1.6 s, n=1) | 8 ms | 6 ms |" in section
    assert "200 modes in 1.6 s: met." in section
    assert "right after deleting the previous output, **3 s**" in section
    assert "never used before" in section


def test_the_scale_section_without_the_context_run_says_nothing_of_it() -> None:
    section = _render({"scale-200": _Series([2.5])})
    assert "| 1 | n/a | n/a | n/a |" in section
    assert "| 200 | **2.5 s** (2.5 s–2.5 s, n=1) | 12.5 ms | n/a |" in section
    assert "200 modes in 2.5 s: **missed**." in section
    assert "deleting the previous output" not in section
