"""Async twins of the main paths (AsyncMacpClient, AsyncMacpStream, AsyncBaseSession)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest
from macp.modes.decision.v1 import decision_pb2
from macp.v1 import envelope_pb2
from macp_sdk.async_client import AsyncMacpClient
from macp_sdk.auth import AuthConfig
from macp_sdk.base_projection import BaseProjection
from macp_sdk.base_session import AsyncBaseSession
from macp_sdk.client import UNBOUNDED
from macp_sdk.envelope import new_session_id
from macp_sdk.errors import (
    MacpIdentityMismatchError,
    MacpNotFoundError,
    MacpRetryError,
    MacpSessionNotFoundError,
    MacpTimeoutError,
)
from macp_sdk.retry import RetryPolicy

from .fake_runtime import RunningRuntime
from .test_client import MODE, start_envelope, vote_envelope
from .test_sessions import VoteProjection


class AsyncVoteSession(AsyncBaseSession):
    MODE: ClassVar[str] = MODE
    PROJECTION_CLASS: ClassVar[type[BaseProjection]] = VoteProjection

    async def vote(self, proposal_id: str, vote: str) -> envelope_pb2.Ack:
        payload = decision_pb2.VotePayload(proposal_id=proposal_id, vote=vote)
        return await self.send_payload("Vote", payload, sender=None, auth=None)


def make(runtime: RunningRuntime, **kw: object) -> AsyncMacpClient:
    return AsyncMacpClient(
        target=runtime.target,
        secure=False,
        auth=AuthConfig.for_dev_agent("coordinator"),
        default_timeout=5.0,
        **kw,  # type: ignore[arg-type]
    )


def test_async_send_nack_duplicate_and_metadata(runtime: RunningRuntime) -> None:
    async def main() -> None:
        async with make(runtime) as client:
            assert (await client.initialize()).selected_protocol_version == "1.0"
            env = start_envelope(new_session_id())
            assert (await client.send(env)).ok
            assert (await client.send(env)).duplicate
            with pytest.raises(MacpSessionNotFoundError):
                await client.send(vote_envelope(new_session_id()))
            with pytest.raises(MacpIdentityMismatchError):
                await client.send(vote_envelope(new_session_id(), sender="alice"))
            with pytest.raises(MacpNotFoundError):
                await client.get_session(new_session_id(), timeout=UNBOUNDED)
            assert len(await client.list_sessions(page_size=1)) == 1

    asyncio.run(main())
    assert runtime.runtime.metadata_seen[1][1]["authorization"] == "Bearer coordinator"


def test_async_retry_same_message_id(runtime: RunningRuntime) -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    async def main() -> None:
        policy = RetryPolicy(max_retries=2, jitter=False, async_sleep=record)
        async with make(runtime, retry=policy) as client:
            runtime.runtime.send_script = ["UNAVAILABLE", "RATE_LIMITED"]
            env = start_envelope(new_session_id())
            assert (await client.send(env)).ok
            assert runtime.runtime.send_attempts == [env.message_id] * 3
            runtime.runtime.send_script = ["UNAVAILABLE"] * 3
            with pytest.raises(MacpRetryError):
                await client.send(start_envelope(new_session_id()))

    asyncio.run(main())
    assert delays[:2] == [0.1, 0.2]


def test_async_stream_send_read_subscribe_close(runtime: RunningRuntime) -> None:
    async def main() -> None:
        async with make(runtime) as client:
            sid = new_session_id()
            stream = client.open_stream()
            await stream.send(start_envelope(sid))
            first = await stream.read(timeout=5.0)
            assert first is not None and first.message_type == "SessionStart"
            with pytest.raises(MacpTimeoutError):
                await stream.read(timeout=0.05)
            await stream.send(vote_envelope(sid))
            assert [e.message_type async for e in stream.responses(timeout=0.5)] == ["Vote"]
            await stream.close()
            assert stream.ended and await stream.read(timeout=0.1) is None

            errors: list[str] = []
            late = client.open_stream(
                auth=AuthConfig.for_dev_agent("alice"), on_error=lambda e: errors.append(e.code)
            )
            await late.subscribe(sid)
            got = [e.message_type async for e in late.responses(timeout=0.5)]
            assert got == ["SessionStart", "Vote"]
            await late.send(vote_envelope(new_session_id(), sender="alice"))
            await asyncio.sleep(0.2)
            assert errors == ["SESSION_NOT_FOUND"]
            # left open on purpose: client close must close it

    asyncio.run(main())


def test_async_watch_ends_at_timeout(runtime: RunningRuntime) -> None:
    async def main() -> None:
        async with make(runtime) as client:
            events = [e async for e in client.watch_mode_registry(timeout=0.3)]
            assert len(events) == 1
            runtime.runtime.roots_script = ["UNAVAILABLE"]
            roots = [e async for e in client.watch_roots(timeout=0.8, reconnect=True)]
            assert len(roots) == 2

    asyncio.run(main())


def test_async_session(runtime: RunningRuntime) -> None:
    async def main() -> None:
        async with make(runtime) as client:
            session = AsyncVoteSession(client)
            await session.start(intent="x", participants=["coordinator", "alice"], ttl_ms=10_000)
            stream = await session.open_stream()
            await session.vote("p1", "APPROVE")
            got = await stream.read(timeout=5.0)
            assert got is not None and got.message_type == "Vote"
            await session.commit(action="decision.approved", authority_scope="s", reason="r")
            proj = session.projection
            assert proj.is_committed and proj.is_positive_outcome
            assert (await session.metadata()).metadata.state == envelope_pb2.SESSION_STATE_RESOLVED
            await stream.close()

    asyncio.run(main())
