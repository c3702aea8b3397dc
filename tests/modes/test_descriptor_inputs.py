"""The generator also reads descriptors it did not compile: a FileDescriptorSet file, or the
modules of an installed bindings package such as the published macp-proto."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from codegen_helpers import oracle_site, run_cli
from google.protobuf import descriptor_pb2
from macp_codegen.compile import compile_protos


def test_a_descriptor_set_file_gives_the_same_sdk_as_the_sources(
    tmp_path: Path, repo_root: Path
) -> None:
    compiled = compile_protos(repo_root / "proto")
    descriptor_file = tmp_path / "macp.binpb"
    descriptor_file.write_bytes(compiled.descriptor_set.SerializeToString(deterministic=True))
    output = tmp_path / "out"
    result = run_cli(
        "generate",
        "--project-root",
        str(repo_root),
        "--descriptor-set",
        str(descriptor_file),
        "--output",
        str(output),
    )
    assert result.status == 0, result.err
    # protoc embeds descriptors read back from a set with json_name filled in, so the protobuf
    # modules differ in those bytes only; the SDK generated from the model must be identical.
    # Bytecode caches are left by whatever imported the bindings (make bench, examples).
    ours_pb2 = {
        p.relative_to(repo_root / "generated")
        for p in (repo_root / "generated/macp").rglob("*_pb2*")
        if "__pycache__" not in p.parts
    }
    assert ours_pb2 == {p.relative_to(output) for p in (output / "macp").rglob("*_pb2*")}
    # Scaffolded projections are user-owned (hand-edited), so only generated files compare, and
    # of those not projections/__init__.py, whose 0.22.0 names follow the user's projections.
    generated = repo_root / "generated"
    compared = [generated / "macp_sdk/_registry.py"]
    compared += sorted((generated / "macp_sdk/modes").glob("*.py"))
    compared += sorted((generated / "macp_sdk/projections").glob("_*_base.py"))
    assert len(compared) > 10
    for path in compared:
        twin = output / path.relative_to(generated)
        assert twin.read_bytes() == path.read_bytes(), path


GENERATE_FROM_BINDINGS = r"""
import sys
sys.path.insert(0, sys.argv[1])
from macp_codegen.cli import main
raise SystemExit(main(["generate", "--project-root", sys.argv[2], "--bindings", "macp",
                       "--output", sys.argv[3]]))
"""

USE_OUTPUT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import macp_sdk
from macp_sdk import DecisionSession, MODE_REGISTRY
from macp_sdk.modes.decision import build_vote
envelope = build_vote(session_id="s", sender="a", proposal_id="p1", vote="approve")
print(json.dumps({"modes": sorted(MODE_REGISTRY), "vote": envelope.message_type,
                  "session": DecisionSession.MODE, "where": macp_sdk.__file__}))
"""


def test_installed_bindings_generate_a_working_sdk(tmp_path: Path, repo_root: Path) -> None:
    site = oracle_site()
    output = tmp_path / "out"
    # The published bindings own the name `macp`, so they are read in a separate interpreter.
    generate = subprocess.run(
        [sys.executable, "-c", GENERATE_FROM_BINDINGS, str(site), str(repo_root), str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generate.returncode == 0, generate.stderr
    use = subprocess.run(
        [sys.executable, "-c", USE_OUTPUT, str(output)], capture_output=True, text=True, timeout=60
    )
    assert use.returncode == 0, use.stderr
    facts = json.loads(use.stdout)
    assert facts["where"].startswith(str(output))
    # The bindings carry the wire, the project's protos the SDK options: the same API.
    assert facts["modes"] == [
        "ext.multi_round.v1",
        "macp.mode.decision.v1",
        "macp.mode.handoff.v1",
        "macp.mode.proposal.v1",
        "macp.mode.quorum.v1",
        "macp.mode.task.v1",
    ]
    assert facts["vote"] == "Vote" and facts["session"] == "macp.mode.decision.v1"


DESCRIBE = r"""
import sys
sys.path.insert(0, sys.argv[1])
from macp_codegen.cli import main
raise SystemExit(main(["describe", "--project-root", sys.argv[2], *sys.argv[3:]]))
"""


def _describe(site: Path, repo_root: Path, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", DESCRIBE, str(site), str(repo_root), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    # Where each mode was read from (a .proto line, or a bindings module) differs by input;
    # the session API must not.
    return re.sub(r"^(\S+  \(\w+), [^)]*\)", r"\1)", run.stdout, flags=re.M)


def test_published_bindings_give_the_same_session_api_as_the_protos(
    tmp_path: Path, repo_root: Path
) -> None:
    site = oracle_site()
    from_bindings = _describe(site, repo_root, "--bindings", "macp")
    assert from_bindings == _describe(tmp_path, repo_root)
    assert "propose(proposal_id, option, *, rationale, supporting_data)" in from_bindings
    assert "ext.multi_round.v1" in from_bindings and "macp.mode.multi_round" not in from_bindings


def test_bindings_are_never_read_from_the_projects_own_output(repo_root: Path) -> None:
    # In this environment `macp` is importable only as the project's own generated/macp.
    result = run_cli("describe", "--project-root", str(repo_root), "--bindings", "macp")
    assert result.status == 2
    assert "only this project's own output holds it" in result.err
    assert result.err.count("\n") == 1


def test_a_descriptor_set_from_protoc_gives_the_same_protobuf_modules(
    tmp_path: Path, repo_root: Path
) -> None:
    """`protoc --descriptor_set_out` fills in every json_name; the _pb2 modules must still be
    byte for byte those compiled from the sources (no stale files in `check`)."""
    from macp_codegen.compile import TOOLKIT_PROTO_ROOT

    proto = repo_root / "proto"
    names = sorted(p.relative_to(proto).as_posix() for p in proto.rglob("*.proto"))
    descriptor_file = tmp_path / "protoc.binpb"
    protoc = [sys.executable, "-m", "grpc_tools.protoc", f"-I{proto}", f"-I{TOOLKIT_PROTO_ROOT}"]
    protoc += [
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={descriptor_file}",
    ]
    subprocess.run([*protoc, *names], check=True, capture_output=True)
    json_names = [
        f.json_name
        for file in descriptor_pb2.FileDescriptorSet.FromString(descriptor_file.read_bytes()).file
        for m in file.message_type
        for f in m.field
    ]
    assert json_names and all(json_names), "protoc filled in json_name"
    result = run_cli(
        "check", "--no-diff", "--full", "--project-root", str(repo_root),
        "--descriptor-set", str(descriptor_file),
    )  # fmt: skip
    stale = [line.split()[-1] for line in result.out.splitlines() if line.startswith("  stale")]
    # Only the manifest (its inputs are another file) differs, no module.
    assert stale == ["generated/.macp-codegen-manifest.json"], result.out
