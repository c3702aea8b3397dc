"""What `from macp_sdk import MacpClient, DecisionSession` loads (issue #11, import cost).

Each probe runs in a fresh interpreter and reads ``sys.modules``: the client and a session
class must not drag in the registry, projections, other modes, the receipt machinery, streams,
retry or the heavy stdlib modules nothing on that path needs. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from macp_core._lazy import lazy_class
from macp_core.base_projection import BaseProjection
from macp_core.base_session import BaseSession

# Modules that importing the client and one session class must leave unloaded. A prefix
# ending in "." stands for the package and everything under it.
NOT_ON_THE_IMPORT_PATH = (
    # stdlib modules nothing on the path needs (importlib.metadata pulls email, zipfile, csv)
    "importlib.metadata",
    "email.",
    "zipfile",
    "csv",
    "tempfile",
    "json",
    "hashlib",
    "random",
    "queue",
    # the SDK's own cold parts
    "macp_sdk._registry",
    "macp_sdk.projections",
    "macp_sdk.facts",
    "macp_sdk.participants",
    "macp_sdk.agent",
    "macp_sdk.policy",
    "macp_sdk.watchers",
    "macp_sdk.async_client",
    "macp_sdk.local_runtime",
    "macp_local_runtime",
    "macp_core._mode_registry",
    "macp_core.base_projection",
    "macp_core._undo",
    "macp_core.receipt",
    "macp_core.commitment_hash",
    "macp_core.response_adapters",
    "macp_core.streams",
    "macp_core.retry",
    "macp_core.session_client",
    "macp_core.governance",
    "macp_core.agent",
    # optional extras
    "opentelemetry",
    "cryptography",
    "rfc8785",
)


def loaded_after(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after ``statement`` (read before json loads)."""
    probe = f"{statement}\nimport sys\nloaded = sorted(sys.modules)\nimport json\n"
    probe += "print(json.dumps(loaded))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded: list[str] = json.loads(out.stdout.splitlines()[-1])
    return loaded


def unwanted(loaded: list[str]) -> list[str]:
    def hit(module: str, banned: str) -> bool:
        if banned.endswith("."):
            return module == banned[:-1] or module.startswith(banned)
        return module == banned or module.startswith(banned + ".")

    return [m for m in loaded if any(hit(m, banned) for banned in NOT_ON_THE_IMPORT_PATH)]


# Loaded by the first client, session or credential, not by importing their classes.
FIRST_USE = ("dataclasses", "macp_core.auth", "macp_core._channel", "macp_core._error_details")


def test_client_and_session_names_load_only_what_they_need() -> None:
    loaded = loaded_after("from macp_sdk import MacpClient, DecisionSession")
    assert unwanted(loaded) == []
    assert sorted(set(FIRST_USE) & set(loaded)) == []
    assert {"macp_sdk.client", "macp_sdk.modes.decision"} <= set(loaded)
    # Only the decision mode's bindings: no other mode's protobuf module.
    bindings = {m for m in loaded if m.startswith("macp.modes.") and m.endswith("_pb2")}
    assert bindings == {"macp.modes.decision.v1.decision_pb2"}


@pytest.mark.parametrize(
    "statement",
    [
        "import macp_sdk",
        "import macp_sdk.client",
        "from macp_sdk.modes.decision import DecisionSession",
        "from macp_sdk import AsyncDecisionSession, AuthConfig, MacpClient",
    ],
)
def test_other_entry_points_stay_lean(statement: str) -> None:
    assert unwanted(loaded_after(statement)) == []


def test_the_probe_sees_what_a_cold_path_loads() -> None:
    # The check can fail: a name whose module is on the list is reported.
    loaded = loaded_after("from macp_sdk import DecisionProjection, MODE_REGISTRY")
    assert {"macp_sdk._registry", "macp_sdk.projections.decision"} <= set(unwanted(loaded))


def test_the_names_work_once_used() -> None:
    probe = (
        "from macp_sdk import AsyncDecisionSession, AuthConfig, DecisionSession, MacpClient\n"
        "from macp_sdk.projections import DecisionProjection\n"
        "auth = AuthConfig.for_dev_agent('a')\n"
        "client = MacpClient(target='127.0.0.1:1', secure=False, auth=auth)  # no I/O yet\n"
        "session = DecisionSession(client)\n"
        "assert type(session.projection) is DecisionProjection\n"
        "assert session.decision_projection is session.projection\n"
        "assert DecisionSession.PROJECTION_CLASS is DecisionProjection\n"
        "assert AsyncDecisionSession.PROJECTION_CLASS is DecisionProjection\n"
        "assert DecisionSession.mode_descriptor().mode == 'macp.mode.decision.v1'\n"
        "client.close()\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_star_import_still_binds_every_public_name() -> None:
    probe = (
        "import macp_sdk\n"
        "ns = {}\n"
        "exec('from macp_sdk import *', ns)\n"
        "missing = sorted(set(macp_sdk.__all__) - set(ns))\n"
        "print(missing)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


class _Other(BaseProjection):
    pass


class _Session(BaseSession):
    MODE = "ext.lazy.v1"
    PROJECTION_CLASS = lazy_class(__name__, "_Other")


class _Child(_Session):
    pass


def test_lazy_class_resolves_once_on_the_defining_class() -> None:
    assert type(_Session.__dict__["PROJECTION_CLASS"]).__name__ == "_LazyClass"
    # Read through a subclass first: the defining class gets the real class.
    assert _Child.PROJECTION_CLASS is _Other
    assert _Session.__dict__["PROJECTION_CLASS"] is _Other
    assert "PROJECTION_CLASS" not in _Child.__dict__
    assert _Session.PROJECTION_CLASS is _Other


def test_lazy_class_of_a_missing_name_raises_on_read() -> None:
    class Broken:
        THING = lazy_class(__name__, "NoSuchName")

    with pytest.raises(AttributeError):
        _ = Broken.THING
    # Nothing was replaced: the next read fails the same way instead of returning junk.
    with pytest.raises(AttributeError):
        _ = Broken().THING
