"""`breaking` on payload constructs: a oneof makes a call that worked before fail."""

from __future__ import annotations

from pathlib import Path

from workflow.test_breaking import breaking, located, only
from workflow.workspace import DECISION, commit, edit, line_of

PLAIN = "  string reason = 3;\n}"
ONEOF = "  oneof basis {\n    string reason = 3;\n    string note = 4;\n  }\n}"


def test_a_field_moved_into_a_new_oneof_is_reported(git_project: Path) -> None:
    edit(git_project, DECISION, PLAIN, ONEOF)
    status, findings, _ = breaking(git_project)
    assert status == 1
    [finding] = only(findings, "sdk/oneof-changed")
    assert "DecisionSession.vote() now takes exactly one of reason, note" in finding
    assert located(finding) == (DECISION, line_of(git_project, DECISION, "string reason = 3"))


def test_a_oneof_gaining_a_member_is_reported_and_one_kept_is_not(git_project: Path) -> None:
    edit(git_project, DECISION, PLAIN, ONEOF)
    commit(git_project, "a oneof")
    edit(
        git_project,
        DECISION,
        "    string note = 4;\n",
        "    string note = 4;\n    string link = 5;\n",
    )
    findings = breaking(git_project)[1]
    [finding] = only(findings, "sdk/oneof-changed")
    assert "exactly one of reason, note, link" in finding
    edit(git_project, DECISION, "    string link = 5;\n", "")
    assert only(breaking(git_project)[1], "sdk/oneof-changed") == []
