"""Same inputs, same bytes: across runs, input file order and PYTHONHASHSEED."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from codegen_helpers import tree_fingerprint


def _generate_subprocess(project: Path, output: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "macp_codegen",
            "generate",
            "--project-root",
            str(project),
            "--output",
            str(output),
        ],
        check=True,
        env=env,
        capture_output=True,
    )


def _copy_protos_in_order(source: Path, target: Path, order_seed: int) -> None:
    files = sorted(p for p in source.rglob("*.proto"))
    random.Random(order_seed).shuffle(files)
    for path in files:  # creation order changes directory listing order on most filesystems
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, destination)


def test_two_runs_shuffled_inputs_and_hash_seeds_give_identical_bytes(
    tmp_path: Path, repo_root: Path
) -> None:
    fingerprints = []
    for run, (order_seed, hash_seed) in enumerate([(1, "0"), (7, "12345"), (42, "random")]):
        project = tmp_path / f"p{run}"
        _copy_protos_in_order(repo_root / "proto", project / "proto", order_seed)
        shutil.copy(repo_root / "pyproject.toml", project / "pyproject.toml")
        _generate_subprocess(project, project / "out", hash_seed)
        fingerprints.append(tree_fingerprint(project / "out"))
    assert fingerprints[0], "nothing was generated"
    assert fingerprints[0] == fingerprints[1] == fingerprints[2]


def test_no_absolute_paths_in_output(repo_root: Path) -> None:
    for path in (repo_root / "generated").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert str(repo_root) not in text, f"{path} embeds an absolute path"
