"""`macp-local-runtime [--listen HOST:PORT] ...`: serve until SIGINT or SIGTERM.

Flags and the reference's environment variables are read by settings.py. Exit status 2 for a
configuration the runtime refuses (including plaintext or dev-mode auth without the explicit
opt-in), 1 when it cannot listen.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import InsecureConfigError, LocalRuntime
from .settings import SettingsError, config_from


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        config = config_from(argv, os.environ)
        runtime = LocalRuntime(config)
        runtime.start()
    except (SettingsError, InsecureConfigError) as error:
        print(f"macp-local-runtime: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"macp-local-runtime: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    scheme = "TLS" if config.tls else "plaintext"
    auth = "dev-mode auth" if runtime.dev_mode else "static tokens"
    print(f"macp-local-runtime listening on {runtime.target} ({scheme}, {auth})", flush=True)
    while not stop.wait(0.5):
        pass
    runtime.stop()
    print("macp-local-runtime stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
