"""Typed errors. Every user-facing failure names where it happened and what to do."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class SourceLocation:
    """A 1-based position in a source file (proto or config)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class CodegenError(Exception):
    """Bad input: reported as one line, exit status 2, nothing written."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, location: SourceLocation, message: str, hint: str = "") -> None:
        self.location = location
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.location}: error: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ProtoSyntaxError(CodegenError):
    """protoc could not parse or link a .proto file."""


class UnresolvedImportError(CodegenError):
    """A .proto imports a file that is not under any include path."""


class OptionError(CodegenError):
    """A macp.sdk.v1 option has a value the generator cannot use."""


class NameCollisionError(CodegenError):
    """Two inputs would produce the same generated name."""


class ReservedNameError(CodegenError):
    """A name would be a Python keyword or shadow something it must not."""


class ConfigError(CodegenError):
    """The [tool.macp-codegen] table or a command-line flag is wrong."""
