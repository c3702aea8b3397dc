"""0.22.0's remaining agent options: the transports' ``timeout=``, the cancel-callback
server's ``address``, the mode ids in ``macp_sdk.agent.participant`` and the deprecated
``VoteDecision`` / ``CommitmentDecision`` aliases."""

from __future__ import annotations

import asyncio
import importlib
import threading
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer

import macp_sdk
import pytest
from macp_sdk import (
    MODE_DECISION,
    UNBOUNDED,
    AsyncMacpClient,
    AuthConfig,
    MacpClient,
    MacpTimeoutError,
    MacpValidationError,
)
from macp_sdk.agent import (
    AsyncGrpcTransportAdapter,
    CancelCallbackServer,
    CommitmentResult,
    GrpcTransportAdapter,
    ParticipantActions,
    VoteResult,
    start_cancel_callback_server,
)
from macp_sdk.envelope import new_session_id
from macp_sdk.local_runtime import LocalRuntime

from .helpers import no_threads_left_behind


def _start(client: MacpClient, session_id: str) -> None:
    actions = ParticipantActions(client, session_id, mode=MODE_DECISION, participant_id="lead")
    actions.start_session("stays quiet", ["lead"], 60_000)


def test_the_transport_timeout_ends_a_quiet_subscription_with_deadline_exceeded(
    session_id: str, clients: dict[str, MacpClient]
) -> None:
    _start(clients["lead"], session_id)
    transport = GrpcTransportAdapter(
        clients["lead"], session_id, timeout=0.5, session_check_interval=None
    )
    messages = transport.start()
    assert next(messages).sender == "lead"  # the replayed SessionStart
    with pytest.raises(MacpTimeoutError) as raised:
        next(messages)  # without the timeout this read would wait forever
    assert raised.value.code == "DEADLINE_EXCEEDED"


def test_the_transport_timeout_also_bounds_the_wait_for_a_session_that_never_starts(
    clients: dict[str, MacpClient],
) -> None:
    transport = GrpcTransportAdapter(clients["lead"], new_session_id(), timeout=0.3)
    with pytest.raises(MacpTimeoutError):
        next(transport.start())
    assert transport.subscribe_attempts >= 1


def test_the_asyncio_transport_takes_the_same_timeout(
    runtime: LocalRuntime, session_id: str, clients: dict[str, MacpClient]
) -> None:
    _start(clients["lead"], session_id)

    async def scenario() -> list[str]:
        client = AsyncMacpClient(
            target=runtime.target, secure=False, auth=AuthConfig.for_dev_agent("lead")
        )
        seen: list[str] = []
        try:
            transport = AsyncGrpcTransportAdapter(
                client, session_id, timeout=0.5, session_check_interval=None
            )
            with pytest.raises(MacpTimeoutError):
                async for message in transport.start():
                    seen.append(message.sender)
        finally:
            await client.close()
        return seen

    assert asyncio.run(scenario()) == ["lead"]


def test_the_transport_timeout_is_checked_and_unbounded_means_none(
    clients: dict[str, MacpClient],
) -> None:
    GrpcTransportAdapter(clients["lead"], new_session_id(), timeout=UNBOUNDED)
    with pytest.raises(MacpValidationError, match="timeout"):
        GrpcTransportAdapter(clients["lead"], new_session_id(), timeout=-1.0)


def test_the_cancel_callback_server_exposes_its_bound_address() -> None:
    with no_threads_left_behind():
        server = start_cancel_callback_server(
            host="127.0.0.1", port=0, path="stop", on_cancel=lambda run, reason: None
        )
        try:
            host, port = server.address
            assert host == "127.0.0.1" and port == server.port > 0
            assert server.url == f"http://127.0.0.1:{port}/stop"
        finally:
            server.close()


def test_the_cancel_callback_server_is_built_from_0_22s_fields() -> None:
    httpd = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, name="macp-cancel-callback-test")
    thread.start()
    address = ("127.0.0.1", int(httpd.server_address[1]))
    server = CancelCallbackServer(address=address, _httpd=httpd, _thread=thread)
    assert server.address == address and server.port == address[1]
    server.close()
    assert server.closed and not thread.is_alive()


def test_the_participant_module_re_exports_the_mode_ids() -> None:
    participant = importlib.import_module("macp_sdk.agent.participant")
    for name in ("MODE_DECISION", "MODE_HANDOFF", "MODE_PROPOSAL", "MODE_QUORUM", "MODE_TASK"):
        assert getattr(participant, name) == getattr(macp_sdk, name)
        assert name in participant.__all__


@pytest.mark.parametrize("module", ["macp_sdk.agent", "macp_sdk.agent.strategies"])
@pytest.mark.parametrize(
    ("alias", "target"), [("VoteDecision", VoteResult), ("CommitmentDecision", CommitmentResult)]
)
def test_the_deprecated_aliases_warn_and_are_the_renamed_classes(
    module: str, alias: str, target: type
) -> None:
    imported = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{alias} is deprecated; use {target.__name__}"):
        found = getattr(imported, alias)
    assert found is target
    assert alias not in imported.__all__
    with pytest.raises(AttributeError, match="no attribute 'NotAName'"):
        imported.NotAName  # noqa: B018


def test_importing_a_deprecated_alias_warns_at_the_import() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from macp_sdk.agent.strategies import VoteDecision
    assert VoteDecision is VoteResult
    assert [w.category for w in caught] == [DeprecationWarning]
    assert caught[0].filename == __file__  # pointed at the importing line, not the SDK
