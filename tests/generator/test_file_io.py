"""The generator's own file plumbing: one-pass tree listing and whole-file reads and writes.

The listing replaced `Path.rglob` in proto discovery and the inputs digest; the digest is
written into every manifest, so the same tree must give the same files in the same order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from macp_codegen.compile import discover_protos
from macp_codegen.inputs import _digest_files
from macp_codegen.rawio import read_bytes, write_bytes
from macp_codegen.tree import files_under


def _rglob_digest_files(root: Path) -> list[Path]:
    """What the inputs digest listed before: rglob, filtered, sorted as Paths."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and not any(p.startswith(".") or p == "__pycache__" for p in path.relative_to(root).parts)
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    files = [
        "a/x.proto",
        "a-b/x.proto",  # "a-b/x" < "a/x" as text, but after it part by part
        "a/b/c/deep.proto",
        "a/notes.txt",
        "z.proto",
        ".hidden/h.proto",
        "a/.dot.proto",
        "a/__pycache__/m.cpython-311.pyc",
        "a/mod.pyc",
        "outside/o.proto",
    ]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "a/folder.proto").mkdir()  # a folder with a proto's name is not a file
    os.symlink(root / "outside", root / "linked")  # not descended into, as rglob
    os.symlink(root / "z.proto", root / "a/alias.proto")  # a link to a file is a file
    return root


def test_the_digest_lists_what_rglob_listed_in_the_same_order(tree: Path) -> None:
    listed = _digest_files(tree)
    assert listed == _rglob_digest_files(tree)
    names = [p.relative_to(tree).as_posix() for p in listed]
    assert names.index("a/x.proto") < names.index("a-b/x.proto")
    assert not any(n.startswith((".hidden", "linked/")) or ".pyc" in n for n in names)


def test_proto_discovery_finds_every_proto_file_and_only_files(tree: Path) -> None:
    found = discover_protos(tree)
    expected = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.proto") if p.is_file())
    assert found == tuple(expected)
    assert ".hidden/h.proto" in found and "a/alias.proto" in found
    assert "a/folder.proto" not in found and "linked/o.proto" not in found


def test_hidden_entries_are_skipped_only_when_asked(tree: Path) -> None:
    everything = {"/".join(parts) for parts in files_under(str(tree))}
    visible = {"/".join(parts) for parts in files_under(str(tree), skip_hidden=True)}
    assert {".hidden/h.proto", "a/.dot.proto", "a/__pycache__/m.cpython-311.pyc"} <= everything
    assert everything - visible == {
        ".hidden/h.proto",
        "a/.dot.proto",
        "a/__pycache__/m.cpython-311.pyc",
    }
    assert list(files_under(str(tree / "missing"))) == []


def test_whole_file_writes_replace_and_reads_return_every_byte(tmp_path: Path) -> None:
    path = str(tmp_path / "f.bin")
    write_bytes(path, b"a much longer first content\n" * 1000)
    content = bytes(range(256)) * 300 + b"\r\n\x00"
    write_bytes(path, content)  # truncates what was there
    assert read_bytes(path) == content
    assert Path(path).read_bytes() == content
    write_bytes(path, b"")
    assert read_bytes(path) == b""
    with pytest.raises(FileNotFoundError):
        read_bytes(str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):
        write_bytes(str(tmp_path / "no-folder" / "f"), b"x")
