"""Step 4: the one writer. It owns a manifest of what it generated and swaps trees atomically.

The new tree is assembled in a staging copy of the output folder and swapped in with two
renames; the copy is made of hard links (a new file is what costs, a link is cheap), so a file
in staging is never written through: it is unlinked first, or replaced by a rename. Files the
formatter already wrote to disk (`preparing()`) are moved into staging rather than written
again (on a first run its folder becomes the staging tree), and never read again: the
formatter records the bytes it left in each. An interrupted swap is repaired by `recover()`,
which the project runs before it builds anything (the build reads the user's scaffolds from
the output folder, so it must see the restored tree). Files the manifest does not list are
never touched; files it lists that are no longer produced are removed. A failing disk (full,
read-only, no permission) becomes one located `OutputError`, with the output folder left as
it was.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from .errors import CodegenError, SourceLocation
from .rawio import read_bytes, write_bytes

MANIFEST_NAME = ".macp-codegen-manifest.json"
_RESET = "delete it and run `macp-codegen generate`; files it listed are then left alone"
FileKind = Literal["generated", "static", "scaffold"]


class OutputError(CodegenError):
    """The output folder could not be written (disk full, read-only, no permission)."""


_DISK_HINTS = {
    errno.ENOSPC: "free some disk space and run `macp-codegen generate` again",
    errno.EDQUOT: "free some of your disk quota and run `macp-codegen generate` again",
    errno.EROFS: "the file system is read-only; generate into a writable --output",
    errno.EACCES: "make the output folder and its parent writable, or choose another --output",
    errno.EPERM: "make the output folder and its parent writable, or choose another --output",
}


def output_error(exc: OSError, output: Path) -> OutputError:
    """One located line for a failed write; the output folder was left as it was."""
    where = SourceLocation(str(exc.filename or output))
    reason = exc.strerror or type(exc).__name__
    hint = _DISK_HINTS.get(exc.errno or 0, "fix the cause and run `macp-codegen generate` again")
    return OutputError(where, f"cannot write the generated output: {reason}", hint)


class _CopyFailed(Exception):
    """Carries a copy's OSError through `shutil.copytree`, which would flatten it to text."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause)
        self.cause = cause


# What os.link says on a file system without hard links (or across one): copy instead.
_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def _link_file(source: str, target: str) -> object:
    """Stages an existing file as a hard link; a copy where the file system has none."""
    try:
        os.link(source, target)
        return target
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise _CopyFailed(exc) from exc
    try:
        return shutil.copy2(source, target)
    except OSError as exc:
        raise _CopyFailed(exc) from exc


@dataclass
class Prepared:
    """The folder of `Writer.preparing()` and the exact bytes of each file put in it, recorded
    by whoever put it there (the formatter, from what it read back once ruff was done). A file
    is moved into the new tree when these bytes are its content: compared in memory, so the
    file is not read again."""

    folder: Path
    holds: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputFile:
    path: str  # posix path relative to the output folder
    content: bytes
    kind: FileKind = "generated"
    # For a scaffold: the methods the merge guarantees, as "Class.method". Recorded in the
    # manifest so that a no-op check can vouch for a hand-edited scaffold without the model.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    generator: str
    inputs: str
    files: dict[str, FileKind] = field(default_factory=dict)
    # Filled in by the writer from what it writes; derived data, so not part of equality.
    # sha256 of each generated and static file (a scaffold's content is the user's).
    digests: dict[str, str] = field(default_factory=dict, compare=False)
    # Hooks each scaffold must define (see OutputFile.requires).
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def render(self) -> bytes:
        data = {
            "generator": self.generator,
            "inputs": self.inputs,
            "files": self.files,
            "digests": self.digests,
            "requires": {path: list(names) for path, names in self.requires.items()},
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()

    def with_contents(self, outputs: Iterable[OutputFile]) -> Manifest:
        """This manifest plus the digests and requirements of the files it describes."""
        outputs = list(outputs)
        return replace(
            self,
            digests={f.path: digest(f.content) for f in outputs if f.kind != "scaffold"},
            requires={f.path: f.requires for f in outputs if f.kind == "scaffold"},
        )

    @staticmethod
    def load(output: Path) -> Manifest | None:
        path = output / MANIFEST_NAME
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Manifest(
                str(data["generator"]),
                str(data["inputs"]),
                dict(data["files"]),
                dict(data.get("digests", {})),  # absent from older manifests
                {p: tuple(names) for p, names in data.get("requires", {}).items()},
            )
        except json.JSONDecodeError as exc:
            where = SourceLocation(str(path), exc.lineno, exc.colno)
            raise CodegenError(
                where, f"the manifest is not valid JSON: {exc.msg}", _RESET
            ) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CodegenError(
                SourceLocation(str(path)), f"the manifest is malformed ({exc!r})", _RESET
            ) from None


@dataclass(frozen=True)
class Plan:
    """What writing would change, computed without touching the disk."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    stale: tuple[str, ...]  # owned by the old manifest, no longer produced

    @property
    def in_sync(self) -> bool:
        return not (self.new or self.changed or self.stale)


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"{len(self.written)} written, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed"
        )


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Writer:
    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self._folders: set[str] = set()  # folders known to exist in staging
        self._linked = True  # staging may hold hard links to the live tree's files
        self._preparing = False  # the prepared folder is in use: recover() leaves it
        self._staging = self.output.with_name(f".{self.output.name}.staging")
        self._backup = self.output.with_name(f".{self.output.name}.backup")
        self._prepared = self.output.with_name(f".{self.output.name}.prepared")

    def recover(self) -> None:
        """Repairs what an interrupted run left behind: the output is the old or the new tree.

        Killed while staging: the output was never touched, the staging copy is dropped.
        Killed between the two renames: the output is missing and the backup is the old tree,
        so it moves back. Killed after the second rename: the output is the new tree and the
        backup is dropped. A prepared folder (`preparing()`) not in use is dropped too.
        """
        try:
            if self._backup.exists() and not self.output.exists():
                os.rename(self._backup, self.output)
            leftovers = [self._staging, self._backup]
            if not self._preparing:
                leftovers.append(self._prepared)
            for leftover in leftovers:
                if leftover.exists():
                    shutil.rmtree(leftover)
        except OSError as exc:
            raise output_error(exc, self.output) from None

    @contextmanager
    def preparing(self) -> Iterator[Prepared | None]:
        """An empty folder beside the output, on its file system, for files to be moved into
        staging by `write(prepared=...)`; None when it cannot be made (the files are then
        written as usual). Removed on exit; a leftover of a killed run is removed on entry."""
        try:
            if self._prepared.exists():
                shutil.rmtree(self._prepared)
            self._prepared.mkdir(parents=True)
        except OSError:
            yield None
            return
        self._preparing = True
        try:
            yield Prepared(self._prepared)
        finally:
            self._preparing = False
            shutil.rmtree(self._prepared, ignore_errors=True)

    def plan(self, files: Iterable[OutputFile]) -> Plan:
        produced = {f.path: f for f in files}
        old = Manifest.load(self.output)
        new, changed, unchanged = [], [], []
        # No output folder (a first run): every file is new, none to look for.
        exists = self.output.is_dir()
        output = os.fspath(self.output)
        for path, out in sorted(produced.items()):
            try:
                on_disk = read_bytes(f"{output}/{path}") if exists else None
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                on_disk = None  # not there, or not a file
            if on_disk is None:
                new.append(path)
            elif on_disk == out.content:
                unchanged.append(path)
            else:
                changed.append(path)
        # A scaffold the user has edited is theirs: it is never removed, even when orphaned.
        owned = {p for p, kind in old.files.items() if kind != "scaffold"} if old else set()
        stale = sorted(owned - set(produced))
        return Plan(tuple(new), tuple(changed), tuple(unchanged), tuple(stale))

    def write(
        self, files: Iterable[OutputFile], manifest: Manifest, prepared: Prepared | None = None
    ) -> WriteReport:
        """Writes the files and the manifest. `prepared` may hold files at their relative paths
        (see `preparing()`); one whose recorded bytes are exactly a file's content is moved, not
        written again."""
        self.recover()
        outputs = sorted(files, key=lambda f: f.path)
        plan = self.plan(outputs)
        manifest_bytes = manifest.with_contents(outputs).render()
        if plan.in_sync and self.manifest_current(manifest_bytes):
            return WriteReport((), plan.unchanged, ())
        try:
            self._stage(outputs, plan, manifest_bytes, prepared)
            self._swap()
        except _CopyFailed as exc:
            raise output_error(exc.cause, self.output) from None
        except OSError as exc:
            raise output_error(exc, self.output) from None
        finally:
            # Best effort: a read-only disk may refuse even this, and the next run retries.
            shutil.rmtree(self._staging, ignore_errors=True)
        return WriteReport(plan.new + plan.changed, plan.unchanged, plan.stale)

    def manifest_current(self, manifest_bytes: bytes) -> bool:
        path = self.output / MANIFEST_NAME
        return path.is_file() and path.read_bytes() == manifest_bytes

    def _stage(
        self,
        outputs: list[OutputFile],
        plan: Plan,
        manifest_bytes: bytes,
        prepared: Prepared | None,
    ) -> None:
        if self._staging.exists():
            shutil.rmtree(self._staging)
        self._linked = self.output.exists()
        in_place = False  # the prepared files are already at their staged paths
        if self._linked:
            shutil.copytree(self.output, self._staging, symlinks=True, copy_function=_link_file)
        elif prepared is not None and self._adopt(prepared.folder):
            in_place = True  # a first run: the formatter's files are in place
        else:
            self._staging.mkdir(parents=True)
        self._folders = set()
        staging = os.fspath(self._staging)
        held, folder = (prepared.holds, os.fspath(prepared.folder)) if prepared else ({}, "")
        to_write = set(plan.new) | set(plan.changed)
        for out in outputs:
            if out.path not in to_write:
                continue
            target = f"{staging}/{out.path}"
            if held.get(out.path) == out.content and (
                in_place or self._move_prepared(f"{folder}/{out.path}", target)
            ):
                continue
            self._write_file(target, out.content)
        for path in plan.stale:
            self._remove_file(self._staging, path)
        self._write_file(f"{staging}/{MANIFEST_NAME}", manifest_bytes)

    def _adopt(self, prepared: Path) -> bool:
        """Makes the prepared folder the staging tree (no old tree to start from): its files
        are all outputs, so nothing is created twice, not even their folders."""
        try:
            os.rename(prepared, self._staging)
        except OSError:
            return False
        return True

    def _make_parent(self, target: str) -> None:
        parent = target.rpartition("/")[0]
        if parent not in self._folders:
            os.makedirs(parent, exist_ok=True)
            self._folders.add(parent)

    def _move_prepared(self, source: str, target: str) -> bool:
        """Moves the formatter's file into staging; False when it cannot (write it instead)."""
        try:
            self._make_parent(target)
            # A rename replaces a staged hard link; the live tree's file is left as it was.
            os.replace(source, target)
        except OSError:
            return False  # not there, or another file system: write it instead
        return True

    def _write_file(self, target: str, content: bytes) -> None:
        self._make_parent(target)
        # A staged file may be a hard link to the live tree's file: never write through it.
        # (A staging tree not copied from the live one holds no links: no unlink to try.)
        if self._linked:
            with suppress(FileNotFoundError):
                os.unlink(target)
        write_bytes(target, content)

    @staticmethod
    def _remove_file(root: Path, path: str) -> None:
        target = root / path
        if target.is_file():
            target.unlink()
        # Drop folders the removal emptied, but never the root itself.
        parent = target.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def _swap(self) -> None:
        moved = self.output.exists()
        if moved:
            os.rename(self.output, self._backup)
        try:
            os.rename(self._staging, self.output)
        except OSError:
            if moved:  # put the old tree back before reporting
                os.rename(self._backup, self.output)
            raise
        if moved:
            # The new tree is in place; a failure to drop the old one is repaired next run.
            shutil.rmtree(self._backup, ignore_errors=True)
