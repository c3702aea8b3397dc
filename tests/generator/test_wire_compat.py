"""Our protos are wire-compatible with the published macp-proto 0.1.13 bindings.

The published wheel also installs a package named `macp`, so it is read in a subprocess with
only the unpacked wheel on its path; it returns its serialized descriptors.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import oracle_site
from google.protobuf import descriptor_pb2
from macp_codegen.compile import compile_protos

FDP = descriptor_pb2.FieldDescriptorProto

DUMP = r"""
import importlib, pkgutil, sys
from google.protobuf import descriptor_pb2
import macp
out = descriptor_pb2.FileDescriptorSet()
for info in sorted(pkgutil.walk_packages(macp.__path__, "macp."), key=lambda i: i.name):
    if info.name.endswith("_pb2"):
        module = importlib.import_module(info.name)
        out.file.add().ParseFromString(module.DESCRIPTOR.serialized_pb)
sys.stdout.buffer.write(out.SerializeToString())
"""


@pytest.fixture(scope="module")
def oracle_files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    unpacked = oracle_site()
    dumped = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r})\n" + DUMP],
        check=True,
        capture_output=True,
    ).stdout
    files = descriptor_pb2.FileDescriptorSet.FromString(dumped).file
    assert len(files) >= 9, "the oracle wheel should hold core, envelope, policy and six modes"
    return {f.name: f for f in files}


@pytest.fixture(scope="module")
def our_files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    compiled = compile_protos(Path(__file__).resolve().parents[2] / "proto")
    return {f.name: f for f in compiled.descriptor_set.file}


def _messages(
    file: descriptor_pb2.FileDescriptorProto,
) -> dict[str, descriptor_pb2.DescriptorProto]:
    found: dict[str, descriptor_pb2.DescriptorProto] = {}

    def walk(prefix: str, messages: object) -> None:
        for message in messages:  # type: ignore[attr-defined]
            name = f"{prefix}.{message.name}"
            found[name] = message
            walk(name, message.nested_type)

    walk(file.package, file.message_type)
    return found


def _enums(file: descriptor_pb2.FileDescriptorProto) -> dict[str, dict[str, int]]:
    enums = {
        f"{file.package}.{e.name}": {v.name: v.number for v in e.value} for e in file.enum_type
    }
    for name, message in _messages(file).items():
        for e in message.enum_type:
            enums[f"{name}.{e.name}"] = {v.name: v.number for v in e.value}
    return enums


def test_every_oracle_file_exists_with_the_same_package(oracle_files, our_files) -> None:
    for name, theirs in oracle_files.items():
        assert name in our_files, f"missing proto file {name}"
        assert our_files[name].package == theirs.package


def test_every_message_and_field_matches(oracle_files, our_files) -> None:
    checked = 0
    for name, theirs in oracle_files.items():
        ours = _messages(our_files[name])
        for full_name, message in _messages(theirs).items():
            assert full_name in ours, f"message {full_name} missing"
            our_fields = {f.name: f for f in ours[full_name].field}
            for field in message.field:
                assert field.name in our_fields, f"field {full_name}.{field.name} missing"
                mine = our_fields[field.name]
                where = f"{full_name}.{field.name}"
                assert mine.number == field.number, where
                assert mine.type == field.type, where
                assert mine.label == field.label, where
                assert mine.type_name == field.type_name, where
                assert mine.proto3_optional == field.proto3_optional, where
                assert mine.HasField("oneof_index") == field.HasField("oneof_index"), where
                checked += 1
            assert ours[full_name].options.map_entry == message.options.map_entry
    assert checked > 200


def test_every_enum_value_matches(oracle_files, our_files) -> None:
    for name, theirs in oracle_files.items():
        ours = _enums(our_files[name])
        for enum_name, values in _enums(theirs).items():
            assert ours.get(enum_name) == values, enum_name


def test_every_rpc_matches(oracle_files, our_files) -> None:
    theirs = {s.name: s for f in oracle_files.values() for s in f.service}
    ours = {s.name: s for f in our_files.values() for s in f.service}
    service = theirs["MACPRuntimeService"]
    assert len(service.method) == 27
    our_methods = {m.name: m for m in ours["MACPRuntimeService"].method}
    for method in service.method:
        mine = our_methods[method.name]
        assert (mine.input_type, mine.output_type) == (method.input_type, method.output_type)
        assert mine.client_streaming == method.client_streaming, method.name
        assert mine.server_streaming == method.server_streaming, method.name


def test_a_changed_field_number_would_be_caught(oracle_files, our_files) -> None:
    """The comparison above is not vacuous: a renumbered field is a visible difference."""
    vote = _messages(our_files["macp/modes/decision/v1/decision.proto"])[
        "macp.modes.decision.v1.VotePayload"
    ]
    theirs = _messages(oracle_files["macp/modes/decision/v1/decision.proto"])[
        "macp.modes.decision.v1.VotePayload"
    ]
    tampered = descriptor_pb2.DescriptorProto()
    tampered.CopyFrom(vote)
    tampered.field[1].number = 9
    assert [f.number for f in tampered.field] != [f.number for f in theirs.field]
    assert [f.number for f in vote.field] == [f.number for f in theirs.field]
