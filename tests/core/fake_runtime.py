"""A small in-process MACP runtime for the core transport tests.

Real gRPC on loopback, a few rules of the reference runtime (sender binding, dedup, unknown
session, terminal sessions, passive subscribe with replay), and hooks to script failures.
It is test scaffolding, not the embedded runtime.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from macp.v1 import core_pb2, core_pb2_grpc, envelope_pb2, policy_pb2

_END = object()


@dataclass
class _Session:
    mode: str
    initiator: str
    participants: list[str]
    history: list[envelope_pb2.Envelope] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    state: int = envelope_pb2.SESSION_STATE_OPEN


def _identity(context: grpc.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[len("Bearer ") :]
    return None


class FakeRuntime(core_pb2_grpc.MACPRuntimeServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sessions: dict[str, _Session] = {}
        self.metadata_seen: list[tuple[str, dict[str, str]]] = []
        self.send_attempts: list[str] = []  # message ids, every attempt
        self.send_script: list[str] = []  # "UNAVAILABLE" (gRPC) or a MACP code (NACK), per attempt
        self.deny_commitments: list[str] = []  # POLICY_DENIED reasons when non-empty
        self.roots_script: list[str] = []  # WatchRoots: "UNAVAILABLE" = fail after one item
        self.streams: dict[int, tuple[queue.Queue[object], list[str]]] = {}
        self.signal_listeners: list[queue.Queue[object]] = []
        self.stopping = threading.Event()

    # -- helpers -------------------------------------------------------------------------
    def _record(self, method: str, context: grpc.ServicerContext) -> None:
        md = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        with self.lock:
            self.metadata_seen.append((method, md))

    @staticmethod
    def _nack(
        env: envelope_pb2.Envelope, code: str, message: str, details: bytes = b""
    ) -> envelope_pb2.Ack:
        return envelope_pb2.Ack(
            ok=False,
            message_id=env.message_id,
            session_id=env.session_id,
            error=envelope_pb2.MACPError(
                code=code,
                message=message,
                session_id=env.session_id,
                message_id=env.message_id,
                details=details,
            ),
        )

    def _accept(self, env: envelope_pb2.Envelope, identity: str | None) -> envelope_pb2.Ack:
        """The kernel: validate, dedupe, append, broadcast."""
        if identity is None:
            return self._nack(env, "UNAUTHENTICATED", "Unauthenticated")
        if env.sender and env.sender != identity:
            return self._nack(env, "UNAUTHENTICATED", "Unauthenticated")
        accepted = envelope_pb2.Envelope()
        accepted.CopyFrom(env)
        accepted.sender = identity
        if env.message_type in ("Signal", "Progress") and not env.session_id:
            for listener in list(self.signal_listeners):
                listener.put(accepted)
            return envelope_pb2.Ack(ok=True, message_id=env.message_id)
        with self.lock:
            session = self.sessions.get(env.session_id)
            if env.message_type == "SessionStart":
                if session is not None:
                    if env.message_id in session.seen:
                        return envelope_pb2.Ack(
                            ok=True,
                            duplicate=True,
                            message_id=env.message_id,
                            session_id=env.session_id,
                            session_state=session.state,
                        )
                    return self._nack(env, "SESSION_ALREADY_EXISTS", "SessionAlreadyExists")
                start = core_pb2.SessionStartPayload.FromString(env.payload)
                session = _Session(
                    mode=env.mode, initiator=identity, participants=list(start.participants)
                )
                self.sessions[env.session_id] = session
            elif session is None:
                return self._nack(env, "SESSION_NOT_FOUND", "UnknownSession")
            elif env.message_id in session.seen:
                return envelope_pb2.Ack(
                    ok=True,
                    duplicate=True,
                    message_id=env.message_id,
                    session_id=env.session_id,
                    session_state=session.state,
                )
            elif session.state != envelope_pb2.SESSION_STATE_OPEN:
                return self._nack(env, "SESSION_NOT_OPEN", "SessionNotOpen")
            elif env.message_type == "Commitment" and self.deny_commitments:
                details = json.dumps({"reasons": self.deny_commitments}).encode()
                return self._nack(env, "POLICY_DENIED", "PolicyDenied", details)
            if env.message_type == "Commitment":
                session.state = envelope_pb2.SESSION_STATE_RESOLVED
            session.seen.add(env.message_id)
            session.history.append(accepted)
            state = session.state
            for stream_queue, bound in self.streams.values():
                if bound and bound[0] == env.session_id:
                    stream_queue.put(accepted)
        return envelope_pb2.Ack(
            ok=True,
            message_id=env.message_id,
            session_id=env.session_id,
            accepted_at_unix_ms=int(time.time() * 1000),
            session_state=state,
        )

    # -- RPCs ----------------------------------------------------------------------------
    def Initialize(self, request, context):  # type: ignore[no-untyped-def]
        self._record("Initialize", context)
        if "1.0" not in request.supported_protocol_versions:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "UNSUPPORTED_PROTOCOL_VERSION: no 1.0"
            )
        return core_pb2.InitializeResponse(
            selected_protocol_version="1.0",
            runtime_info=core_pb2.RuntimeInfo(name="fake-runtime"),
            capabilities=core_pb2.Capabilities(
                sessions=core_pb2.SessionsCapability(stream=True, list_sessions=True)
            ),
            supported_modes=["macp.mode.decision.v1"],
        )

    def Send(self, request, context):  # type: ignore[no-untyped-def]
        self._record("Send", context)
        env = request.envelope
        with self.lock:
            self.send_attempts.append(env.message_id)
            scripted = self.send_script.pop(0) if self.send_script else None
        if scripted == "UNAVAILABLE":
            context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        if scripted is not None:
            return core_pb2.SendResponse(ack=self._nack(env, scripted, "Scripted"))
        return core_pb2.SendResponse(ack=self._accept(env, _identity(context)))

    def StreamSession(self, request_iterator, context):  # type: ignore[no-untyped-def]
        self._record("StreamSession", context)
        identity = _identity(context)
        if identity is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Unauthenticated")
        out: queue.Queue[object] = queue.Queue()
        bound: list[str] = []
        key = id(out)

        def consume() -> None:
            try:
                for frame in request_iterator:
                    if frame.subscribe_session_id:
                        self._subscribe(frame, identity, out, bound)
                    else:
                        env = frame.envelope
                        with self.lock:
                            if not bound:
                                bound.append(env.session_id)
                        ack = self._accept(env, identity)
                        if not ack.ok and not ack.duplicate:
                            out.put(ack.error)
            except Exception:
                pass
            finally:
                out.put(_END)

        with self.lock:
            self.streams[key] = (out, bound)
        reader = threading.Thread(target=consume, name="fake-runtime-stream-reader", daemon=True)
        reader.start()
        try:
            while True:
                item = out.get()
                if item is _END:
                    return
                if isinstance(item, grpc.StatusCode):
                    context.abort(item, "subscribe failed")
                if isinstance(item, envelope_pb2.MACPError):
                    yield core_pb2.StreamSessionResponse(error=item)
                elif isinstance(item, envelope_pb2.Envelope):
                    yield core_pb2.StreamSessionResponse(envelope=item)
        finally:
            with self.lock:
                self.streams.pop(key, None)

    def _subscribe(self, frame, identity, out, bound) -> None:  # type: ignore[no-untyped-def]
        with self.lock:
            session = self.sessions.get(frame.subscribe_session_id)
            if session is None:
                out.put(grpc.StatusCode.NOT_FOUND)
                return
            if identity != session.initiator and identity not in session.participants:
                out.put(
                    envelope_pb2.MACPError(
                        code="FORBIDDEN: not a participant",
                        message="Forbidden",
                        session_id=frame.subscribe_session_id,
                    )
                )
                return
            if not bound:
                bound.append(frame.subscribe_session_id)
            for env in session.history[frame.after_sequence :]:
                out.put(env)

    def GetSession(self, request, context):  # type: ignore[no-untyped-def]
        self._record("GetSession", context)
        with self.lock:
            session = self.sessions.get(request.session_id)
        if session is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Session '{request.session_id}' not found")
        if _identity(context) not in (session.initiator, *session.participants):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN: session access denied")
        return core_pb2.GetSessionResponse(metadata=self._metadata(request.session_id, session))

    @staticmethod
    def _metadata(session_id: str, session: _Session) -> core_pb2.SessionMetadata:
        return core_pb2.SessionMetadata(
            session_id=session_id,
            mode=session.mode,
            state=session.state,
            participants=session.participants,
            initiator=session.initiator,
        )

    def _control(self, request, context, target_state: int, message_type: str):  # type: ignore[no-untyped-def]
        with self.lock:
            session = self.sessions.get(request.session_id)
            if session is None:
                context.abort(grpc.StatusCode.NOT_FOUND, "Session not found")
            if _identity(context) != session.initiator:
                context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN: only the session initiator"
                )
            if session.state in (
                envelope_pb2.SESSION_STATE_RESOLVED,
                envelope_pb2.SESSION_STATE_CANCELLED,
            ):
                if message_type == "SessionCancel":
                    return envelope_pb2.Ack(
                        ok=True, session_id=request.session_id, session_state=session.state
                    )
                return self._nack(
                    envelope_pb2.Envelope(session_id=request.session_id),
                    "SESSION_NOT_OPEN",
                    "SessionNotOpen",
                )
            session.state = target_state
            payload = core_pb2.SessionCancelPayload(reason=request.reason).SerializeToString()
            session.history.append(
                envelope_pb2.Envelope(
                    macp_version="1.0",
                    mode=session.mode,
                    message_type=message_type,
                    message_id=f"runtime-{len(session.history)}",
                    session_id=request.session_id,
                    sender="runtime",
                    payload=payload,
                )
            )
            return envelope_pb2.Ack(
                ok=True, session_id=request.session_id, session_state=target_state
            )

    def CancelSession(self, request, context):  # type: ignore[no-untyped-def]
        self._record("CancelSession", context)
        return core_pb2.CancelSessionResponse(
            ack=self._control(
                request, context, envelope_pb2.SESSION_STATE_CANCELLED, "SessionCancel"
            )
        )

    def SuspendSession(self, request, context):  # type: ignore[no-untyped-def]
        self._record("SuspendSession", context)
        return core_pb2.SuspendSessionResponse(
            ack=self._control(
                request, context, envelope_pb2.SESSION_STATE_SUSPENDED, "SessionSuspend"
            )
        )

    def ResumeSession(self, request, context):  # type: ignore[no-untyped-def]
        self._record("ResumeSession", context)
        return core_pb2.ResumeSessionResponse(
            ack=self._control(request, context, envelope_pb2.SESSION_STATE_OPEN, "SessionResume")
        )

    def GetManifest(self, request, context):  # type: ignore[no-untyped-def]
        self._record("GetManifest", context)
        if request.agent_id not in ("", "macp-runtime"):
            context.abort(grpc.StatusCode.NOT_FOUND, "AGENT_NOT_FOUND: unknown agent")
        return core_pb2.GetManifestResponse(
            manifest=core_pb2.AgentManifest(agent_id="macp-runtime")
        )

    def ListModes(self, request, context):  # type: ignore[no-untyped-def]
        self._record("ListModes", context)
        return core_pb2.ListModesResponse(
            modes=[core_pb2.ModeDescriptor(mode="macp.mode.decision.v1")]
        )

    def ListSessions(self, request, context):  # type: ignore[no-untyped-def]
        self._record("ListSessions", context)
        with self.lock:
            items = sorted(self.sessions.items())
        start = int(request.page_token or 0)
        size = request.page_size or len(items) or 1
        page = items[start : start + size]
        token = str(start + size) if start + size < len(items) else ""
        return core_pb2.ListSessionsResponse(
            sessions=[self._metadata(sid, s) for sid, s in page], next_page_token=token
        )

    def _idle(self, context: grpc.ServicerContext) -> None:
        while context.is_active() and not self.stopping.wait(0.05):
            pass

    def WatchModeRegistry(self, request, context):  # type: ignore[no-untyped-def]
        self._record("WatchModeRegistry", context)
        yield core_pb2.WatchModeRegistryResponse(change=core_pb2.RegistryChanged(registry="modes"))
        self._idle(context)

    def WatchRoots(self, request, context):  # type: ignore[no-untyped-def]
        self._record("WatchRoots", context)
        with self.lock:
            scripted = self.roots_script.pop(0) if self.roots_script else None
        if scripted == "DOWN":  # fail before any item
            context.abort(grpc.StatusCode.UNAVAILABLE, "runtime down")
        yield core_pb2.WatchRootsResponse(change=core_pb2.RootsChanged(observed_at_unix_ms=1))
        if scripted == "UNAVAILABLE":
            context.abort(grpc.StatusCode.UNAVAILABLE, "runtime restarting")
        self._idle(context)

    def WatchSignals(self, request, context):  # type: ignore[no-untyped-def]
        self._record("WatchSignals", context)
        listener: queue.Queue[object] = queue.Queue()
        self.signal_listeners.append(listener)
        try:
            while context.is_active() and not self.stopping.is_set():
                try:
                    item = listener.get(timeout=0.05)
                except queue.Empty:
                    continue
                if isinstance(item, envelope_pb2.Envelope):
                    yield core_pb2.WatchSignalsResponse(envelope=item, sender_authenticated=True)
        finally:
            self.signal_listeners.remove(listener)

    def GetPolicy(self, request, context):  # type: ignore[no-untyped-def]
        self._record("GetPolicy", context)
        context.abort(grpc.StatusCode.NOT_FOUND, f"policy {request.policy_id} not found")

    def ListPolicies(self, request, context):  # type: ignore[no-untyped-def]
        self._record("ListPolicies", context)
        return policy_pb2.ListPoliciesResponse()


@dataclass
class RunningRuntime:
    runtime: FakeRuntime
    server: grpc.Server
    port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.runtime.stopping.set()
        self.server.stop(grace=None).wait(5)


def start_runtime(
    credentials: grpc.ServerCredentials | None = None, host: str = "127.0.0.1"
) -> RunningRuntime:
    runtime = FakeRuntime()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="fake-runtime")
    )
    core_pb2_grpc.add_MACPRuntimeServiceServicer_to_server(runtime, server)
    address = f"{host}:0"
    port = (
        server.add_secure_port(address, credentials)
        if credentials
        else server.add_insecure_port(address)
    )
    server.start()
    return RunningRuntime(runtime, server, port)


def wait_until(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def iter_with_limit(items: Iterator[object], limit: int) -> list[object]:
    out = []
    for item in items:
        out.append(item)
        if len(out) >= limit:
            break
    return out
