"""The registry and the facts modules are the one source of mode facts, and everything that
used to keep its own table now reads them."""

from __future__ import annotations

from macp_local_runtime.registry import builtin_modes
from macp_sdk import _registry
from macp_sdk.facts import decision


def test_runtime_descriptors_are_the_generated_ones() -> None:
    entries = builtin_modes()
    assert entries, "the runtime serves built-in modes"
    for entry in entries:
        assert entry.descriptor == _registry.mode_descriptor(entry.name)
        assert entry.standards_track == _registry.MODE_REGISTRY[entry.name].standard
    standard = [e.name for e in entries if e.standards_track]
    assert standard == list(_registry.STANDARD_MODES)


def test_descriptor_facts_come_from_the_proto_options() -> None:
    info = _registry.MODE_REGISTRY[decision.MODE]
    # runtime-behavior.md §6.1: title and schema URIs of the built-in descriptors.
    assert info.title == "Decision Mode"
    assert dict(info.schema_uris) == {"protobuf": "buf.build/multiagentcoordinationprotocol/macp"}
    assert info.message_types == ("SessionStart", *decision.MESSAGE_TYPES, "Commitment")


def test_former_import_paths_still_offer_the_generated_facts() -> None:
    from macp_sdk.base_projection import ANOMALY_DUPLICATE_VOTE
    from macp_sdk.constants import MODE_DECISION, STANDARD_MODES

    assert MODE_DECISION == decision.MODE and MODE_DECISION in STANDARD_MODES
    assert ANOMALY_DUPLICATE_VOTE == decision.ANOMALY_DUPLICATE_VOTE == "duplicate_vote"


def test_allowed_values_match_the_generated_literal_types() -> None:
    from typing import get_args

    from macp_sdk.modes import decision as decision_mode

    assert set(decision.VOTE_VALUES) <= set(get_args(decision_mode.VoteValue))
