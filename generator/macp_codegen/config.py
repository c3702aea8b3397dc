"""Settings: `[tool.macp-codegen]` in pyproject.toml, overridable from the command line.

A wrong setting is reported at its line: tomllib keeps no positions, so `_locate` finds the
key's line in the table's text (the table header's line when the key cannot be found).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import ConfigError, SourceLocation

_KNOWN_KEYS = {
    "proto_root",
    "templates",
    "output",
    "include",
    "descriptor_set",
    "bindings",
    "sdk_package",
}


@dataclass(frozen=True)
class Config:
    project_root: Path
    proto_root: Path
    output: Path
    # User template folder overlaid on the built-in templates (same relative names win).
    templates: Path | None = None
    # Extra include paths searched for imports (never generated themselves).
    include: tuple[Path, ...] = ()
    # Alternative inputs: a serialized FileDescriptorSet, or an installed bindings package.
    descriptor_set: Path | None = None
    bindings: str | None = None
    # The package generated into; another name than macp_sdk makes a mode package of its own
    # (importing the installed macp_sdk core and plugging into its registry).
    sdk_package: str | None = None

    def with_overrides(self, **changes: object) -> Config:
        present = {key: value for key, value in changes.items() if value is not None}
        return replace(self, **present)  # type: ignore[arg-type]


def load_config(project_root: Path) -> Config:
    """Reads pyproject.toml in `project_root`; missing keys fall back to the conventional layout."""
    pyproject = project_root / "pyproject.toml"
    table: dict[str, object] = {}
    text = ""
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                SourceLocation(str(pyproject), getattr(exc, "lineno", 0), getattr(exc, "colno", 0)),
                f"pyproject.toml is not valid TOML: {exc}",
                "fix the TOML syntax",
            ) from exc
        tool = data.get("tool", {})
        table = tool.get("macp-codegen", {}) if isinstance(tool, dict) else {}
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            _locate(pyproject, text, unknown[0]),
            f"unknown key(s) in [tool.macp-codegen]: {', '.join(unknown)}",
            f"known keys are {', '.join(sorted(_KNOWN_KEYS))}",
        )

    def path_of(key: str, default: str | None) -> Path | None:
        value = table.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(
                _locate(pyproject, text, key),
                f"[tool.macp-codegen] {key} must be a string path, not {_toml_type(value)}",
                f'write it as {key} = "some/folder"',
            )
        return (project_root / value).resolve()

    include_raw = table.get("include", [])
    if not isinstance(include_raw, list) or not all(isinstance(p, str) for p in include_raw):
        raise ConfigError(
            _locate(pyproject, text, "include"),
            "[tool.macp-codegen] include must be a list of paths",
            'write it as include = ["some/folder"]',
        )
    bindings = table.get("bindings")
    if bindings is not None and not (isinstance(bindings, str) and bindings.isidentifier()):
        raise ConfigError(
            _locate(pyproject, text, "bindings"),
            "[tool.macp-codegen] bindings must be a package name, "
            f"not {_toml_type(bindings) if not isinstance(bindings, str) else repr(bindings)}",
            'write the name of an installed package, e.g. bindings = "macp"',
        )
    sdk_package = table.get("sdk_package")
    if sdk_package is not None:
        check_sdk_package(sdk_package, _locate(pyproject, text, "sdk_package"))
    return Config(
        project_root=project_root.resolve(),
        proto_root=path_of("proto_root", "proto") or project_root / "proto",
        output=path_of("output", "generated") or project_root / "generated",
        templates=path_of("templates", None),
        include=tuple((project_root / p).resolve() for p in include_raw),
        descriptor_set=path_of("descriptor_set", None),
        bindings=bindings if isinstance(bindings, str) else None,
        sdk_package=sdk_package if isinstance(sdk_package, str) else None,
    )


_TABLE = re.compile(r"^\s*\[\s*tool\s*\.\s*(\"macp-codegen\"|macp-codegen)\s*\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")


def _locate(pyproject: Path, text: str, key: str) -> SourceLocation:
    """The line and column of `key` in [tool.macp-codegen] (its header's line as a fallback)."""
    key_line = re.compile(rf"^(\s*)(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
    inside, header = False, 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _TABLE.match(line):
            inside, header = True, number
            continue
        if inside and _HEADER.match(line):
            inside = False
        match = key_line.match(line) if inside else None
        if match:
            return SourceLocation(str(pyproject), number, len(match.group(1)) + 1)
    return SourceLocation(str(pyproject), header)


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", list: "an array"}
    return names.get(type(value), "a table" if isinstance(value, dict) else type(value).__name__)


def check_sdk_package(name: object, where: SourceLocation) -> None:
    if not (isinstance(name, str) and name.isidentifier() and name.islower()):
        raise ConfigError(
            where,
            f"sdk_package must be a lower-case Python package name, not {name!r}",
            'write e.g. sdk_package = "acme_modes"',
        )
