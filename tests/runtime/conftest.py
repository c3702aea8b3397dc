from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from macp.v1 import core_pb2_grpc
from macp_sdk.local_runtime import LocalRuntime, ManualClock, RuntimeConfig


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def runtime(clock: ManualClock) -> Iterator[LocalRuntime]:
    with LocalRuntime(RuntimeConfig(clock=clock, sweep_interval_s=None)) as rt:
        yield rt


@pytest.fixture
def stub(runtime: LocalRuntime) -> Iterator[core_pb2_grpc.MACPRuntimeServiceStub]:
    with grpc.insecure_channel(runtime.target) as channel:
        yield core_pb2_grpc.MACPRuntimeServiceStub(channel)
