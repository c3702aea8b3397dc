"""Payload constructs the builders cannot honour are located errors (exit 2, nothing written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from codegen_helpers import run_cli, tree_fingerprint

SHOP = "proto/acme/shop/v1/shop.proto"
COMMON = "proto/acme/common/v1/common.proto"
BASE = """syntax = "proto3";

package acme.shop.v1;

import "acme/common/v1/common.proto";
import "macp/sdk/v1/options.proto";

enum Size {
  SIZE_UNSPECIFIED = 0;
  SIZE_SMALL = 1;
}

message OrderPayload {
  option (macp.sdk.v1.action) = {senders: SENDER_ROLE_INITIATOR};
  string order_id = 1;
  optional string note = 2;
  Size size = 3;
  acme.common.v1.Tier tier = 4;
  oneof delivery {
    string address = 5;
    string pickup_point = 6;
  }
}
"""
COMMON_PROTO = """syntax = "proto3";

package acme.common.v1;

enum Tier {
  TIER_UNSPECIFIED = 0;
  TIER_GOLD = 1;
}
"""

# case -> ((text in shop.proto, replacement), ...), the text the error line holds, message
CASES: dict[str, tuple[tuple[tuple[str, str], ...], str, str]] = {
    "oneof member is positional": (
        (
            (
                "{senders: SENDER_ROLE_INITIATOR}",
                '{senders: SENDER_ROLE_INITIATOR, positional: ["address"]}',
            ),
        ),
        "option (macp.sdk.v1.action)",
        "positional field 'address' is not a settable field of OrderPayload outside a oneof",
    ),
    "oneof member from the sender": (
        (
            (
                "string address = 5;",
                "string address = 5 [(macp.sdk.v1.field) = {from_sender: true}];",
            ),
        ),
        "string address = 5",
        "member of oneof 'delivery'",
    ),
    "optional field from the sender": (
        (
            (
                "optional string note = 2;",
                "optional string note = 2 [(macp.sdk.v1.field) = {from_sender: true}];",
            ),
        ),
        "optional string note = 2",
        "tracks presence",
    ),
    "oneof named like a record attribute": (
        (("oneof delivery {", "oneof sender {"),),
        "string address = 5",
        "oneof OrderPayload.sender",
    ),
    "subject is an enum": (
        (
            (
                "{senders: SENDER_ROLE_INITIATOR}",
                '{senders: SENDER_ROLE_INITIATOR, subject_field: "tier"}',
            ),
        ),
        "option (macp.sdk.v1.action)",
        "subject_field 'tier' of OrderPayload is not a singular scalar field",
    ),
    "subject is optional": (
        (
            (
                "{senders: SENDER_ROLE_INITIATOR}",
                '{senders: SENDER_ROLE_INITIATOR, subject_field: "note", positional: []}',
            ),
        ),
        "option (macp.sdk.v1.action)",
        "subject_field 'note' of OrderPayload is not a singular scalar field",
    ),
    "allowed values on an enum": (
        (("Size size = 3;", 'Size size = 3 [(macp.sdk.v1.field) = {allowed: ["SMALL"]}];'),),
        "Size size = 3",
        "need a singular string field",
    ),
    "two enums with one alias name": (
        (
            ("SIZE_SMALL = 1;\n}\n", "SIZE_SMALL = 1;\n}\n\nenum Tier {\n  TIER_X = 0;\n}\n"),
            ("  Size size = 3;", "  Tier size = 3;"),
        ),
        "  acme.common.v1.Tier tier = 4",  # the second field using a TierName
        "would both be named TierName",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_construct_is_a_located_error(scratch_project: Path, case: str) -> None:
    (scratch_project / SHOP).parent.mkdir(parents=True)
    (scratch_project / SHOP).write_text(BASE)
    (scratch_project / COMMON).parent.mkdir(parents=True)
    (scratch_project / COMMON).write_text(COMMON_PROTO)
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    before = tree_fingerprint(scratch_project / "generated")
    edits, marker, message = CASES[case]
    text = BASE
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    (scratch_project / SHOP).write_text(text)

    result = run_cli("generate", "--project-root", str(scratch_project))

    assert result.status == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$", lines[0])
    assert match, lines[0]
    assert Path(match["file"]).resolve() == (scratch_project / SHOP).resolve()
    assert int(match["line"]) == text[: text.index(marker)].count("\n") + 1
    assert message in match["msg"], match["msg"]
    assert "(" in match["msg"], "the message says what to change"
    assert tree_fingerprint(scratch_project / "generated") == before
