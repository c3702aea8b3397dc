"""`macp-codegen breaking --against`: one test per rule, each in a throwaway git repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from codegen_helpers import run_cli
from macp_codegen.compile import compile_protos

from workflow.workspace import CORE, DECISION, TASK, commit, edit, line_of

FINDING = re.compile(r"^(?P<file>[^\s:]+(?::[^\s:]+)?):(?P<line>\d+):(?P<col>\d+): (?P<kind>\S+): ")


def breaking(root: Path, against: str = "HEAD", *extra: str) -> tuple[int, list[str], str]:
    run = run_cli("breaking", "--project-root", str(root), "--against", against, *extra)
    findings = [line for line in run.out.splitlines() if FINDING.match(line)]
    return run.status, findings, run.out + run.err


def only(findings: list[str], kind: str) -> list[str]:
    return [f for f in findings if FINDING.match(f) and FINDING.match(f)["kind"] == kind]  # type: ignore[index]


def located(finding: str) -> tuple[str, int]:
    match = FINDING.match(finding)
    assert match, finding
    return match["file"], int(match["line"])


def test_no_change_breaks_nothing(git_project: Path) -> None:
    status, findings, out = breaking(git_project)
    assert (status, findings) == (0, []) and "no breaking changes against HEAD" in out


def test_a_compatible_addition_breaks_nothing(git_project: Path) -> None:
    edit(
        git_project,
        DECISION,
        "  string reason = 3;\n}",
        "  string reason = 3;\n  string note = 4;\n}",
    )
    assert breaking(git_project)[:2] == (0, [])


# --- wire ------------------------------------------------------------------------------------


def test_a_removed_field_without_reserved_is_reported_at_its_message(git_project: Path) -> None:
    edit(git_project, DECISION, "  string reason = 3;\n}", "}")
    status, findings, _ = breaking(git_project)
    assert status == 1
    [finding] = only(findings, "wire/field-removed")
    assert "field reason = 3 was removed from macp.modes.decision.v1.VotePayload" in finding
    assert located(finding) == (DECISION, line_of(git_project, DECISION, "message VotePayload"))


def test_a_removed_field_with_its_number_reserved_is_wire_compatible(git_project: Path) -> None:
    edit(git_project, DECISION, "  string reason = 3;\n}", '  reserved 3;\n  reserved "reason";\n}')
    _, findings, _ = breaking(git_project)
    assert not [f for f in findings if f.split(": ")[1].startswith("wire/")], findings
    # The SDK still loses the parameter, and says so.
    assert only(findings, "sdk/parameter-removed")


def test_a_reused_field_number_is_reported_at_the_field(git_project: Path) -> None:
    edit(git_project, DECISION, "  string rationale = 3;", "  string summary = 3;")
    _, findings, _ = breaking(git_project)
    [finding] = only(findings, "wire/field-number-reused")
    assert (
        "field number 3 of macp.modes.decision.v1.ProposalPayload was rationale, now summary"
        in finding
    )
    assert located(finding) == (DECISION, line_of(git_project, DECISION, "string summary = 3"))


def test_using_a_reserved_number_again_is_a_reused_number(git_project: Path) -> None:
    edit(git_project, DECISION, "  string reason = 3;\n}", "  reserved 3;\n}")
    commit(git_project, "retire VotePayload.reason")
    edit(git_project, DECISION, "  reserved 3;\n}", "  string note = 3;\n}")
    status, findings, _ = breaking(git_project)
    [finding] = only(findings, "wire/field-number-reused")
    assert status == 1 and "uses number 3, which was reserved" in finding


def test_a_retyped_field_is_reported_at_the_field(git_project: Path) -> None:
    line = edit(git_project, DECISION, "  string rationale = 3;", "  int64 rationale = 3;")
    _, findings, _ = breaking(git_project)
    [finding] = only(findings, "wire/field-retyped")
    assert "ProposalPayload.rationale = 3 changed from string to int64" in finding
    assert located(finding) == (DECISION, line)


def test_a_field_made_repeated_is_retyped(git_project: Path) -> None:
    edit(git_project, DECISION, "  string rationale = 3;", "  repeated string rationale = 3;")
    [finding] = only(breaking(git_project)[1], "wire/field-retyped")
    assert "changed from string to repeated string" in finding


def test_a_removed_message_is_reported_at_its_old_declaration(git_project: Path) -> None:
    old_line = line_of(git_project, DECISION, "message VotePayload")
    text = (git_project / DECISION).read_text()
    start = text.rindex("// One participant's vote")
    (git_project / DECISION).write_text(text[:start])
    status, findings, _ = breaking(git_project)
    [finding] = only(findings, "wire/message-removed")
    assert status == 1 and "message macp.modes.decision.v1.VotePayload was removed" in finding
    assert located(finding) == (f"HEAD:{DECISION}", old_line)


def test_a_changed_rpc_signature_is_reported_at_the_rpc(git_project: Path) -> None:
    line = edit(
        git_project,
        CORE,
        "rpc Send(SendRequest) returns (SendResponse);",
        "rpc Send(SendRequest) returns (stream SendResponse);",
    )
    [finding] = only(breaking(git_project)[1], "wire/rpc-changed")
    assert (
        "rpc macp.v1.MACPRuntimeService.Send changed from (macp.v1.SendRequest) returns "
        "(macp.v1.SendResponse) to (macp.v1.SendRequest) returns (stream macp.v1.SendResponse)"
    ) in finding
    assert located(finding) == (CORE, line)


def test_a_removed_rpc_is_reported_at_its_old_declaration(git_project: Path) -> None:
    old_line = line_of(git_project, CORE, "rpc GetPolicy(")
    text = (git_project / CORE).read_text()
    # The comment line, the rpc line and its `(macp.sdk.v1.rpc)` option block.
    rpc = re.search(r"\n[^\n]*\n  rpc GetPolicy\([^\n]*\n    option [^\n]*\n  \}", text)
    assert rpc
    (git_project / CORE).write_text(text.replace(rpc.group(0), ""))
    status, findings, _ = breaking(git_project)
    [finding] = only(findings, "wire/rpc-removed")
    assert "rpc macp.v1.MACPRuntimeService.GetPolicy was removed" in finding
    assert located(finding) == (f"HEAD:{CORE}", old_line)
    # The SDK side: the generated clients lose a method.
    [client] = only(findings, "sdk/client-method-removed")
    assert "MacpClient/AsyncMacpClient.get_policy was removed (rpc GetPolicy)" in client
    assert located(client) == (f"HEAD:{CORE}", old_line)
    assert status == 1


def test_renaming_a_client_method_and_a_watcher_is_reported(git_project: Path) -> None:
    edit(
        git_project,
        CORE,
        'option (macp.sdk.v1.rpc) = {auth_required: true, positional: ["policy_id"]};\n'
        "  }\n  // Policies",
        'option (macp.sdk.v1.rpc) = {method: "fetch_policy", auth_required: true, '
        'positional: ["policy_id"]};\n  }\n  // Policies',
    )
    edit(git_project, CORE, 'class_name: "RootsWatcher"', 'class_name: "RootWatcher"')
    status, findings, _ = breaking(git_project)
    [renamed] = only(findings, "sdk/client-method-renamed")
    assert "MacpClient/AsyncMacpClient.get_policy is now fetch_policy (rpc GetPolicy)" in renamed
    [watcher] = only(findings, "sdk/watcher-renamed")
    assert "watcher RootsWatcher is now RootWatcher" in watcher
    assert status == 1


# --- SDK -------------------------------------------------------------------------------------


def test_renaming_the_method_option_renames_the_method(git_project: Path) -> None:
    edit(git_project, DECISION, 'method: "propose"', 'method: "suggest"')
    status, findings, _ = breaking(git_project)
    [finding] = only(findings, "sdk/method-renamed")
    assert status == 1 and "method DecisionSession.propose is now suggest" in finding
    assert located(finding) == (DECISION, line_of(git_project, DECISION, "message ProposalPayload"))


def test_renaming_an_action_message_removes_the_action(git_project: Path) -> None:
    edit(git_project, DECISION, "message VotePayload", "message BallotPayload")
    status, findings, _ = breaking(git_project)
    [finding] = only(findings, "sdk/action-removed")
    assert status == 1
    assert "action Vote (DecisionSession.vote) of macp.mode.decision.v1 was removed" in finding
    assert only(findings, "wire/message-removed")


def test_a_renamed_message_that_keeps_its_message_type_is_still_the_same_action(
    git_project: Path,
) -> None:
    edit(
        git_project,
        DECISION,
        "message VotePayload {\n  option (macp.sdk.v1.action) = {\n",
        'message BallotPayload {\n  option (macp.sdk.v1.action) = {\n    message_type: "Vote"\n'
        '    method: "vote"\n',
    )
    _, findings, _ = breaking(git_project)
    assert not [f for f in findings if "/action-" in f or "/method-" in f], findings
    assert only(findings, "wire/message-removed")


def test_a_changed_message_type_renames_the_action(git_project: Path) -> None:
    edit(
        git_project,
        DECISION,
        'method: "raise_objection"',
        'method: "raise_objection"\n    message_type: "Concern"',
    )
    [finding] = only(breaking(git_project)[1], "sdk/action-renamed")
    assert "action Objection of macp.mode.decision.v1 is now Concern" in finding


def test_a_removed_alias_is_a_removed_method(git_project: Path) -> None:
    edit(git_project, TASK, '    aliases: "request"\n', "")
    [finding] = only(breaking(git_project)[1], "sdk/method-removed")
    assert "method TaskSession.request was removed" in finding


def test_a_changed_mode_id_is_reported(git_project: Path) -> None:
    edit(git_project, DECISION, 'id: "macp.mode.decision.v1"', 'id: "macp.mode.decision.v2"')
    [finding] = only(breaking(git_project)[1], "sdk/mode-id-changed")
    assert "mode id macp.mode.decision.v1 is now macp.mode.decision.v2" in finding


def test_a_renamed_session_class_is_reported(git_project: Path) -> None:
    edit(
        git_project,
        DECISION,
        'title: "Decision Mode"',
        'title: "Decision Mode"\n  session_class: "DecideSession"',
    )
    classes = only(breaking(git_project)[1], "sdk/class-renamed")
    assert any("session class DecisionSession is now DecideSession" in f for f in classes)
    assert any(
        "async session class AsyncDecisionSession is now AsyncDecideSession" in f for f in classes
    )


def test_a_removed_mode_is_reported(git_project: Path) -> None:
    (git_project / DECISION).unlink()
    [finding] = only(breaking(git_project)[1], "sdk/mode-removed")
    assert "mode macp.mode.decision.v1 was removed" in finding
    assert located(finding)[0] == f"HEAD:{DECISION}"


def test_a_changed_required_field_set_is_reported(git_project: Path) -> None:
    edit(
        git_project,
        DECISION,
        "  string rationale = 3;",
        "  string rationale = 3 [(macp.sdk.v1.field) = {required: true}];",
    )
    findings = breaking(git_project)[1]
    [finding] = only(findings, "sdk/required-fields-changed")
    assert "required fields of ProposalPayload changed: now required: rationale" in finding
    [mandatory] = only(findings, "sdk/parameter-now-mandatory")
    assert "DecisionSession.propose() now needs argument 'rationale'" in mandatory


def test_relaxing_a_required_field_is_a_changed_set_too(git_project: Path) -> None:
    edit(
        git_project,
        DECISION,
        "  string option = 2 [(macp.sdk.v1.field) = {required: true}];",
        "  string option = 2;",
    )
    [finding] = only(breaking(git_project)[1], "sdk/required-fields-changed")
    assert "no longer required: option" in finding


# --- inputs and formats ----------------------------------------------------------------------


def test_a_descriptor_set_file_is_an_accepted_baseline(git_project: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.pb"
    compiled = compile_protos(git_project / "proto")
    baseline.write_bytes(compiled.descriptor_set.SerializeToString(deterministic=True))
    edit(git_project, DECISION, 'method: "propose"', 'method: "suggest"')
    status, findings, _ = breaking(git_project, str(baseline))
    assert status == 1 and only(findings, "sdk/method-renamed")


def test_json_output_lists_every_finding_with_its_location(git_project: Path) -> None:
    edit(git_project, DECISION, "  string rationale = 3;", "  int64 rationale = 3;")
    edit(git_project, DECISION, 'method: "propose"', 'method: "suggest"')
    run = run_cli(
        "breaking", "--project-root", str(git_project), "--against", "HEAD", "--format", "json"
    )
    data = json.loads(run.out)
    assert run.status == 1 and data["against"] == "HEAD"
    rules = {(f["category"], f["rule"]) for f in data["breaking"]}
    assert {("wire", "field-retyped"), ("sdk", "method-renamed")} <= rules
    for finding in data["breaking"]:
        assert finding["file"] and finding["line"] > 0 and finding["message"]


def test_github_output_is_one_annotation_per_finding(git_project: Path) -> None:
    line = edit(git_project, DECISION, "  string rationale = 3;", "  int64 rationale = 3;")
    run = run_cli(
        "breaking", "--project-root", str(git_project), "--against", "HEAD", "--format", "github"
    )
    assert run.status == 1
    assert (
        f"::error file={DECISION},line={line},col=3,title=breaking: wire/field-retyped::" in run.out
    )


def test_every_text_finding_names_a_file_and_line(git_project: Path) -> None:
    edit(git_project, DECISION, "message VotePayload", "message BallotPayload")
    edit(
        git_project,
        CORE,
        "rpc Send(SendRequest) returns (SendResponse);",
        "rpc Send(SendRequest) returns (stream SendResponse);",
    )
    status, findings, out = breaking(git_project)
    assert status == 1 and len(findings) >= 3
    lines = [line for line in out.splitlines() if not line.startswith("macp-codegen:")]
    assert all(FINDING.match(line) and located(line)[1] > 0 for line in lines), lines


@pytest.mark.parametrize("against", ["no-such-ref", "HEAD~5"])
def test_an_unknown_baseline_is_bad_input(git_project: Path, against: str) -> None:
    status, findings, out = breaking(git_project, against)
    assert status == 2 and not findings
    assert out.startswith(
        f"{against}: error: {against!r} is neither a descriptor set file nor a git"
    )
    assert out.count("\n") == 1


def test_a_baseline_that_does_not_compile_is_bad_input_with_its_position(git_project: Path) -> None:
    edit(git_project, DECISION, "  string reason = 3;\n}", "  string reason = 3\n}")
    commit(git_project, "broken")
    edit(git_project, DECISION, "  string reason = 3\n}", "  string reason = 3;\n}")
    status, _, out = breaking(git_project)
    assert status == 2 and out.startswith(f"HEAD:{DECISION}:"), out
    assert re.match(r"HEAD:\S+:\d+:\d+: error: ", out), out
