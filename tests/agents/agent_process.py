"""One agent as its own process: ``python agent_process.py <scenario>``.

Everything comes from ``$MACP_BOOTSTRAP_FILE`` (``from_bootstrap``); the role's handlers come
from scenarios.py. Prints one JSON line: who it is and how its session ended.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for agents.scenarios

from macp_sdk.agent import TerminalResult, from_bootstrap  # noqa: E402

from agents.scenarios import wire  # noqa: E402


def main() -> None:
    participant = from_bootstrap(session_check_interval=0.2)
    ended: list[TerminalResult] = []
    participant.on_terminal(ended.append)
    if sys.argv[1] != "idle":
        wire(sys.argv[1], participant)
    participant.run()
    result = ended[0] if ended else None
    print(
        json.dumps(
            {
                "participant": participant.participant_id,
                "class": type(participant).__name__,
                "state": result.state if result else None,
                "action": result.commitment.action if result and result.commitment else None,
                "saw_session_start": participant.projection.session_start is not None,
            }
        ),
        flush=True,
    )
    participant.client.close()


if __name__ == "__main__":
    main()
