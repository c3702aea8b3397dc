"""Every generated record follows the one constructor layout (generator/macp_codegen/
record_layout.py), read back from the protos' descriptors and options rather than restated:
plain values a sender sets, in proto order, then `sender` (or the action's `record_fields`),
required up to `sender`; every other field trailing with the value an unset field decodes to."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from macp.sdk.v1 import options_pb2
from macp.v1 import envelope_pb2
from macp_sdk._registry import MODE_REGISTRY, payload_class

RECORDS = [
    (mode, record)
    for mode, info in sorted(MODE_REGISTRY.items())
    for name in importlib.import_module(f"macp_sdk.projections._{info.short_name}_base").__all__
    if isinstance(
        record := getattr(
            importlib.import_module(f"macp_sdk.projections._{info.short_name}_base"), name
        ),
        type,
    )
    and hasattr(record, "MESSAGE_TYPE")
    and record.__name__ == name  # not a one-action mode's records union alias
]


def _plain(field: FieldDescriptor) -> bool:
    hidden = field.GetOptions().Extensions[options_pb2.field].hidden
    return (
        not field.is_repeated
        and field.type not in (FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_MESSAGE)
        and field.containing_oneof is None
        and not hidden
    )


def _leading(descriptor: Descriptor) -> list[str]:
    listed = list(descriptor.GetOptions().Extensions[options_pb2.action].record_fields)
    names = listed or [f.name for f in descriptor.fields if _plain(f)] + ["sender"]
    return names if "sender" in names else [*names, "sender"]


def _id(case: Any) -> str:
    return f"{case[0]}:{case[1].__name__}"


def test_every_mode_has_records() -> None:
    assert {mode for mode, _ in RECORDS} == set(MODE_REGISTRY)
    assert len(RECORDS) >= 20


@pytest.mark.parametrize("case", RECORDS, ids=_id)
def test_record_constructor_follows_the_layout(case: Any) -> None:
    mode, record = case
    payload = payload_class(mode, record.MESSAGE_TYPE)
    assert payload is not None
    fields = dataclasses.fields(record)
    names = [f.name for f in fields]
    leading = _leading(payload.DESCRIPTOR)
    trailing = [f.name for f in payload.DESCRIPTOR.fields if f.name not in leading]
    oneofs = [o.name for o in payload.DESCRIPTOR.oneofs if not o.name.startswith("_")]
    assert names == [*leading, *trailing, *oneofs, "message_id", "timestamp_unix_ms"]
    required = leading[: leading.index("sender")]
    assert [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ] == required


@pytest.mark.parametrize("case", RECORDS, ids=_id)
def test_defaults_are_what_an_unset_field_decodes_to(case: Any) -> None:
    """A record built from its required fields alone equals the decoded empty payload."""
    _, record = case
    decoded = record.decode(envelope_pb2.Envelope())
    required = {
        f.name: getattr(decoded, f.name)
        for f in dataclasses.fields(record)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert record(**required) == decoded
