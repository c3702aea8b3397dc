"""Write a project with N synthetic modes (for the generator-scale figure).

    python bench/synth.py OUT_DIR N

Each mode is a copy of the golden widget mode (tests/golden/widget), which exercises every
option the generator reads, under its own package, mode id and names.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET = ROOT / "tests" / "golden" / "widget" / "proto" / "acme" / "widget" / "v1" / "widget.proto"


def main() -> None:
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    template = WIDGET.read_text(encoding="utf-8")
    for index in range(count):
        name = f"synth{index:03d}"
        text = (
            template.replace("package acme.widget.v1;", f"package acme.{name}.v1;")
            .replace('id: "ext.widget.v1"', f'id: "ext.{name}.v1"')
            .replace('short_name: "widget"', f'short_name: "{name}"')
            .replace('title: "Widget"', f'title: "Synth {index:03d}"')
            .replace('session_class: "GadgetSession"', f'session_class: "Synth{index:03d}Session"')
        )
        target = out / "proto" / "acme" / name / "v1" / f"{name}.proto"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (out / "pyproject.toml").write_text('[project]\nname = "synth"\n', encoding="utf-8")


if __name__ == "__main__":
    main()
