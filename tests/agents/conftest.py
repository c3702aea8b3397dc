"""Agents on the embedded runtime: one runtime per module, one client per agent name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from macp_sdk import AuthConfig, MacpClient
from macp_sdk.envelope import new_session_id
from macp_sdk.local_runtime import LocalRuntime


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as rt:
        yield rt


@pytest.fixture
def session_id() -> str:
    return new_session_id()


@pytest.fixture
def clients(runtime: LocalRuntime) -> Iterator[dict[str, MacpClient]]:
    """One client per agent name (created on first use), closed after the test."""
    made: dict[str, MacpClient] = {}

    class Clients(dict[str, MacpClient]):
        def __missing__(self, name: str) -> MacpClient:
            client = MacpClient(
                target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent(name)
            )
            made[name] = client
            self[name] = client
            return client

    yield Clients()
    for client in made.values():
        client.close()
