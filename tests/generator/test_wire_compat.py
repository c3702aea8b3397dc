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


def _field_differences(
    theirs: dict[str, descriptor_pb2.FileDescriptorProto],
    ours: dict[str, descriptor_pb2.FileDescriptorProto],
) -> tuple[list[str], int]:
    """Every way our messages and fields differ from the oracle's, and how many fields matched."""
    problems: list[str] = []
    checked = 0
    for name, their_file in theirs.items():
        our_messages = _messages(ours[name])
        for full_name, message in _messages(their_file).items():
            if full_name not in our_messages:
                problems.append(f"message {full_name} missing")
                continue
            mine = {f.name: f for f in our_messages[full_name].field}
            if our_messages[full_name].options.map_entry != message.options.map_entry:
                problems.append(f"{full_name}: map_entry differs")
            for field in message.field:
                where = f"{full_name}.{field.name}"
                if field.name not in mine:
                    problems.append(f"field {where} missing")
                    continue
                for attribute in ("number", "type", "label", "type_name", "proto3_optional"):
                    if getattr(mine[field.name], attribute) != getattr(field, attribute):
                        problems.append(f"{where}: {attribute} differs")
                if mine[field.name].HasField("oneof_index") != field.HasField("oneof_index"):
                    problems.append(f"{where}: oneof membership differs")
                checked += 1
    return problems, checked


def test_every_message_and_field_matches(oracle_files, our_files) -> None:
    problems, checked = _field_differences(oracle_files, our_files)
    assert problems == []
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
    """The comparison is not vacuous: renumbering one field of ours is reported."""
    decision = "macp/modes/decision/v1/decision.proto"
    tampered = dict(our_files)
    tampered[decision] = descriptor_pb2.FileDescriptorProto()
    tampered[decision].CopyFrom(our_files[decision])
    vote = next(m for m in tampered[decision].message_type if m.name == "VotePayload")
    vote.field[1].number = 9
    problems, _ = _field_differences(oracle_files, tampered)
    assert problems == ["macp.modes.decision.v1.VotePayload.vote: number differs"]
