"""One breaking change, and the three ways `breaking` prints a list of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from .errors import SourceLocation

Category = Literal["wire", "sdk"]
FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class Finding:
    category: Category
    rule: str
    location: SourceLocation
    message: str

    def sort_key(self) -> tuple[bool, str, int, int, str, str]:
        where = self.location  # wire first: it breaks deployed peers, not just callers
        return (
            self.category != "wire",
            where.file,
            where.line,
            where.column,
            self.rule,
            self.message,
        )

    def as_dict(self) -> dict[str, object]:
        where = self.location
        return {
            "category": self.category,
            "rule": self.rule,
            "file": where.file,
            "line": where.line,
            "column": where.column,
            "message": self.message,
        }


def render(findings: list[Finding], against: str, fmt: str) -> str:
    if fmt == "json":
        data = {"against": against, "breaking": [f.as_dict() for f in findings]}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "github":
        # Workflow commands: each finding becomes an annotation on the pull request.
        return "".join(
            f"::error file={f.location.file},line={f.location.line},col={f.location.column},"
            f"title=breaking: {f.category}/{f.rule}::{f.message}\n"
            for f in findings
        )
    lines = [f"{f.location}: {f.category}/{f.rule}: {f.message}" for f in findings]
    count = len(findings)
    if count:
        lines.append(f"macp-codegen: {count} breaking change{'s' * (count != 1)} against {against}")
    else:
        lines.append(f"macp-codegen: no breaking changes against {against}")
    return "\n".join(lines) + "\n"
