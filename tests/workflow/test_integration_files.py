"""The pre-commit hook and the CI recipe stay in step with the project."""

from __future__ import annotations

import re
import tomllib

import yaml

from workflow.workspace import REPO


def test_the_pre_commit_hook_runs_check_with_the_pinned_codegen_tools() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    [hook] = [h for h in hooks if h["id"] == "macp-codegen-check"]
    assert hook["entry"] == "macp-codegen check" and hook["pass_filenames"] is False
    for path in (
        "proto/macp/v1/core.proto",
        "generator/macp_codegen/templates/sdk/x.jinja",
        "generator/macp_codegen/modeling.py",
        "core/macp_core/contract.py",
        "generated/a.py",
        "pyproject.toml",
    ):
        assert re.search(hook["files"], path), path
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    codegen = pyproject["project"]["optional-dependencies"]["codegen"]
    assert sorted(hook["additional_dependencies"]) == sorted(codegen), (
        "keep .pre-commit-hooks.yaml additional_dependencies equal to the codegen extra"
    )


def test_the_documented_workflow_runs_check_generate_and_breaking() -> None:
    doc = (REPO / "docs/ci.md").read_text()
    workflow = yaml.safe_load(
        doc.split("```yaml\n# .github/workflows/protos.yml\n", 1)[1].split("```", 1)[0]
    )
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    runs = " ".join(step.get("run", "") for step in workflow["jobs"]["codegen"]["steps"])
    for command in ("macp-codegen check", "macp-codegen generate", "macp-codegen breaking"):
        assert command in runs
