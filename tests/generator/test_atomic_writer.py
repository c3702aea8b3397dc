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

    def failing_write(self: Writer, target: str, content: bytes) -> None:
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


def test_staging_never_writes_through_to_the_live_tree(tmp_path: Path) -> None:
    """Staging links the old tree's files; a changed file (and the manifest) is replaced, so
    the old tree's files keep their bytes until the swap."""
    output = tmp_path / "generated"
    writer = Writer(output)
    files = {"pkg/a.py": "generated", "pkg/b.py": "generated"}
    writer.write(
        [OutputFile("pkg/a.py", b"a = 1\n"), OutputFile("pkg/b.py", b"b = 1\n")],
        Manifest("t", "1", files),
    )
    held = tmp_path / "held"
    held.mkdir()
    for name in ("pkg/a.py", "pkg/b.py", MANIFEST_NAME):
        os.link(output / name, held / name.replace("/", "_"))
    old_manifest = (held / MANIFEST_NAME).read_bytes()

    report = writer.write(
        [OutputFile("pkg/a.py", b"a = 2\n"), OutputFile("pkg/b.py", b"b = 1\n")],
        Manifest("t", "2", files),
    )
    assert report.written == ("pkg/a.py",)
    assert (output / "pkg/a.py").read_bytes() == b"a = 2\n"
    assert (held / "pkg_a.py").read_bytes() == b"a = 1\n"  # the old file was not written to
    assert (held / MANIFEST_NAME).read_bytes() == old_manifest
    # The unchanged file is the same file (a link), not a copy.
    assert os.path.samefile(output / "pkg/b.py", held / "pkg_b.py")


@pytest.mark.parametrize("first_run", [True, False])
def test_prepared_files_are_moved_only_when_their_recorded_bytes_match(
    tmp_path: Path, first_run: bool
) -> None:
    """The formatter's files are moved into the new tree (on a first run its folder becomes
    the tree) without being read again; one whose recorded bytes differ from the file's content
    (or that has none recorded) is written from the content."""
    output = tmp_path / "generated"
    writer = Writer(output)
    if not first_run:
        old = [OutputFile(f"pkg/{n}.py", f"{n} = 0\n".encode()) for n in "abc"]
        writer.write(old, Manifest("t", "0", {f.path: f.kind for f in old}))
    with writer.preparing() as prepared:
        assert prepared is not None and prepared.folder.parent == tmp_path
        (prepared.folder / "pkg").mkdir()
        for name, text in [("a", b"a = 1\n"), ("b", b"stale text\n"), ("c", b"c = 1\n")]:
            (prepared.folder / f"pkg/{name}.py").write_bytes(text)
        prepared.holds.update({"pkg/a.py": b"a = 1\n", "pkg/b.py": b"stale text\n"})
        inode = (prepared.folder / "pkg/a.py").stat().st_ino
        files = [OutputFile(f"pkg/{n}.py", f"{n} = 1\n".encode()) for n in "abc"]
        report = writer.write(files, Manifest("t", "1", {f.path: f.kind for f in files}), prepared)
        assert report.written == ("pkg/a.py", "pkg/b.py", "pkg/c.py")
        assert (output / "pkg/a.py").stat().st_ino == inode  # moved, not written again
        assert not (prepared.folder / "pkg/a.py").exists()
        assert (output / "pkg/b.py").read_bytes() == b"b = 1\n"  # mismatch: from content
        assert (output / "pkg/c.py").read_bytes() == b"c = 1\n"  # nothing recorded: written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated"]


def test_a_leftover_prepared_folder_is_dropped_by_recover(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    writer = Writer(output)
    leftover = tmp_path / ".generated.prepared"
    (leftover / "pkg").mkdir(parents=True)
    writer.recover()
    assert not leftover.exists()


def test_staging_copies_where_the_file_system_has_no_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    output = tmp_path / "generated"
    writer = Writer(output)
    manifest = Manifest("t", "1", {"a.py": "generated", "b.py": "generated"})
    writer.write([OutputFile("a.py", b"a = 1\n"), OutputFile("b.py", b"b = 1\n")], manifest)

    def no_links(source: str, target: str) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM), target)

    monkeypatch.setattr("macp_codegen.writer.os.link", no_links)
    manifest = Manifest("t", "2", {"a.py": "generated", "b.py": "generated"})
    writer.write([OutputFile("a.py", b"a = 2\n"), OutputFile("b.py", b"b = 1\n")], manifest)
    assert (output / "a.py").read_bytes() == b"a = 2\n"
    assert (output / "b.py").read_bytes() == b"b = 1\n"


def test_the_plan_compares_what_is_on_disk(tmp_path: Path) -> None:
    output = tmp_path / "generated"
    writer = Writer(output)
    files = [OutputFile(f"pkg/{n}.py", f"{n} = 1\n".encode()) for n in "abcd"]
    assert writer.plan(files).new == tuple(f.path for f in files)  # no output folder yet
    writer.write(files, Manifest("t", "1", {f.path: f.kind for f in files}))
    (output / "pkg/b.py").write_text("b = 2\n")  # edited by hand: rewritten
    (output / "pkg/c.py").unlink()  # deleted by hand: written again
    (output / "pkg/c.py").mkdir()  # ... and a folder in its place is not the file either
    (output / "pkg/d.py").unlink()
    plan = writer.plan(files)
    assert plan.unchanged == ("pkg/a.py",)
    assert plan.changed == ("pkg/b.py",)
    assert plan.new == ("pkg/c.py", "pkg/d.py")
    assert plan.stale == ()
