"""`macp-codegen breaking --against <git ref | descriptor set>`: what a proto change breaks.

Compares the current protos with an earlier version on two levels: the wire (descriptors, see
`wire_rules`) and the generated SDK (frozen models, see `sdk_rules`). Every finding names a
file:line: the new declaration when it still exists, else the old one.
"""

from __future__ import annotations

from .baseline import current_version, earlier_version
from .findings import Finding
from .project import Project
from .sdk_rules import sdk_findings
from .wire_rules import wire_findings


def find_breaking(project: Project, against: str) -> list[Finding]:
    old = earlier_version(project.config, against)
    new = current_version(project)
    findings = wire_findings(old, new) + sdk_findings(old.model, new.model)
    return sorted(findings, key=Finding.sort_key)
