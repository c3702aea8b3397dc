"""`macp-codegen check`: is the output exactly what `generate` would write? Writes nothing
(it only repairs a swap an interrupted `generate` left half-done: a rename back, no generation).

Two paths:
- fast: the manifest's inputs digest equals the current one and every file it lists still has
  the recorded sha256 (a scaffold: still defines the hooks the merge guarantees). Costs hashing.
- full: regenerate in memory, compare with the disk and explain every difference.
The fast path can only answer "in sync"; any doubt falls through to the full path.
"""

from __future__ import annotations

import ast
import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .config import Config
from .inputs import inputs_digest
from .writer import MANIFEST_NAME, Manifest, Writer, digest

if TYPE_CHECKING:  # the full path only: importing it costs protoc, Jinja2 and the model
    from .project import Project


@dataclass(frozen=True)
class StaleFile:
    path: str  # relative to the output folder
    diff: str  # unified diff, "" when not worth showing


@dataclass(frozen=True)
class Drift:
    stale: tuple[StaleFile, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]  # owned by the manifest, no longer generated
    notes: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not (self.stale or self.missing or self.extra)


def unchanged_since_generate(config: Config) -> bool:
    """True only when nothing that determines the output, nor the output, has changed.

    Needs only the configuration: a no-op check never imports the generator proper.
    """
    # An interrupted swap is repaired first (a rename back, no generation): the check must
    # judge the user's tree, not its absence.
    Writer(config.output).recover()
    if config.include or config.descriptor_set is not None or config.bindings is not None:
        return False  # inputs that the inputs digest does not cover
    manifest = Manifest.load(config.output)
    if manifest is None or manifest.inputs != inputs_digest(config):
        return False
    return all(_file_unchanged(manifest, path, config.output) for path in manifest.files)


def find_drift(project: Project) -> Drift:
    """The full comparison: regenerate in memory (scaffolds merged) and diff with the disk."""
    build, plan = project.plan()
    output, root = project.config.output, project.config.project_root
    planned = {f.path: f.content for f in build.files}
    stale = [StaleFile(p, _unified_diff(output, p, planned[p], root)) for p in plan.changed]
    missing = list(plan.new)
    manifest_bytes = build.manifest.with_contents(build.files).render()
    if not project.writer.manifest_current(manifest_bytes):
        if not (output / MANIFEST_NAME).is_file():
            missing.append(MANIFEST_NAME)
        else:
            # Alone it is worth a diff (e.g. only whitespace in a proto changed); next to other
            # stale files its diff just repeats their digests.
            alone = not (stale or missing)
            diff = _unified_diff(output, MANIFEST_NAME, manifest_bytes, root) if alone else ""
            stale.append(StaleFile(MANIFEST_NAME, diff))
    return Drift(tuple(stale), tuple(missing), plan.stale, build.notes)


def write_report(
    drift: Drift, output: Path, root: Path, fix: str, out: TextIO, diffs: bool = True
) -> None:
    for note in drift.notes:
        print(f"note     {note}", file=out)
    if drift.in_sync:
        print("macp-codegen: generated code is up to date", file=out)
        return
    if diffs:
        for stale in drift.stale:
            out.write(stale.diff)
    print("macp-codegen: generated code is out of date", file=out)
    for label, paths in (
        ("stale", [s.path for s in drift.stale]),
        ("missing", drift.missing),
        ("extra", drift.extra),
    ):
        for path in paths:
            suffix = "  (owned by the manifest, no longer generated)" if label == "extra" else ""
            print(f"  {label:8} {_display(output / path, root)}{suffix}", file=out)
    print(f"macp-codegen: fix with `{fix}`", file=out)


def _file_unchanged(manifest: Manifest, path: str, output: Path) -> bool:
    target = output / path
    try:
        content = target.read_bytes()
    except OSError:
        return False
    if manifest.files[path] == "scaffold":
        # The user's file: only what the merge would add matters.
        return path in manifest.requires and set(manifest.requires[path]) <= _methods(content)
    return manifest.digests.get(path) == digest(content)


def _methods(source: bytes) -> frozenset[str]:
    """`Class.method` for every method of every top-level class; empty if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(
        f"{node.name}.{item.name}"
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def _unified_diff(output: Path, path: str, planned: bytes, root: Path) -> str:
    """On disk -> planned, with paths from the project root (`git apply` takes it there)."""
    target = output / path
    shown = _display(target, root)
    try:
        old, new = target.read_bytes().decode(), planned.decode()
    except UnicodeDecodeError:
        return f"Binary file {shown} differs\n"
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{shown}",
        tofile=f"b/{shown}",
    )
    # A last line without a newline would otherwise run into the next header.
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return os.fspath(path)
