"""``from_bootstrap``: a ready :class:`Participant` from the bootstrap file a control plane
writes before it spawns an agent (``$MACP_BOOTSTRAP_FILE``).

Two shapes are read:

- the spec's (``macp-agent-bootstrap.schema.json``): ``run``, ``participant``, ``runtime``,
  optional ``initiator`` (``sessionStart`` plus a ``kickoff`` whose payload is base64),
  ``cancelCallback``, ``session``, ``execution``. The mode is ``execution.modeName``
  (the run descriptor's canonical mode id), else a top-level ``mode``;
- 0.22.0's flat one (``participant_id``, ``session_id``, ``mode``, ``runtime_url``,
  ``auth_token`` ..., ``cancel_callback``).

A file that does not fit raises :class:`BootstrapError` naming the file and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._logging import get_logger
from ..auth import AuthConfig
from .cancel_callback import start_cancel_callback_server
from .participant import InitiatorConfig, Participant

__all__ = [
    "BOOTSTRAP_ENV",
    "Bootstrap",
    "BootstrapError",
    "CancelCallback",
    "InitiatorConfig",
    "bind_cancel_callback",
    "from_bootstrap",
    "load_bootstrap",
]

logger = get_logger("agent")

BOOTSTRAP_ENV = "MACP_BOOTSTRAP_FILE"


class BootstrapError(ValueError):
    """The bootstrap file is missing, not JSON, or lacks a field the participant needs."""


@dataclass(frozen=True)
class CancelCallback:
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Bootstrap:
    """What a bootstrap file says, in one shape whichever shape the file had."""

    participant_id: str
    session_id: str
    mode: str
    runtime_address: str
    secure: bool
    allow_insecure: bool
    auth: AuthConfig | None
    participants: list[str] = field(default_factory=list)
    mode_version: str | None = None
    configuration_version: str | None = None
    policy_version: str | None = None
    initiator: InitiatorConfig | None = None
    cancel_callback: CancelCallback | None = None
    run_id: str = ""


class _Reader:
    """Typed access to a JSON object with located errors."""

    def __init__(self, source: str, data: Any, where: str = "") -> None:
        if not isinstance(data, dict):
            raise BootstrapError(f"{source}: {where or 'the file'} must be a JSON object")
        self.source, self.data, self.where = source, data, where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def obj(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        return None if value is None else _Reader(self.source, value, self._name(key))

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise BootstrapError(
                    f"{self.source}: {self._name(key)}: required (a non-empty string)"
                )
            return default
        if not isinstance(value, str | int | float):
            raise BootstrapError(f"{self.source}: {self._name(key)}: expected a string")
        return str(value)

    def need(self, key: str) -> str:
        found = self.text(key, required=True)
        assert found is not None
        return found

    def integer(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BootstrapError(f"{self.source}: {self._name(key)}: expected an integer")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise BootstrapError(f"{self.source}: {self._name(key)}: expected true or false")
        return value

    def strings(self, key: str) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BootstrapError(f"{self.source}: {self._name(key)}: expected a list of strings")
        return list(value)


def _b64(source: str, where: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BootstrapError(f"{source}: {where}: not base64 ({exc})") from None


def _context_id(text: str | None) -> str:
    """``sessionStart.context`` is documented as base64; text that is not becomes the id."""
    if not text:
        return ""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return text


def _extensions(source: str, reader: _Reader) -> dict[str, bytes]:
    raw = reader.data.get("extensions")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise BootstrapError(f"{source}: {reader._name('extensions')}: expected base64 strings")
    return {str(k): _b64(source, f"extensions.{k}", v) for k, v in raw.items()}


def _callback(reader: _Reader | None) -> CancelCallback | None:
    if reader is None:
        return None
    path = reader.need("path")
    if not path.startswith("/"):
        raise BootstrapError(f"{reader.source}: {reader._name('path')}: must start with '/'")
    return CancelCallback(reader.need("host"), reader.integer("port", 0), path)


def _spec_shape(root: _Reader, mode_override: str | None) -> Bootstrap:
    source = root.source
    run = root.obj("run")
    participant = root.obj("participant")
    runtime = root.obj("runtime")
    if run is None or participant is None or runtime is None:
        raise BootstrapError(f"{source}: run, participant and runtime are required")
    participant_id = participant.need("participantId")
    execution, session = root.obj("execution"), root.obj("session")
    mode = mode_override or (execution.text("modeName") if execution else None) or root.text("mode")
    if not mode:
        raise BootstrapError(
            f"{source}: execution.modeName: required (the mode id, e.g. macp.mode.decision.v1)"
        )
    tls = runtime.flag("tls", True)
    allow_insecure = runtime.flag("allowInsecure", False)
    if not tls and not allow_insecure:
        raise BootstrapError(
            f"{source}: runtime.tls is false but runtime.allowInsecure is not true "
            "(a plaintext channel is a development-only escape hatch; set both, or use TLS)"
        )
    auth = AuthConfig.for_bearer(
        runtime.need("bearerToken"), expected_sender=participant_id, sender_hint=participant_id
    )
    participants = (session.strings("participants") if session else None) or []
    initiator = None
    start_reader = None
    init = root.obj("initiator")
    if init is not None:
        start_reader = init.obj("sessionStart")
        if start_reader is None:
            raise BootstrapError(f"{source}: initiator.sessionStart: required")
        kickoff = init.obj("kickoff")
        initiator = InitiatorConfig(
            intent=start_reader.text("intent", default="") or "",
            participants=start_reader.strings("participants") or participants,
            ttl_ms=start_reader.integer("ttlMs", 0),
            context_id=_context_id(start_reader.text("context")),
            extensions=_extensions(source, start_reader),
            roots=[
                {"uri": str(r.get("uri", "")), "name": str(r.get("name", ""))}
                for r in start_reader.data.get("roots") or []
                if isinstance(r, dict)
            ],
            mode_version=start_reader.text("modeVersion"),
            configuration_version=start_reader.text("configurationVersion"),
            policy_version=start_reader.text("policyVersion"),
            max_suspend_ms=start_reader.integer("maxSuspendMs", 0),
            kickoff_message_type=kickoff.need("messageType") if kickoff else None,
            kickoff_payload=(
                _b64(source, "initiator.kickoff.payload", kickoff.text("payload") or "")
                if kickoff
                else b""
            ),
        )
        participants = participants or initiator.participants
    return Bootstrap(
        participant_id=participant_id,
        session_id=run.need("sessionId"),
        mode=mode,
        runtime_address=runtime.need("address"),
        secure=tls,
        allow_insecure=allow_insecure,
        auth=auth,
        participants=participants,
        mode_version=initiator.mode_version if initiator else None,
        configuration_version=initiator.configuration_version if initiator else None,
        policy_version=initiator.policy_version if initiator else None,
        initiator=initiator,
        cancel_callback=_callback(root.obj("cancelCallback")),
        run_id=run.need("runId"),
    )


def _flat_shape(root: _Reader, mode_override: str | None) -> Bootstrap:
    source = root.source
    participant_id = root.need("participant_id")
    address = root.text("runtime_url") or root.text("runtime_address")
    if not address:
        raise BootstrapError(f"{source}: runtime_url: required (the runtime's host:port)")
    auth: AuthConfig | None = None
    nested = root.obj("auth")
    if root.has("auth_token"):
        auth = AuthConfig.for_bearer(
            root.need("auth_token"), sender_hint=participant_id, expected_sender=participant_id
        )
    elif nested is not None and nested.has("bearer_token"):
        auth = AuthConfig.for_bearer(
            nested.need("bearer_token"),
            sender_hint=participant_id,
            expected_sender=nested.text("expected_sender") or participant_id,
        )
    elif root.has("agent_id"):
        auth = AuthConfig.for_dev_agent(root.need("agent_id"), expected_sender=participant_id)
    elif nested is not None and nested.has("agent_id"):
        auth = AuthConfig.for_dev_agent(nested.need("agent_id"), expected_sender=participant_id)
    participants = root.strings("participants") or []
    versions = {
        k: root.text(k) for k in ("mode_version", "configuration_version", "policy_version")
    }
    initiator = None
    init = root.obj("initiator")
    if init is not None:
        start = init.obj("session_start") or _Reader(source, {}, "initiator.session_start")
        kickoff = init.obj("kickoff")
        payload: dict[str, Any] | bytes = {}
        if kickoff is not None:
            raw = kickoff.data.get("payload", {})
            payload = (
                _b64(source, "initiator.kickoff.payload", raw) if isinstance(raw, str) else raw
            )
        initiator = InitiatorConfig(
            intent=start.text("intent", default="") or "",
            participants=start.strings("participants") or participants,
            ttl_ms=start.integer("ttl_ms", 300_000),
            context_id=start.text("context_id", default="") or "",
            extensions=_extensions(source, start),
            roots=start.data.get("roots"),
            mode_version=start.text("mode_version") or versions["mode_version"],
            configuration_version=start.text("configuration_version")
            or versions["configuration_version"],
            policy_version=start.text("policy_version") or versions["policy_version"],
            max_suspend_ms=start.integer("max_suspend_ms", 0),
            kickoff_message_type=kickoff.text("message_type") if kickoff else None,
            kickoff_payload=payload,
        )
    secure, allow_insecure = root.flag("secure", True), root.flag("allow_insecure", False)
    if not secure and not allow_insecure:
        raise BootstrapError(
            f"{source}: secure is false but allow_insecure is not true "
            "(a plaintext channel is a development-only escape hatch; set both, or use TLS)"
        )
    return Bootstrap(
        participant_id=participant_id,
        session_id=root.need("session_id"),
        mode=mode_override or root.need("mode"),
        runtime_address=address,
        secure=secure,
        allow_insecure=allow_insecure,
        auth=auth,
        participants=participants,
        mode_version=versions["mode_version"],
        configuration_version=versions["configuration_version"],
        policy_version=versions["policy_version"],
        initiator=initiator,
        cancel_callback=_callback(root.obj("cancel_callback")),
    )


def load_bootstrap(
    path: str | os.PathLike[str] | None = None, *, mode: str | None = None
) -> Bootstrap:
    """Read and check a bootstrap file (``path``, else ``$MACP_BOOTSTRAP_FILE``)."""
    chosen = path or os.environ.get(BOOTSTRAP_ENV)
    if not chosen:
        raise BootstrapError(f"no bootstrap path given and {BOOTSTRAP_ENV} is not set")
    source = str(chosen)
    try:
        text = Path(chosen).read_text(encoding="utf-8")
    except OSError as exc:
        raise BootstrapError(f"{source}: cannot read the bootstrap file ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BootstrapError(f"{source}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    root = _Reader(source, data)
    spec = root.has("run") or root.has("runtime") or root.has("participant")
    return _spec_shape(root, mode) if spec else _flat_shape(root, mode)


def from_bootstrap(
    bootstrap_path: str | os.PathLike[str] | None = None,
    *,
    mode: str | None = None,
    session_check_interval: float | None = None,
) -> Participant:
    """A :class:`Participant` wired from a bootstrap file: its client, identity, session,
    initiator duties, and (when the file asks) a cancel-callback endpoint whose POST cancels
    the session as this participant when it is the initiator, and stops it in any case."""
    boot = load_bootstrap(bootstrap_path, mode=mode)
    # The client class is generated (macp_sdk.client); the core reaches it only here, at call
    # time, so importing the core never needs the generated SDK.
    from macp_sdk.client import MacpClient

    client = MacpClient(
        target=boot.runtime_address,
        secure=boot.secure,
        allow_insecure=boot.allow_insecure,
        auth=boot.auth,
    )
    options: dict[str, Any] = {}
    if session_check_interval is not None:
        options["session_check_interval"] = session_check_interval
    from .modes import binding_for

    participant_class: type[Participant] = binding_for(boot.mode).participant_class or Participant
    participant = participant_class(
        participant_id=boot.participant_id,
        session_id=boot.session_id,
        mode=boot.mode,
        client=client,
        auth=boot.auth,
        participants=boot.participants,
        mode_version=boot.mode_version,
        configuration_version=boot.configuration_version,
        policy_version=boot.policy_version,
        initiator_config=boot.initiator,
        **options,
    )
    if boot.cancel_callback is not None:
        bind_cancel_callback(participant, boot.cancel_callback)
    return participant


def bind_cancel_callback(participant: Participant, callback: CancelCallback) -> None:
    """Serve ``callback``; a POST cancels the session (initiator) or stops the participant."""

    def on_cancel(_run_id: str, reason: str) -> None:
        if participant.initiator_config is not None:
            participant.cancel(reason)
        else:
            participant.stop()

    server = start_cancel_callback_server(
        host=callback.host, port=callback.port, path=callback.path, on_cancel=on_cancel
    )
    participant.attach_cancel_callback_server(server)
