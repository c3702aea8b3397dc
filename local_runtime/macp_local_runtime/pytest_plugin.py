"""A pytest fixture serving a fresh LocalRuntime for each test.

Enable it with `pytest_plugins = ["macp_sdk.local_runtime.pytest_plugin"]` in a conftest.py,
then take `macp_runtime` as a test argument and connect to `macp_runtime.target`. pytest is
imported only here, so the runtime itself never needs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import LocalRuntime


@pytest.fixture
def macp_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as runtime:
        yield runtime
