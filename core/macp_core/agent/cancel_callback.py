"""The cancel-callback endpoint (RFC-MACP-0001 §7.2, "Option A").

A control plane POSTs ``{"runId": ..., "reason": ...}`` to ``http://host:port{path}``;
``on_cancel(run_id, reason)`` runs on the server's thread and the POST is answered 202
(500 when the callback raised, 404 for another path). Standard library only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

from .._logging import get_logger

logger = get_logger("agent")

OnCancel = Callable[[str, str], None]


@dataclass(eq=False)
class CancelCallbackServer:
    """A running callback endpoint; ``close()`` stops it and joins its thread.

    Built by :func:`start_cancel_callback_server`; the fields are 0.22.0's (``address`` is the
    bound ``(host, port)``)."""

    address: tuple[str, int]
    _httpd: HTTPServer
    _thread: threading.Thread
    path: str = "/"
    _closed: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.port}{self.path}"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Idempotent. From the server's own thread (a callback closing its server) the
        shutdown runs on a short-lived helper thread, since ``shutdown()`` waits for the
        serving loop that is running the callback."""
        if self._closed.is_set():
            return
        self._closed.set()
        if threading.current_thread() is self._thread:
            threading.Thread(target=self._shutdown, name="macp-cancel-callback-close").start()
        else:
            self._shutdown()

    def _shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if threading.current_thread() is not self._thread:
            self._thread.join()


def start_cancel_callback_server(
    *, host: str, port: int, path: str, on_cancel: OnCancel
) -> CancelCallbackServer:
    """Serve the callback on ``(host, port)`` (``port=0``: any free port) in a thread."""
    route = path if path.startswith("/") else "/" + path

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:
            logger.debug("cancel_callback %s - %s", self.address_string(), fmt % args)

        def do_POST(self) -> None:
            if self.path != route:
                self._reply(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except (ValueError, UnicodeDecodeError):
                body = {}
            if not isinstance(body, dict):
                body = {}
            run_id = str(body.get("runId") or body.get("run_id") or "")
            reason = str(body.get("reason") or "")
            logger.info("cancel_callback invoked (run=%s reason=%s)", run_id, reason)
            try:
                on_cancel(run_id, reason)
            except Exception:
                logger.exception("cancel_callback handler raised")
                self._reply(500)
                return
            self._reply(202, b'{"ok":true}')

        def _reply(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = HTTPServer((host, port), Handler)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"macp-cancel-callback-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    address = (str(httpd.server_address[0]), int(httpd.server_address[1]))
    return CancelCallbackServer(address, httpd, thread, route)
