"""Encodes and decodes payload dicts with `ProtoRegistry`; run by each SDK's own python.

stdin: {"cases": [[mode, message_type, value_dict], ...], "raw": [[mode, type, b64], ...]}
stdout: {"encoded": [b64 or error], "decoded": [dict or None], "raw": [dict or None]}
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any


def main() -> None:
    from macp_sdk.proto_registry import ProtoRegistry

    request = json.load(sys.stdin)
    registry = ProtoRegistry()
    encoded: list[Any] = []
    decoded: list[Any] = []
    for mode, message_type, value in request["cases"]:
        try:
            data = registry.encode_known_payload(mode, message_type, value)
        except Exception as error:  # the kind of failure is compared, not its text
            encoded.append(f"error:{type(error).__name__}")
            decoded.append(None)
            continue
        encoded.append(base64.b64encode(data).decode())
        decoded.append(registry.decode_known_payload(mode, message_type, data))
    raw = [
        registry.decode_known_payload(mode, message_type, base64.b64decode(data))
        for mode, message_type, data in request["raw"]
    ]
    json.dump({"encoded": encoded, "decoded": decoded, "raw": raw}, sys.stdout)


if __name__ == "__main__":
    main()
