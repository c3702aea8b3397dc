"""The reference pages list what the code has: every option of options.proto, every
configuration key, every CLI command and flag, every field of the template context."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest
from conftest import REPO
from macp_codegen import (
    config,
    core_contract,
    docs_model,
    facts,
    model,
    policy_model,
    service_model,
)
from macp_codegen.cli import _parser

DOCS = REPO / "docs"
OPTIONS_PROTO = REPO / "generator/macp_codegen/proto/macp/sdk/v1/options.proto"


def _spec_fields(message: str) -> list[str]:
    text = OPTIONS_PROTO.read_text()
    body = re.search(rf"message {message} \{{(.*?)\n\}}", text, re.S)
    assert body, message
    return re.findall(r"^\s+(?:repeated |optional )?[\w.<>, ]+ (\w+) = \d+;", body.group(1), re.M)


@pytest.mark.parametrize(
    "message", ["ModeSpec", "ActionSpec", "FieldSpec", "RpcSpec", "WatcherSpec"]
)
def test_every_option_is_documented(message: str) -> None:
    page = (DOCS / "options.md").read_text()
    names = _spec_fields(message)
    assert len(names) >= 2, names
    missing = [n for n in names if f"`{n}`" not in page and f"{n}," not in page]
    assert not missing, f"{message} fields missing from docs/options.md: {missing}"


def test_every_configuration_key_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \|", page, re.M))
    assert rows == config._KNOWN_KEYS


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_flag_is_documented() -> None:
    page = (DOCS / "cli.md").read_text()
    for name, command in _subcommands().items():
        assert f"## `macp-codegen {name}`" in page, name
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in page or f", `{flag}`" in page, (name, flag)


CONTEXT_MODULES = (model, service_model, facts, docs_model, core_contract, policy_model)


def _context_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for module in CONTEXT_MODULES:
        for name, value in vars(module).items():
            if (
                dataclasses.is_dataclass(value)
                and isinstance(value, type)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[name] = value
    return found


def test_template_context_page_lists_every_class_and_field() -> None:
    page = (DOCS / "template-context.md").read_text()
    sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^##|\Z)", page, re.M | re.S))
    classes = _context_classes()
    assert set(classes) <= set(sections), set(classes) - set(sections)
    for name, cls in classes.items():
        listed = re.findall(r"^\| `(\w+)` \|", sections[name], re.M)
        fields = [f.name for f in dataclasses.fields(cls)]
        assert fields == listed[: len(fields)], f"{name}: page lists {listed}, model has {fields}"


def test_mode_pages_are_linked_from_the_site() -> None:
    link = DOCS / "modes"
    assert link.is_symlink() and link.resolve() == (REPO / "generated" / "docs" / "modes")
    index = (link / "index.md").read_text()
    for page in sorted(p.name for p in link.glob("*.md") if p.name != "index.md"):
        assert f"]({page})" in index, page
    nav = (REPO / "mkdocs.yml").read_text()
    for page in ("modes/index.md", "compat.md", "performance.md", "tutorial.md"):
        assert page in nav, page


def test_every_docs_page_is_reachable() -> None:
    """Pages not in mkdocs.yml's nav are only the generated mode pages (linked from the index)."""
    nav = (REPO / "mkdocs.yml").read_text()
    for page in DOCS.rglob("*.md"):
        relative = page.relative_to(DOCS).as_posix()
        if not relative.startswith("modes/"):
            assert relative in nav, f"{relative} is not in mkdocs.yml's nav"
