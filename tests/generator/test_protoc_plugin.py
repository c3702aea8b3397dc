"""`protoc-gen-macp-sdk`: `protoc --macp-sdk_out` and `buf generate` give the very files that
`macp-codegen generate` writes (scaffolds merged from `out=`), and bad input is a located error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from codegen_helpers import tree_fingerprint
from macp_codegen.compile import TOOLKIT_PROTO_ROOT

BIN = Path(sys.executable).parent
PLUGIN = BIN / "protoc-gen-macp-sdk"


def _protos(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))


def _expected(repo_root: Path) -> dict[str, str]:
    files = tree_fingerprint(repo_root / "generated")
    files.pop(".macp-codegen-manifest.json")  # the plugin leaves manifests to `generate`
    return files


def _protoc(proto: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{proto}", f"-I{TOOLKIT_PROTO_ROOT}",
         f"--plugin=protoc-gen-macp-sdk={PLUGIN}", f"--macp-sdk_out={out}",
         *(f"--macp-sdk_opt={o}" for o in options), *_protos(proto)],
        capture_output=True, text=True, cwd=proto.parent, timeout=300,
    )  # fmt: skip


def test_protoc_plugin_writes_what_generate_writes(tmp_path: Path, repo_root: Path) -> None:
    out = tmp_path / "out"
    run = _protoc(repo_root / "proto", out, f"out={repo_root / 'generated'}")
    assert run.returncode == 0, run.stderr
    assert tree_fingerprint(out) == _expected(repo_root)


def test_buf_generate_writes_what_generate_writes(tmp_path: Path, repo_root: Path) -> None:
    shutil.copytree(repo_root / "proto", tmp_path / "proto")
    shutil.copytree(TOOLKIT_PROTO_ROOT, tmp_path / "toolkit")
    (tmp_path / "buf.yaml").write_text(
        "version: v2\nmodules:\n  - path: proto\n  - path: toolkit\n"
    )
    (tmp_path / "buf.gen.yaml").write_text(
        "version: v2\nplugins:\n"
        f"  - local: {PLUGIN}\n    out: out\n    strategy: all\n"
        f"    opt:\n      - out={repo_root / 'generated'}\n      - proto_root=proto\n"
    )
    run = subprocess.run(
        [str(BIN / "buf"), "generate"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert tree_fingerprint(tmp_path / "out") == _expected(repo_root)


def test_bad_input_through_the_plugin_is_a_located_error(tmp_path: Path, repo_root: Path) -> None:
    proto = tmp_path / "proto"
    shutil.copytree(repo_root / "proto", proto)
    decision = proto / "macp/modes/decision/v1/decision.proto"
    text = decision.read_text().replace(
        "// One participant's vote", "message TallyPayload {\n  string self = 1;\n}\n\n// One"
    )
    decision.write_text(text)
    run = _protoc(proto, tmp_path / "out")
    assert run.returncode != 0
    line = text[: text.index("string self")].count("\n") + 1
    assert f"macp/modes/decision/v1/decision.proto:{line}:" in run.stderr, run.stderr
    assert "a name the generated code relies on" in run.stderr
    assert not any((tmp_path / "out").iterdir())


def test_an_unknown_plugin_option_is_reported(tmp_path: Path, repo_root: Path) -> None:
    run = _protoc(repo_root / "proto", tmp_path / "out", "colour=blue")
    assert run.returncode != 0 and "unknown plugin option 'colour=blue'" in run.stderr


def test_the_plugin_makes_a_mode_package_of_its_own(tmp_path: Path) -> None:
    from codegen_helpers import run_cli

    proto = tmp_path / "proto"
    (proto / "acme/auction/v1").mkdir(parents=True)
    (proto / "acme/auction/v1/auction.proto").write_text(
        'syntax = "proto3";\n\npackage acme.auction.v1;\n\n'
        "message BidPayload {\n  string bid_id = 1;\n  int64 amount = 2;\n}\n"
    )
    generated = tmp_path / "generated"
    result = run_cli(
        "generate", "--project-root", str(tmp_path), "--sdk-package", "acme_modes",
        "--output", str(generated),
    )  # fmt: skip
    assert result.status == 0, result.err
    run = _protoc(proto, tmp_path / "out", "sdk_package=acme_modes", f"out={generated}")
    assert run.returncode == 0, run.stderr
    expected = tree_fingerprint(generated)
    expected.pop(".macp-codegen-manifest.json")
    assert tree_fingerprint(tmp_path / "out") == expected
    assert "acme_modes/_registry.py" in expected and "pyproject.toml" in expected
    assert not any(path.startswith(("macp/", "macp_sdk/")) for path in expected)
