"""`macp-local-runtime --listen 127.0.0.1:50051`: serve until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .limits import RateLimits
from .server import DEFAULT_MAX_PAYLOAD_BYTES, LocalRuntime, RuntimeConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="macp-local-runtime", description="Run the embedded MACP runtime (plaintext)."
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:50051", help="host:port (default %(default)s)"
    )
    parser.add_argument(
        "--max-payload-bytes", type=int, default=DEFAULT_MAX_PAYLOAD_BYTES, metavar="N"
    )
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="enforce the reference limits: 60 SessionStarts and 600 messages per sender/min",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = RuntimeConfig(
        listen=args.listen,
        max_payload_bytes=args.max_payload_bytes,
        rate_limits=RateLimits() if args.rate_limits else None,
    )
    runtime = LocalRuntime(config)
    try:
        runtime.start()
    except RuntimeError as error:
        print(f"macp-local-runtime: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"macp-local-runtime listening on {runtime.target}", flush=True)
    while not stop.wait(0.5):
        pass
    runtime.stop()
    print("macp-local-runtime stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
