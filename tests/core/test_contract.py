"""The core keeps its contract with the generator (`macp_core.contract`)."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import re
from pathlib import Path

import pytest
from macp.v1 import core_pb2
from macp_core import contract
from macp_core.async_client_base import AsyncMacpClientBase
from macp_core.base_session import AsyncBaseSession, BaseSession
from macp_core.client_base import MacpClientBase


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


@pytest.mark.parametrize("module", sorted(contract.GENERATED_MODULES))
def test_generated_modules_re_export_the_listed_core_names(module: str) -> None:
    spec = contract.GENERATED_MODULES[module]
    source = importlib.import_module(spec.source)
    generated = importlib.import_module(f"macp_sdk.{module}")
    for name in spec.names + spec.shared:
        assert getattr(generated, name) is getattr(source, name), f"macp_sdk.{module}.{name}"
        assert name in generated.__all__


def _instance_members(base: type) -> set[str]:
    """Public attributes a client base sets in __init__ (a channel opens nothing until used)."""

    async def build_async() -> set[str]:
        client = AsyncMacpClientBase(target="127.0.0.1:9", secure=False)
        names = set(vars(client))
        await client.close()
        return names

    if base is AsyncMacpClientBase:
        names = asyncio.run(build_async())
    else:
        client = MacpClientBase(target="127.0.0.1:9", secure=False)
        names = set(vars(client))
        client.close()
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("base", [MacpClientBase, AsyncMacpClientBase])
def test_client_members_cover_every_public_member_of_the_client_bases(base: type) -> None:
    public = {name for name, _ in inspect.getmembers(base) if not name.startswith("_")}
    public |= _instance_members(base)
    assert public <= contract.CLIENT_MEMBERS, sorted(public - contract.CLIENT_MEMBERS)


def test_hand_written_rpcs_are_methods_of_both_client_bases() -> None:
    for rpc in contract.HAND_WRITTEN_RPCS:
        method = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", rpc).lower()
        assert callable(getattr(MacpClientBase, method, None)), rpc
        assert callable(getattr(AsyncMacpClientBase, method, None)), rpc


def _member_set_classes() -> dict[str, tuple[type, ...]]:
    """The contract's member sets and the hand-written classes whose members they list."""
    from macp_core.agent import (
        AsyncParticipant,
        AsyncParticipantActions,
        Participant,
        ParticipantActions,
    )

    return {
        "CLIENT_MEMBERS": (MacpClientBase, AsyncMacpClientBase),
        "SESSION_MEMBERS": (BaseSession, AsyncBaseSession),
        "PARTICIPANT_MEMBERS": (Participant, AsyncParticipant),
        "PARTICIPANT_ACTIONS_MEMBERS": (ParticipantActions, AsyncParticipantActions),
    }


def _member_entries(tree: ast.Module) -> dict[int, str]:
    """id(literal) -> the member set it is an entry of, for the contract's `*_MEMBERS`."""
    entries: dict[int, str] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id.endswith("_MEMBERS") and node.value is not None:
                for inner in ast.walk(node.value):
                    entries[id(inner)] = node.target.id
    return entries


def test_the_core_holds_no_per_rpc_literal() -> None:
    """RPC names and their client method names are facts of core.proto and its options; the
    core may only name the RPCs it implements by hand (and its contract lists them).

    One use is not an RPC name: an entry of a contract member set names a member of a
    hand-written class (`ParticipantActions.get_session`), and is allowed only when every
    class that set describes really has that member."""
    service = core_pb2.DESCRIPTOR.services_by_name["MACPRuntimeService"]
    generated = {m.name for m in service.methods} - contract.HAND_WRITTEN_RPCS
    facts = generated | {re.sub(r"(?<=[a-z])(?=[A-Z])", "_", n).lower() for n in generated}
    classes = _member_set_classes()
    core = Path(contract.__file__).parent
    found = []
    for path in sorted(core.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        members = _member_entries(tree) if path.name == "contract.py" else {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value not in facts:
                    continue
                owners = classes.get(members.get(id(node), ""), ())
                if owners and all(hasattr(cls, node.value) for cls in owners):
                    continue
                found.append(f"{path.relative_to(core)}:{node.lineno}: {node.value!r}")
    assert not found, found


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

    known = contract.PARTICIPANT_ACTIONS_MEMBERS | contract.PARTICIPANT_GENERIC_ACTIONS
    assert not contract.PARTICIPANT_ACTIONS_MEMBERS & contract.PARTICIPANT_GENERIC_ACTIONS
    for cls in (ParticipantActions, AsyncParticipantActions):
        assert _public_members(cls) <= known, sorted(_public_members(cls) - known)
        for name in contract.PARTICIPANT_GENERIC_ACTIONS:
            assert callable(getattr(cls, name)), name


def test_shared_names_are_the_objects_their_defining_module_exports() -> None:
    """A `shared` name is offered at a second path, never a second object or top-level name."""
    top_level = {name for spec in contract.PUBLIC_MODULES.values() for name in spec.names}
    for module, spec in contract.PUBLIC_MODULES.items():
        shim = importlib.import_module(f"macp_sdk.{module}")
        for name in spec.shared:
            assert name in top_level, f"{module}.{name} is defined by no public module"
            assert name in shim.__all__
            assert getattr(shim, name) is getattr(importlib.import_module("macp_sdk"), name)
