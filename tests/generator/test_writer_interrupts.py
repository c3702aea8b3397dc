"""The writer never loses user code: a run killed at any step leaves the old or the new tree.

Each case runs `macp-codegen generate` in a child process that is killed (`os._exit`, so no
`finally` runs, as with SIGKILL) at one step of the writer. The parent then checks what a user
would see next: `check` repairs the swap and judges the user's tree, `generate` keeps every line
the user wrote in a projection scaffold.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint
from macp_codegen.writer import OutputFile, Writer

# Patched into the child before `generate` runs; STEP picks where the process dies.
_CHILD = r"""
import os, shutil, sys
from macp_codegen import writer
from macp_codegen.cli import main

step = sys.argv[1]
Writer = writer.Writer
die = lambda: os._exit(17)

if step == "staging":
    original_write = Writer._write_file
    count = {"n": 0}
    def write_file(self, target, content):
        count["n"] += 1
        if count["n"] == 3:  # some files staged, others not
            die()
        original_write(self, target, content)
    Writer._write_file = write_file
elif step in ("between_renames", "after_second_rename"):
    real_rename = os.rename
    class _Os:
        def __getattr__(self, name):
            return getattr(os, name)
        @staticmethod
        def rename(src, dst):
            real_rename(src, dst)
            if step == "between_renames" and str(dst).endswith(".backup"):
                die()
            if step == "after_second_rename" and str(src).endswith(".staging"):
                die()
    writer.os = _Os()
elif step == "removing_backup":
    real_rmtree = shutil.rmtree
    def rmtree(path, *args, **kwargs):
        if str(path).endswith(".backup"):
            # Half of the old tree is gone when the process dies.
            victims = sorted(os.scandir(path), key=lambda e: e.name)[:1]
            for entry in victims:
                real_rmtree(entry.path) if entry.is_dir() else os.unlink(entry.path)
            die()
        real_rmtree(path, *args, **kwargs)
    class _Shutil:
        def __getattr__(self, name):
            return getattr(shutil, name)
    fake = _Shutil()
    fake.rmtree = rmtree
    writer.shutil = fake
elif step == "after_write":
    original = Writer.write
    def write(self, *args, **kwargs):
        original(self, *args, **kwargs)
        die()
    Writer.write = write
sys.exit(main(["generate", "--project-root", sys.argv[2]]))
"""

USER_LINES = (
    "    # user line: a note that only the user wrote\n",
    "    def user_helper(self) -> int:\n",
    "        return 42  # user line\n",
)
STEPS = ("staging", "between_renames", "after_second_rename", "removing_backup", "after_write")


def _add_user_code(scaffold: Path) -> None:
    text = scaffold.read_text()
    marker = "class DecisionProjection(DecisionProjectionBase):\n"
    assert marker in text
    head, _, tail = text.partition(marker)
    docstring_end = tail.index('"""', tail.index('"""') + 3) + 4
    scaffold.write_text(
        head + marker + tail[:docstring_end] + "".join(USER_LINES) + "\n" + tail[docstring_end:]
    )


def _change_an_input(project: Path) -> None:
    proto = project / "proto/macp/modes/decision/v1/decision.proto"
    proto.write_text(
        proto.read_text().replace(
            "string reason = 3;\n}", "string reason = 3;\n  string note = 4;\n}"
        )
    )


def _run_child(step: str, project: Path) -> int:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, step, str(project)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize("step", STEPS)
def test_a_generate_killed_at_any_step_loses_no_user_line(
    scratch_project: Path, tmp_path_factory: pytest.TempPathFactory, step: str
) -> None:
    root = str(scratch_project)
    assert run_cli("generate", "--project-root", root).status == 0
    output = scratch_project / "generated"
    scaffold = output / "macp_sdk/projections/decision.py"
    _add_user_code(scaffold)
    old_tree = tree_fingerprint(output)

    # The new tree: what an uninterrupted run produces from the changed input.
    twin = tmp_path_factory.mktemp("twin")
    for name in ("proto", "generated"):
        subprocess.run(["cp", "-a", str(scratch_project / name), str(twin)], check=True)
    subprocess.run(["cp", str(scratch_project / "pyproject.toml"), str(twin)], check=True)
    _change_an_input(twin)
    assert run_cli("generate", "--project-root", str(twin)).status == 0
    new_tree = tree_fingerprint(twin / "generated")
    assert new_tree != old_tree

    _change_an_input(scratch_project)
    assert _run_child(step, scratch_project) == 17  # killed where intended

    # The next command repairs the swap before it looks at anything.
    checked = run_cli("check", "--project-root", root, "--no-diff")
    assert tree_fingerprint(output) in (old_tree, new_tree)
    assert checked.status == (0 if tree_fingerprint(output) == new_tree else 1), checked.out
    leftovers = sorted(p.name for p in scratch_project.iterdir() if p.name.startswith("."))
    assert leftovers == []

    assert run_cli("generate", "--project-root", root).status == 0
    assert tree_fingerprint(output) == new_tree
    text = scaffold.read_text()
    assert all(line in text for line in USER_LINES)
    assert run_cli("check", "--project-root", root).status == 0


def test_generate_after_a_kill_between_the_renames_restores_before_building(
    scratch_project: Path,
) -> None:
    """The bug of issue 10: `generated/` gone, the next generate rebuilt fresh scaffolds."""
    root = str(scratch_project)
    assert run_cli("generate", "--project-root", root).status == 0
    output = scratch_project / "generated"
    scaffold = output / "macp_sdk/projections/decision.py"
    _add_user_code(scaffold)
    _change_an_input(scratch_project)
    assert _run_child("between_renames", scratch_project) == 17
    assert not output.exists()  # the window the recovery must close

    assert run_cli("generate", "--project-root", root).status == 0
    assert all(line in scaffold.read_text() for line in USER_LINES)
    assert run_cli("check", "--project-root", root).status == 0


@pytest.mark.parametrize("where", ["writing a file", "copying the tree"])
@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "free some disk space"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "writable"),
    ],
)
def test_a_failing_disk_is_one_located_line_with_exit_2(
    scratch_project: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str, where: str
) -> None:
    root = str(scratch_project)
    assert run_cli("generate", "--project-root", root).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    _change_an_input(scratch_project)

    def failing_write(self: Writer, target: str, content: bytes) -> None:
        raise OSError(code, os.strerror(code), str(target))

    def failing_copy(source: str, target: str) -> None:
        raise OSError(code, os.strerror(code), target)

    if where == "writing a file":
        monkeypatch.setattr(Writer, "_write_file", failing_write)
    else:
        # The tree is staged as hard links, copied where links are not supported.
        monkeypatch.setattr("macp_codegen.writer.os.link", failing_copy)
        monkeypatch.setattr("macp_codegen.writer.shutil.copy2", failing_copy)
    run = run_cli("generate", "--project-root", root)
    assert run.status == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert f"{scratch_project}/.generated.staging/" in lines[0]  # located: the file it wrote
    assert os.strerror(code) in lines[0] and words in lines[0]
    assert tree_fingerprint(output) == before
    assert sorted(p.name for p in scratch_project.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("first_run", [True, False])
def test_a_full_disk_while_formatting_is_one_located_line_with_exit_2(
    scratch_project: Path, monkeypatch: pytest.MonkeyPatch, first_run: bool
) -> None:
    """The formatter writes the rendered Python beside the output (the prepared folder) before
    the writer runs: a disk that fills up there is reported like one that fills up in staging."""
    root = str(scratch_project)
    output = scratch_project / "generated"
    if not first_run:
        assert run_cli("generate", "--project-root", root).status == 0
        _change_an_input(scratch_project)
    before = tree_fingerprint(output) if output.exists() else None
    calls = {"n": 0}

    def filling_write(path: str, content: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # some files written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        real_write(path, content)

    from macp_codegen import formatting

    real_write = formatting.write_bytes
    monkeypatch.setattr(formatting, "write_bytes", filling_write)
    run = run_cli("generate", "--project-root", root)
    assert run.status == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.err, run.err
    assert f"{scratch_project}/.generated.prepared/" in lines[0]  # located: the file it wrote
    assert os.strerror(errno.ENOSPC) in lines[0] and "free some disk space" in lines[0]
    assert (tree_fingerprint(output) if output.exists() else None) == before
    assert sorted(p.name for p in scratch_project.iterdir() if p.name.startswith(".")) == []


def test_a_failing_rename_puts_the_old_tree_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "generated"
    writer = Writer(output)
    from macp_codegen.writer import Manifest

    writer.write([OutputFile("a.py", b"a = 1\n")], Manifest("t", "1", {"a.py": "generated"}))
    before = tree_fingerprint(output)
    real_rename = os.rename

    def rename(src: Path, dst: Path) -> None:
        if str(src).endswith(".staging"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))
        real_rename(src, dst)

    monkeypatch.setattr("macp_codegen.writer.os.rename", rename)
    with pytest.raises(Exception, match="read-only") as caught:
        writer.write([OutputFile("a.py", b"a = 2\n")], Manifest("t", "2", {"a.py": "generated"}))
    assert type(caught.value).__name__ == "OutputError"
    assert tree_fingerprint(output) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_real_read_only_parent_is_exit_2(scratch_project: Path) -> None:
    root = str(scratch_project)
    assert run_cli("generate", "--project-root", root).status == 0
    _change_an_input(scratch_project)
    scratch_project.chmod(0o555)
    try:
        run = run_cli("generate", "--project-root", root)
    finally:
        scratch_project.chmod(0o755)
    assert run.status == 2
    assert len(run.err.strip().splitlines()) == 1 and "Permission denied" in run.err


def test_a_repair_the_disk_refuses_is_exit_2_and_keeps_the_backup(
    scratch_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(scratch_project)
    assert run_cli("generate", "--project-root", root).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    backup = scratch_project / ".generated.backup"
    os.rename(output, backup)  # as a kill between the renames leaves it

    def refused(src: object, dst: object) -> None:
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(src))

    with monkeypatch.context() as patch:
        patch.setattr("macp_codegen.writer.os.rename", refused)
        run = run_cli("generate", "--project-root", root)
    assert run.status == 2 and len(run.err.strip().splitlines()) == 1, run.err
    assert run.err.startswith(f"{backup}: error: cannot write the generated output")
    assert tree_fingerprint(backup) == before and not output.exists()
    # Once the disk allows it, the next run restores the user's tree first.
    assert run_cli("check", "--project-root", root).status == 0
    assert tree_fingerprint(output) == before
