"""Bad `(macp.sdk.v1.rpc)` options and RPCs the clients cannot call: one located line, exit 2,
output untouched."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint

CORE = "proto/macp/v1/core.proto"


def _edit(project: Path, old: str, new: str, at: str) -> tuple[Path, int]:
    """Replaces `old` by `new` once; returns core.proto and the line of `at` (the rpc)."""
    path = project / CORE
    text = path.read_text()
    assert text.count(old) == 1, f"fixture text not found once in {CORE}: {old!r}"
    text = text.replace(old, new)
    path.write_text(text)
    return path, text[: text.index(at)].count("\n") + 1


def client_streaming(project: Path) -> tuple[Path, int]:
    rpc = "rpc Upload(stream GetSessionRequest) returns (GetSessionResponse);"
    return _edit(
        project, "service MACPRuntimeService {\n", f"service MACPRuntimeService {{\n  {rpc}\n", rpc
    )


def unknown_positional(project: Path) -> tuple[Path, int]:
    return _edit(project, 'positional: ["agent_id"]', 'positional: ["agent"]', "rpc GetManifest(")


def bad_ack_field(project: Path) -> tuple[Path, int]:
    old = (
        "rpc SuspendSession(SuspendSessionRequest) returns (SuspendSessionResponse) {\n"
        '    option (macp.sdk.v1.rpc) = {auth_required: true, positional: ["session_id"], '
        'ack_field: "ack"}'
    )
    return _edit(project, old, old.replace('"ack"', '"receipt"'), "rpc SuspendSession(")


def bad_page_items(project: Path) -> tuple[Path, int]:
    return _edit(project, 'page_items: "sessions"', 'page_items: "session"', "rpc ListSessions(")


def watcher_on_unary(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'response_adapter: "receipt_key_set"}',
        'response_adapter: "receipt_key_set", '
        'watcher: {class_name: "KeysWatcher", base: "RootsWatcherBase"}}',
        "rpc GetReceiptKeys(",
    )


def unknown_response_adapter(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'response_adapter: "receipt_key_set"}',
        'response_adapter: "no_such_adapter"}',
        "rpc GetReceiptKeys(",
    )


def core_member(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'positional: ["agent_id"]',
        'method: "close", positional: ["agent_id"]',
        "rpc GetManifest(",
    )


def unknown_capability(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'capability: "policy_registry.what_if_replay"',
        'capability: "policy_registry.what_if"',
        "rpc WhatIfReplay(",
    )


def two_modules_of_one_name(project: Path) -> tuple[Path, int]:
    other = project / "proto/acme/v1/core.proto"
    other.parent.mkdir(parents=True)
    other.write_text('syntax = "proto3";\npackage acme.v1;\nmessage Thing {\n  string id = 1;\n}\n')
    _edit(
        project,
        'import "macp/v1/policy.proto";',
        'import "macp/v1/policy.proto";\nimport "acme/v1/core.proto";',
        "syntax",
    )
    rpc = "  rpc GetThing(acme.v1.Thing) returns (GetSessionResponse);\n"
    return _edit(
        project,
        "service MACPRuntimeService {\n",
        "service MACPRuntimeService {\n" + rpc,
        "service MACPRuntimeService",
    )


def unknown_request_check(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'request_check: "check_mode_descriptor"',
        'request_check: "check_everything"',
        "rpc RegisterExtMode(",
    )


def unsent_param_clashes(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'unsent_params: ["cancelled_by"]',
        'unsent_params: ["cancelled_by", "timeout"]',
        "rpc CancelSession(",
    )


def unsent_param_not_a_name(project: Path) -> tuple[Path, int]:
    return _edit(
        project,
        'unsent_params: ["cancelled_by"]',
        'unsent_params: ["cancelled-by"]',
        "rpc CancelSession(",
    )


CASES: dict[str, tuple[Callable[[Path], tuple[Path, int]], str]] = {
    "unsent param clashes": (unsent_param_clashes, "'timeout' is already a parameter"),
    "unsent param not a name": (unsent_param_not_a_name, "'cancelled-by' is not a usable"),
    "unknown request check": (unknown_request_check, "request_check 'check_everything'"),
    "client-streaming rpc": (client_streaming, "rpc Upload streams requests"),
    "unknown positional field": (unknown_positional, "positional field 'agent'"),
    "ack_field not a message": (bad_ack_field, "ack_field 'receipt'"),
    "page_items not repeated": (bad_page_items, "page_items 'session'"),
    "watcher on a unary rpc": (watcher_on_unary, "needs a server-streaming rpc"),
    "unknown response adapter": (
        unknown_response_adapter,
        "is not an adapter of macp_core.response_adapters",
    ),
    "method shadows the client base": (core_member, "client method close"),
    "unknown capability": (unknown_capability, "capability 'policy_registry.what_if'"),
    "two pb2 modules of one name": (two_modules_of_one_name, "two modules named core_pb2"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_rpc_options_are_reported_at_the_rpc_and_nothing_is_written(
    scratch_project: Path, case: str
) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    output = scratch_project / "generated"
    before = tree_fingerprint(output)
    make_bad, expected_text = CASES[case]
    bad_file, bad_line = make_bad(scratch_project)

    result = run_cli("generate", "--project-root", str(scratch_project))

    assert result.status == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", lines[0])
    assert match, lines[0]
    assert Path(match["file"]).resolve() == bad_file.resolve()
    assert int(match["line"]) == bad_line
    assert re.search(re.escape(expected_text), match["msg"]), match["msg"]
    assert "(" in match["msg"], "the message says what to change"
    assert tree_fingerprint(output) == before
