"""Compiled templates are cached between runs (render.py), never at the cost of a wrong page."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from macp_codegen.render import make_environment, render

TEMPLATE = "package_init.py.jinja"
CONTEXT = {"header": "# header"}


def test_a_second_environment_renders_from_the_cache_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render(make_environment(cache=tmp_path), TEMPLATE, CONTEXT)
    assert list(tmp_path.iterdir())  # the compiled template was stored

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again although the cache holds the template")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render(make_environment(cache=tmp_path), TEMPLATE, CONTEXT) == first


def test_a_corrupt_cache_entry_is_compiled_again(tmp_path: Path) -> None:
    expected = render(make_environment(cache=tmp_path), TEMPLATE, CONTEXT)
    for entry in tmp_path.iterdir():
        entry.write_bytes(b"not bytecode")
    assert render(make_environment(cache=tmp_path), TEMPLATE, CONTEXT) == expected


def test_an_unusable_cache_folder_is_skipped(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    text = render(make_environment(cache=not_a_folder), TEMPLATE, CONTEXT)
    assert text == render(make_environment(cache=tmp_path / "fresh"), TEMPLATE, CONTEXT)


def test_an_edited_template_is_not_served_from_the_cache(tmp_path: Path) -> None:
    overlay = tmp_path / "templates"
    overlay.mkdir()
    (overlay / TEMPLATE).write_text("first {{ header }}\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    assert render(make_environment(overlay, cache), TEMPLATE, CONTEXT) == "first # header\n"
    (overlay / TEMPLATE).write_text("second {{ header }}\n")
    assert render(make_environment(overlay, cache), TEMPLATE, CONTEXT) == "second # header\n"
