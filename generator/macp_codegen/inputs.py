"""The inputs digest: one hash of everything that shapes the generated output.

Kept apart from ``project`` (which pulls in protoc, Jinja2 and the model) so that a no-op
``macp-codegen check`` can answer from the digest and the manifest without importing them.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from macp_core._dist import installed_version

from . import __version__
from .config import Config
from .tree import files_under

TOOLKIT_DIR = Path(__file__).resolve().parent  # generator source, templates, shipped protos
PINNED_TOOLS = ("protobuf", "grpcio-tools", "mypy-protobuf", "jinja2", "libcst", "ruff")


def contract_path() -> Path:
    """The core contract's source file, found without importing it."""
    spec = importlib.util.find_spec("macp_core.contract")
    if spec is None or spec.origin is None:
        raise RuntimeError("macp_core.contract is not installed")
    return Path(spec.origin).resolve()


def inputs_digest(config: Config) -> str:
    """Hash of everything that shapes the output: the protos (and include paths), the
    toolkit's own source and templates, the core contract, user templates, the
    configuration and the pinned tools' versions."""
    h = hashlib.sha256()
    roots = {"proto": config.proto_root, "toolkit": TOOLKIT_DIR, "contract": contract_path()}
    roots.update({f"include {_label(config, p)}": p for p in config.include})
    if config.templates is not None:
        roots["templates"] = config.templates
    if config.descriptor_set is not None:
        roots["descriptor set"] = config.descriptor_set
    if config.bindings is not None:
        roots.update(_bindings_roots(config.bindings))
    for label, root in roots.items():
        h.update(f"{label}\0".encode())
        for path in _digest_files(root):
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    # Where the inputs come from and where the output goes, machine-independently.
    for key in ("descriptor_set", "bindings", "output", "sdk_package"):
        value = getattr(config, key)
        shown = _label(config, value) if isinstance(value, Path) else str(value)
        h.update(f"{key}={shown}\0".encode())
    h.update(__version__.encode())
    for tool in PINNED_TOOLS:
        h.update(f"{tool}={_version_of(tool)}".encode())
    return h.hexdigest()


def _label(config: Config, path: Path) -> str:
    try:
        return path.relative_to(config.project_root).as_posix()
    except ValueError:
        return path.as_posix()


def _bindings_roots(package: str) -> dict[str, Path]:
    """The folders of an installed bindings package, found without importing it."""
    spec = importlib.util.find_spec(package.split(".", 1)[0])
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return {f"bindings {i}": Path(location) for i, location in enumerate(sorted(locations))}


def _digest_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    # Ordered as Paths are (part by part), so the digest does not depend on the listing order.
    found = sorted(
        parts
        for parts in files_under(str(root), skip_hidden=True)
        if not parts[-1].endswith(".pyc")
    )
    return [root.joinpath(*parts) for parts in found]


def _version_of(distribution: str) -> str:
    return installed_version(distribution) or "absent"
