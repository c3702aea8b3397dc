"""The two versions `breaking` compares: the current protos and an earlier ref or file.

Each version is descriptors plus the frozen model built from them, with every proto file shown
under a path a reader can open: `proto/...` for the current one, `<ref>:proto/...` (what
`git show` accepts) for a git ref, `<file.pb>:<name>` for a descriptor set.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from google.protobuf import descriptor_pb2

from .compile import CompiledProtos, compile_protos
from .config import Config
from .core_contract import reserved_session_names
from .errors import CodegenError, SourceLocation
from .model import SdkModel
from .modeling import build_model
from .project import Project
from .service_modeling import build_service
from .sources import from_descriptor_set_file


@dataclass(frozen=True)
class Version:
    descriptor_set: descriptor_pb2.FileDescriptorSet
    targets: tuple[str, ...]
    display: dict[str, str]  # proto file name -> path shown in locations
    model: SdkModel


def current_version(project: Project) -> Version:
    compiled = project.compile()
    root = project.config.project_root
    display = {name: _relative(path, root) for name, path in compiled.source_paths.items()}
    return _version(compiled, display)


def earlier_version(config: Config, against: str) -> Version:
    candidate = Path(against)
    if candidate.is_file():
        compiled = from_descriptor_set_file(candidate.resolve())
        return _version(compiled, {t: f"{against}:{t}" for t in compiled.targets})
    return _from_git(config, against)


def _from_git(config: Config, ref: str) -> Version:
    toplevel = Path(_git(config.project_root, ref, "rev-parse", "--show-toplevel").decode().strip())
    _git(config.project_root, ref, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    try:
        proto_dir = config.proto_root.resolve().relative_to(toplevel.resolve()).as_posix()
    except ValueError:
        raise CodegenError(
            SourceLocation(str(config.proto_root)),
            f"the proto root is outside the git repository at {toplevel}",
            "pass a descriptor set to --against instead of a git ref",
        ) from None
    archive = _git(toplevel, ref, "archive", "--format=tar", ref, "--", proto_dir)
    with tempfile.TemporaryDirectory(prefix="macp-codegen-against-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        try:
            compiled = compile_protos(Path(tmp) / proto_dir, config.include)
        except CodegenError as exc:
            raise _at_ref(exc, tmp, ref) from None
    return _version(compiled, {t: f"{ref}:{proto_dir}/{t}" for t in compiled.targets})


def _at_ref(error: CodegenError, tmp: str, ref: str) -> CodegenError:
    """The same error, located at `<ref>:<path>` instead of the deleted temporary copy."""
    where = error.location
    if not where.file.startswith(tmp):
        return error
    shown = f"{ref}:{Path(where.file).relative_to(tmp).as_posix()}"
    return type(error)(SourceLocation(shown, where.line, where.column), error.message, error.hint)


def _git(cwd: Path, ref: str, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise CodegenError(SourceLocation(ref), f"cannot run git: {exc}", "install git") from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise CodegenError(
            SourceLocation(ref),
            f"{ref!r} is neither a descriptor set file nor a git revision with the protos"
            + (f" (git: {detail[-1]})" if detail else ""),
            "pass a commit, branch or tag (fetch it first in a shallow clone) or a .pb file",
        )
    return done.stdout


def _version(compiled: CompiledProtos, display: dict[str, str]) -> Version:
    model = build_model(
        compiled.descriptor_set,
        compiled.targets,
        {name: Path(shown) for name, shown in display.items()},
        reserved_session_names(),
    )
    shown = {name: Path(path) for name, path in display.items()}
    service = build_service(compiled.descriptor_set, compiled.targets, shown)
    model = replace(model, service=service)
    return Version(compiled.descriptor_set, compiled.targets, display, model)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
