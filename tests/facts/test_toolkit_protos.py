"""options.proto ships with the toolkit: always importable, generated only when imported."""

from __future__ import annotations

from pathlib import Path

from macp_codegen.compile import OPTIONS_PROTO, TOOLKIT_PROTO_ROOT, compile_protos

OPTIONS_MODULE = "macp/sdk/v1/options_pb2.py"

MODE_WITH_OPTIONS = """syntax = "proto3";
package acme.gadget.v1;
import "macp/sdk/v1/options.proto";
option (macp.sdk.v1.mode) = { id: "ext.gadget.v1" };
message PingPayload { string note = 1 [(macp.sdk.v1.field) = {required: true}]; }
"""

BARE_MODE = """syntax = "proto3";
package acme.plain.v1;
message PingPayload { string note = 1; }
"""


def _write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")


def test_options_proto_is_package_data_and_not_in_the_repo_proto_folder(repo_root: Path) -> None:
    assert (TOOLKIT_PROTO_ROOT / OPTIONS_PROTO).is_file()
    assert TOOLKIT_PROTO_ROOT.is_relative_to(repo_root / "generator" / "macp_codegen")
    assert not (repo_root / "proto" / OPTIONS_PROTO).exists()


def test_importing_the_options_generates_options_pb2(tmp_path: Path) -> None:
    _write(tmp_path, "acme/gadget/v1/gadget.proto", MODE_WITH_OPTIONS)
    compiled = compile_protos(tmp_path)
    assert OPTIONS_MODULE in compiled.modules
    assert OPTIONS_MODULE.replace(".py", ".pyi") in compiled.modules
    assert OPTIONS_PROTO in compiled.targets
    assert compiled.source_paths[OPTIONS_PROTO] == TOOLKIT_PROTO_ROOT / OPTIONS_PROTO


def test_no_import_no_options_module(tmp_path: Path) -> None:
    _write(tmp_path, "acme/plain/v1/plain.proto", BARE_MODE)
    compiled = compile_protos(tmp_path)
    assert OPTIONS_MODULE not in compiled.modules
    assert OPTIONS_PROTO not in compiled.targets


def test_a_user_copy_of_options_proto_is_shadowed(tmp_path: Path) -> None:
    _write(tmp_path, "acme/gadget/v1/gadget.proto", MODE_WITH_OPTIONS)
    _write(tmp_path, OPTIONS_PROTO, 'syntax = "proto3";\npackage macp.sdk.v1;\n')
    compiled = compile_protos(tmp_path)
    assert compiled.source_paths[OPTIONS_PROTO] == TOOLKIT_PROTO_ROOT / OPTIONS_PROTO
    names = {f.name: f for f in compiled.descriptor_set.file}
    assert any(m.name == "ModeSpec" for m in names[OPTIONS_PROTO].message_type)


def test_sender_roles_and_their_wording_come_from_the_enum(tmp_path: Path) -> None:
    from macp_codegen.options import OptionReader

    _write(
        tmp_path,
        "acme/gadget/v1/gadget.proto",
        MODE_WITH_OPTIONS.replace(
            "message PingPayload {",
            "message PingPayload {\n  option (macp.sdk.v1.action) = "
            "{ senders: [SENDER_ROLE_OWNER, SENDER_ROLE_REQUESTED_ASSIGNEE] };",
        ),
    )
    compiled = compile_protos(tmp_path)
    file = next(f for f in compiled.descriptor_set.file if f.package == "acme.gadget.v1")
    action = OptionReader(compiled.descriptor_set).action(file.message_type[0])
    assert action.senders == ("owner", "requested_assignee")
    # The wording is each value's trailing comment in options.proto.
    assert action.sender_phrases == (
        "the current owner",
        "the requested assignee (anyone when unset)",
    )
