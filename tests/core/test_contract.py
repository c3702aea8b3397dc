"""The core keeps its contract with the generator (`macp_core.contract`)."""

from __future__ import annotations

import importlib
import inspect

import pytest
from macp_core import contract
from macp_core.base_session import AsyncBaseSession, BaseSession


@pytest.mark.parametrize("module", sorted(contract.PUBLIC_MODULES))
def test_every_listed_name_is_defined_by_its_source_module(module: str) -> None:
    spec = contract.PUBLIC_MODULES[module]
    source = importlib.import_module(spec.source)
    missing = [name for name in spec.names if not hasattr(source, name)]
    assert not missing, f"{spec.source} lacks {missing}"
    assert len(set(spec.names)) == len(spec.names), f"{module} lists a name twice"


def test_the_sdk_modules_re_export_the_same_objects() -> None:
    for module, spec in contract.PUBLIC_MODULES.items():
        source = importlib.import_module(spec.source)
        shim = importlib.import_module(f"macp_sdk.{module}")
        for name in spec.names:
            assert getattr(shim, name) is getattr(source, name), f"macp_sdk.{module}.{name}"


@pytest.mark.parametrize("session_class", [BaseSession, AsyncBaseSession])
def test_session_members_cover_every_public_member_of_the_base_sessions(
    session_class: type,
) -> None:
    public = {name for name, _ in inspect.getmembers(session_class) if not name.startswith("_")}
    source = inspect.getsource(session_class) + inspect.getsource(inspect.getmro(session_class)[1])
    assigned = {
        word.split("=")[0].strip().removeprefix("self.")
        for word in source.split("\n")
        if word.strip().startswith("self.") and "=" in word and "==" not in word
    }
    public |= {name for name in assigned if name.isidentifier() and not name.startswith("_")}
    assert public <= contract.SESSION_MEMBERS, sorted(public - contract.SESSION_MEMBERS)


def _public_members(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}


def test_participant_members_cover_both_participants() -> None:
    """A generated `on_<message>` must not shadow them: the generator reads this list."""
    from macp_core.agent import AsyncParticipant, Participant

    for cls in (Participant, AsyncParticipant):
        assert _public_members(cls) <= contract.PARTICIPANT_MEMBERS, sorted(
            _public_members(cls) - contract.PARTICIPANT_MEMBERS
        )


def test_participant_actions_members_cover_both_actions_classes() -> None:
    from macp_core.agent import AsyncParticipantActions, ParticipantActions

    for cls in (ParticipantActions, AsyncParticipantActions):
        assert _public_members(cls) <= contract.PARTICIPANT_ACTIONS_MEMBERS, sorted(
            _public_members(cls) - contract.PARTICIPANT_ACTIONS_MEMBERS
        )
