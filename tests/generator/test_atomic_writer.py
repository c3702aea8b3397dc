"""The writer changes the output folder all at once or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from codegen_helpers import tree_fingerprint
from macp_codegen.config import load_config
from macp_codegen.project import Project
from macp_codegen.writer import MANIFEST_NAME, Manifest, OutputFile, Writer


def _project(scratch_project: Path) -> Project:
    return Project(load_config(scratch_project))


def test_an_exception_mid_write_leaves_the_tree_untouched(
    scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(scratch_project)
    project.generate()
    output = project.config.output
    (output / "hand_written_notes.txt").write_text("not ours")
    before = tree_fingerprint(output)
    # Change an input so that the next run has files to rewrite.
    vote = scratch_project / "proto/macp/modes/decision/v1/decision.proto"
    vote.write_text(
        vote.read_text().replace(
            "string reason = 3;\n}", "string reason = 3;\n  string note = 4;\n}"
        )
    )

    calls = {"n": 0}
    original = Writer._write_file

    def failing_write(self: Writer, target: Path, content: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full (injected)")
        original(self, target, content)

    monkeypatch.setattr(Writer, "_write_file", failing_write)
    with pytest.raises(RuntimeError, match="injected"):
        project.generate()
    assert calls["n"] == 3
    assert tree_fingerprint(output) == before
    leftovers = [p.name for p in output.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_an_interrupt_during_the_swap_is_repaired_on_the_next_run(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    writer = Writer(output)
    writer.write(
        [OutputFile("pkg/a.py", b"a = 1\n")], Manifest("t", "i", {"pkg/a.py": "generated"})
    )
    before = tree_fingerprint(output)
    # Simulate a crash between the two renames: output moved away, staging half-built.
    os.rename(output, tmp_path / ".generated.backup")
    (tmp_path / ".generated.staging").mkdir()
    writer.recover()
    assert tree_fingerprint(output) == before
    assert not (tmp_path / ".generated.backup").exists()
    assert not (tmp_path / ".generated.staging").exists()


def test_files_it_does_not_own_are_never_touched_and_stale_ones_are_removed(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    writer = Writer(output)
    first = [OutputFile("pkg/a.py", b"a\n"), OutputFile("pkg/old.py", b"old\n")]
    writer.write(first, Manifest("t", "1", {f.path: f.kind for f in first}))
    (output / "pkg" / "mine.py").write_text("user file\n")
    second = [OutputFile("pkg/a.py", b"a2\n")]
    report = writer.write(second, Manifest("t", "2", {"pkg/a.py": "generated"}))
    assert report.written == ("pkg/a.py",)
    assert report.removed == ("pkg/old.py",)
    assert (output / "pkg" / "mine.py").read_text() == "user file\n"
    assert not (output / "pkg" / "old.py").exists()
    assert Manifest.load(output) == Manifest("t", "2", {"pkg/a.py": "generated"})
    assert (output / MANIFEST_NAME).is_file()


def test_a_second_run_reports_everything_unchanged(scratch_project: Path) -> None:
    project = _project(scratch_project)
    _, first = project.generate()
    _, second = project.generate()
    assert first.written and not first.removed
    assert second.written == () and second.removed == ()
    assert len(second.unchanged) == len(first.written)
