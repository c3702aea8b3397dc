"""Names of the generated policy API (`macp_sdk.policy`).

Derived: a section's class is `<Section>Rules`, prefixed with the mode when two modes declare
the section differently; an enum's constant is `<CLASS>_<FIELD>_VALUES`. Where
macp-sdk-python 0.22.0 published other names, those are kept so code written against it runs
unchanged; a new schema only ever gets derived names.
"""

from __future__ import annotations

from typing import Final

from .naming import pascal_case, snake_case

# (mode short name, section) -> 0.22.0's class name.
_CLASS_NAMES_0_22: Final = {
    ("quorum", "threshold"): "QuorumThreshold",
    ("task", "assignment"): "TaskAssignmentRules",
    ("task", "completion"): "TaskCompletionRules",
}
# Derived constant -> 0.22.0's name.
_ENUM_NAMES_0_22: Final = {
    "COMMITMENT_AUTHORITY_VALUES": "COMMITMENT_AUTHORITIES",
    "ABSTENTION_INTERPRETATION_VALUES": "ABSTENTION_INTERPRETATIONS",
    "PROPOSAL_ACCEPTANCE_CRITERION_VALUES": "PROPOSAL_ACCEPTANCE_CRITERIA",
    "OBJECTION_HANDLING_CRITICAL_OBJECTION_ACTION_VALUES": "CRITICAL_OBJECTION_ACTIONS",
}


# Parameters every builder has besides its sections.
BUILDER_PARAMETERS: Final = frozenset(
    {"policy_id", "description", "schema_version", "extensions", "annotations"}
)


def rules_class(section: str, owner: str | None, modes: list[str]) -> str:
    """`owner` is set when the section has several shapes across modes (then prefixed)."""
    if len(modes) == 1 and (modes[0], section) in _CLASS_NAMES_0_22:
        return _CLASS_NAMES_0_22[(modes[0], section)]
    prefix = pascal_case(owner) if owner else ""
    return f"{prefix}{pascal_case(section)}Rules"


def enum_constant(class_name: str, attribute: str) -> str:
    stem = snake_case(class_name.removesuffix("Rules")).upper()
    derived = f"{stem}_{attribute.upper()}_VALUES"
    return _ENUM_NAMES_0_22.get(derived, derived)


def builder_function(short_name: str) -> str:
    return f"build_{short_name}_policy"
