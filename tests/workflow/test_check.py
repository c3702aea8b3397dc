"""`macp-codegen check` in a temporary copy of the repository: drift, fix, extras, scaffolds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from codegen_helpers import run_cli, tree_fingerprint

from workflow.workspace import DECISION, edit

MANIFEST = "generated/.macp-codegen-manifest.json"
SCAFFOLD = "generated/macp_sdk/projections/decision.py"
FAST = "(inputs and output unchanged)"


def check(root: Path, *extra: str) -> tuple[int, str, str]:
    run = run_cli("check", "--project-root", str(root), *extra)
    return run.status, run.out, run.err


def test_a_fresh_generation_is_in_sync_on_both_paths(project: Path) -> None:
    status, out, _ = check(project)
    assert status == 0 and FAST in out
    status, out, _ = check(project, "--full")
    assert status == 0 and "up to date" in out and FAST not in out


def test_a_changed_field_is_reported_with_diffs_and_the_fix_then_fixed(project: Path) -> None:
    edit(project, DECISION, "  string rationale = 3;", "  string summary = 3;")
    before = tree_fingerprint(project)

    status, out, _ = check(project)

    assert status == 1
    assert tree_fingerprint(project) == before, "check must write nothing"
    for path in (
        "generated/macp/modes/decision/v1/decision_pb2.py",
        "generated/macp/modes/decision/v1/decision_pb2.pyi",
        "generated/macp_sdk/modes/decision.py",
        MANIFEST,
    ):
        assert re.search(rf"^  stale +{re.escape(path)}$", out, re.M), (path, out)
    modes = "generated/macp_sdk/modes/decision.py"
    assert f"--- a/{modes}\n+++ b/{modes}\n" in out
    assert re.search(r"^\+.*\bsummary\b", out, re.M) and re.search(r"^-.*\brationale\b", out, re.M)
    assert f"fix with `macp-codegen generate --project-root {project}`" in out

    assert run_cli("generate", "--project-root", str(project)).status == 0
    assert check(project)[:2] == (0, "macp-codegen: generated code is up to date " + FAST + "\n")


def test_a_stale_file_the_manifest_owns_is_reported_as_extra(project: Path) -> None:
    leftover = project / "generated/macp_sdk/modes/retired.py"
    leftover.write_text("# from a mode that no longer exists\n")
    manifest = json.loads((project / MANIFEST).read_text())
    manifest["files"]["macp_sdk/modes/retired.py"] = "generated"
    (project / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    status, out, _ = check(project)

    assert status == 1
    assert "  extra    generated/macp_sdk/modes/retired.py  (owned by the manifest" in out
    assert run_cli("generate", "--project-root", str(project)).status == 0
    assert not leftover.exists()
    assert check(project)[0] == 0


def test_a_missing_file_is_reported_as_missing(project: Path) -> None:
    (project / "generated/macp_sdk/_registry.py").unlink()
    status, out, _ = check(project)
    assert status == 1 and "  missing  generated/macp_sdk/_registry.py" in out


def test_an_edited_scaffold_body_still_passes_on_both_paths(project: Path) -> None:
    edit(
        project,
        SCAFFOLD,
        "        super().on_vote(record)\n",
        "        super().on_vote(record)\n        self.votes_seen = len(self.votes)  # mine\n",
    )
    status, out, _ = check(project)
    assert status == 0 and FAST in out
    assert check(project, "--full")[0] == 0


def test_a_scaffold_missing_a_hook_is_stale_with_only_the_hook_in_its_diff(project: Path) -> None:
    path = project / SCAFFOLD
    text = path.read_text()
    hook = re.search(r"\n    def on_vote\(.*?(?=\n    def |\Z)", text, re.S)
    assert hook, "the decision scaffold defines on_vote"
    path.write_text(text.replace(hook.group(0), "") + "\n# hand-written tail\n")

    status, out, _ = check(project)

    assert status == 1
    assert f"  stale    {SCAFFOLD}" in out
    diff = out.split(f"--- a/{SCAFFOLD}", 1)[1].split("\n---", 1)[0]
    added = [line for line in diff.splitlines() if line.startswith("+") and line[1:].strip()]
    removed = [line for line in diff.splitlines() if line.startswith("-") and line[1:].strip()]
    assert any("def on_vote" in line for line in added)
    assert not [line for line in removed if not line.startswith("---")], "nothing of mine goes"
    assert "hand-written tail" not in "".join(added)


def test_a_hand_edited_generated_file_falls_through_to_a_full_diff(project: Path) -> None:
    path = project / "generated/macp_sdk/modes/decision.py"
    path.write_text(path.read_text() + "\nPATCHED = True\n")
    status, out, _ = check(project)
    assert status == 1 and "-PATCHED = True" in out


def test_an_inputs_only_change_leaves_the_manifest_stale(project: Path) -> None:
    """Trailing whitespace in a proto changes no module, but generate rewrites the manifest."""
    (project / DECISION).write_text((project / DECISION).read_text() + "\n")
    status, out, _ = check(project)
    assert status == 1
    assert f"  stale    {MANIFEST}" in out and '-  "inputs": ' in out
    assert out.count("  stale    ") == 1


def test_check_no_diff_lists_files_only(project: Path) -> None:
    edit(project, DECISION, "  string rationale = 3;", "  string summary = 3;")
    status, out, _ = check(project, "--no-diff")
    assert status == 1 and "--- a/" not in out and "  stale    generated/" in out


def test_a_corrupt_manifest_is_bad_input_with_its_position(project: Path) -> None:
    (project / MANIFEST).write_text('{\n  "files": {,\n}\n')
    status, out, err = check(project)
    assert status == 2 and out == ""
    assert re.fullmatch(
        rf"{re.escape(str(project / MANIFEST))}:2:13: error: the manifest is not valid JSON: .*\n",
        err,
    ), err


def test_the_committed_tree_passes_the_cli_check(repo_root: Path) -> None:
    """This repository's own drift check at the CLI level (manifest included)."""
    status, out, _ = check(repo_root, "--full", "--no-diff")
    assert status == 0, out + "\nfix with `make generate` (or `macp-codegen generate`)"
