"""The streaming guide, runnable: four ways to watch a runtime in real time.

1. Raw ``MacpStream``: send a hand-built Vote envelope on the stream, read its echo, then
   iterate ``responses()`` while another agent votes and the coordinator commits.
2. Session helpers + ``session.open_stream()``: send with unary RPCs, observe on the stream.
3. ``client.watch_mode_registry(timeout=...)``: the initial event, then the event caused by
   registering an extension mode while the watch is open.
4. ``client.watch_roots(timeout=...)``: the initial event; the iteration ends at the timeout.

Session ids are real UUID v4s (a runtime rejects "my-session" with INVALID_SESSION_ID).

    .venv/bin/python examples/streaming.py
"""

from __future__ import annotations

from macp.modes.decision.v1 import decision_pb2
from macp.v1 import core_pb2
from macp.v1.envelope_pb2 import SessionState
from macp_sdk import AuthConfig, DecisionSession, MacpClient, new_session_id
from macp_sdk.envelope import build_envelope, serialize_message
from macp_sdk.facts import decision as decision_facts

COORDINATOR = "coordinator"
EXT_MODE = "ext.demo.echo.v1"


def raw_stream(client: MacpClient, target: str) -> dict[str, object]:
    """Bidirectional session streaming with a raw MacpStream."""
    # A stream carries one session's envelopes, so the session must exist first.
    session = DecisionSession(client)
    session.start(intent="pick a cache", participants=[COORDINATOR, "alice"], ttl_ms=60_000)
    session.propose("p1", "redis")

    # Open a stream
    stream = client.open_stream()

    # Send an envelope through the stream (its first envelope binds the stream to the session)
    payload = decision_pb2.VotePayload(proposal_id="p1", vote="approve")
    envelope = build_envelope(
        mode=decision_facts.MODE,
        message_type=decision_facts.VOTE,
        session_id=session.session_id,
        sender=COORDINATOR,
        payload=serialize_message(payload),
    )
    stream.send(envelope)

    # Read accepted envelopes (blocking): the runtime echoes ours back once accepted
    response = stream.read(timeout=5.0)
    echoed = None if response is None else (response.message_type, response.sender)

    # Others keep talking through unary Sends; the stream sees all of it, in acceptance order.
    with MacpClient(target=target, secure=False, auth=AuthConfig.for_dev_agent("alice")) as alice:
        DecisionSession(alice, session_id=session.session_id).vote("p1", "approve")
    session.commit(action="decision.selected", authority_scope="infra", reason="unanimous")

    # Iterate over all responses (here until the Commitment, at most 10 s)
    seen = []
    for item in stream.responses(timeout=10.0):
        seen.append((item.message_type, item.sender))
        if item.message_type == "Commitment":
            break

    # Close when done
    stream.close()
    return {"session_id": session.session_id, "echoed": echoed, "then": seen}


def session_stream(client: MacpClient) -> dict[str, object]:
    """Session helpers (unary Send) with a stream observing the same session."""
    session = DecisionSession(client, session_id=new_session_id())
    session.start(intent="pick an option", participants=[COORDINATOR, "bob"], ttl_ms=60_000)

    # Open a stream to observe accepted envelopes (subscribed after what we already hold)
    with session.open_stream() as stream:
        # Send via session helpers (unary RPCs)
        session.propose("p1", "option-a")
        # Read the accepted envelope from the stream
        response = stream.read(timeout=5.0)
    session.commit(action="decision.selected", authority_scope="infra", reason="only option")
    observed = None if response is None else (response.message_type, response.sender)
    return {"session_id": session.session_id, "observed": observed}


def watch_registry(client: MacpClient) -> dict[str, object]:
    """WatchModeRegistry: an event at once, then one per registry change."""
    events = []
    for event in client.watch_mode_registry(timeout=5.0):
        events.append(event.change.registry)
        if len(events) == 2:
            break  # the change we caused
        # The first event arrives at once. Change the registry while the watch is open.
        descriptor = core_pb2.ModeDescriptor(
            mode=EXT_MODE,
            mode_version="1.0.0",
            title="Echo (demo extension)",
            message_types=["SessionStart", "Echo", "Commitment"],
            terminal_message_types=["Commitment"],
        )
        registered = client.register_ext_mode(descriptor)
        if not registered.ok:
            raise RuntimeError(f"RegisterExtMode failed: {registered.error}")
    ext_modes = [d.mode for d in client.list_ext_modes().modes]
    client.unregister_ext_mode(EXT_MODE)  # leave the runtime as we found it
    return {"registry_events": events, "ext_modes": ext_modes}


def watch_roots(client: MacpClient) -> dict[str, object]:
    """WatchRoots: the runtime sends the current state at once; roots never change here."""
    events = [event.change.observed_at_unix_ms for event in client.watch_roots(timeout=0.5)]
    return {"roots_events": len(events), "roots": list(client.list_roots().roots)}


def main(target: str) -> dict[str, object]:
    """Run the four streaming patterns against ``target``; return what each observed."""
    with MacpClient(
        target=target, secure=False, auth=AuthConfig.for_dev_agent(COORDINATOR)
    ) as client:
        raw = raw_stream(client, target)
        helpers = session_stream(client)
        registry = watch_registry(client)
        roots = watch_roots(client)
        sessions = [str(raw["session_id"]), str(helpers["session_id"])]
        states = [SessionState.Name(client.get_session(sid).metadata.state) for sid in sessions]
    return {
        "raw_stream": raw,
        "session_stream": helpers,
        **registry,
        **roots,
        "sessions": sessions,
        "states": states,
    }


if __name__ == "__main__":
    from macp_sdk.local_runtime import LocalRuntime

    with LocalRuntime() as runtime:
        print(main(runtime.target))
