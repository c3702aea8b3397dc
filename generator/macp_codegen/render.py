"""Step 3: model -> file contents, through Jinja2 templates that only read the model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import jinja2

BUILTIN_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def python_string(value: str) -> str:
    """A Python string literal (double-quoted); JSON string syntax is valid Python."""
    return json.dumps(value, ensure_ascii=False)


def make_environment(overlay: Path | None = None) -> jinja2.Environment:
    """User templates in `overlay` win over built-in ones with the same relative name."""
    loaders: list[jinja2.BaseLoader] = []
    if overlay is not None and overlay.resolve() != BUILTIN_TEMPLATES:
        loaders.append(jinja2.FileSystemLoader(str(overlay)))
    loaders.append(jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["py"] = python_string
    return env


def render(env: jinja2.Environment, template: str, context: Mapping[str, object]) -> str:
    text = env.get_template(template).render(**context)
    # One trailing newline, whatever the template's last line did.
    return text.rstrip("\n") + "\n"
