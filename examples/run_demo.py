"""`make run`: the guides' patterns against one embedded MACP runtime, session by session.

Starts a ``LocalRuntime`` on loopback, runs each example's ``main(target)``, then shows every
session it created: mode, id, the accepted messages (replayed from the runtime through a
stream subscription), the final state and the outcome, followed by what the example found.

    .venv/bin/python examples/run_demo.py
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

if __package__ in (None, ""):  # run as a script: make the `examples` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf.message import Message  # noqa: E402
from macp.v1 import core_pb2  # noqa: E402
from macp.v1.envelope_pb2 import Envelope, SessionState  # noqa: E402
from macp_sdk import AuthConfig, MacpClient, decode_envelope  # noqa: E402
from macp_sdk.local_runtime import LocalRuntime  # noqa: E402

from examples import event_driven, pipeline, policy_decision, streaming  # noqa: E402

Printer = Callable[[str], None]

PATTERNS: list[tuple[str, ModuleType]] = [
    ("Policy-driven decision orchestrator", policy_decision),
    ("Decision -> quorum -> task pipeline", pipeline),
    ("Event-driven orchestrator on a stream", event_driven),
    ("Streaming guide: MacpStream, session streams, watchers", streaming),
]

# Fields that are bookkeeping rather than content, left out of the message lines.
_QUIET_FIELDS = {
    "mode_version",
    "configuration_version",
    "policy_version",
    "commitment_id",
    "participants",
}


def _value(value: object) -> str:
    if isinstance(value, bytes):
        try:
            return repr(value.decode())
        except UnicodeDecodeError:
            return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def summarize(envelope: Envelope) -> str:
    """The payload's meaningful fields on one line."""
    payload: Message | None = decode_envelope(envelope)
    if payload is None:
        return f"<{len(envelope.payload)} bytes>"
    return " ".join(
        f"{field.name}={_value(value)}"
        for field, value in payload.ListFields()
        if field.name not in _QUIET_FIELDS
    )


def replay(client: MacpClient, session_id: str, resolved: bool) -> list[Envelope]:
    """Every envelope the runtime accepted in the session, replayed from the first one."""
    with client.open_stream(session_id=session_id, after_sequence=0) as stream:
        if resolved:  # the Commitment is the last accepted envelope
            accepted = []
            for envelope in stream.responses(timeout=5.0):
                accepted.append(envelope)
                if envelope.message_type == "Commitment":
                    break
            return accepted
        # Cancelled or still open: nothing marks the end, so stop once the replay goes quiet.
        return list(stream.responses(timeout=5.0, idle_timeout=0.3))


def describe_session(client: MacpClient, number: int, session_id: str, out: Printer) -> None:
    meta = client.get_session(session_id).metadata
    state = SessionState.Name(meta.state).removeprefix("SESSION_STATE_")
    out(f"  [{number}] {meta.mode} session {session_id}")
    out(f"      initiator {meta.initiator}; participants {', '.join(meta.participants)}")
    accepted = replay(client, session_id, meta.state == SessionState.SESSION_STATE_RESOLVED)
    commitment: core_pb2.CommitmentPayload | None = None
    for seq, envelope in enumerate(accepted, start=1):
        kind, sender = envelope.message_type, envelope.sender
        out(f"      #{seq:<2} {kind:<15} {sender:<13} {summarize(envelope)}")
        if envelope.message_type == "Commitment":
            commitment = core_pb2.CommitmentPayload.FromString(envelope.payload)
    if commitment is not None:
        sign = "positive" if commitment.outcome_positive else "negative"
        outcome = f"{sign} ({commitment.action}: {commitment.reason})"
    else:
        outcome = "none (no commitment)"
    out(f"      final state: {state}; outcome: {outcome}")


def _facts(facts: dict[str, object]) -> dict[str, object]:
    """What an example found, without the session ids already shown above."""
    hidden = {"sessions", "states", "state", "session_id"}
    shown: dict[str, object] = {}
    for key, value in facts.items():
        if key in hidden or key.endswith("_session"):
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in hidden}
        shown[key] = value
    return shown


def demo(target: str, out: Printer = print) -> dict[str, dict[str, object]]:
    """Run every pattern against ``target`` and print its sessions; returns each one's facts."""
    results: dict[str, dict[str, object]] = {}
    for index, (title, module) in enumerate(PATTERNS, start=1):
        out("")
        out(f"=== {index}. {title} (examples/{Path(str(module.__file__)).name})")
        facts: dict[str, object] = module.main(target)
        auth = AuthConfig.for_dev_agent(module.COORDINATOR)  # the sessions' initiator
        with MacpClient(target=target, secure=False, auth=auth) as client:
            sessions = facts.get("sessions", [])
            assert isinstance(sessions, list)
            for number, session_id in enumerate(sessions, start=1):
                describe_session(client, number, str(session_id), out)
        out("  result:")
        for key, value in _facts(facts).items():
            out(f"      {key}: {value}")
        results[title] = facts
    return results


class _HidePlaintextWarning(logging.Filter):
    """The embedded runtime is plaintext on loopback by design: skip the per-client warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("plaintext channel")


def main() -> int:
    logging.getLogger("macp_sdk.client").addFilter(_HidePlaintextWarning())
    with LocalRuntime() as runtime:
        print(f"Embedded MACP runtime listening on {runtime.target}")
        demo(runtime.target)
    print("")
    print("All patterns completed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
