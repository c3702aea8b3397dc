"""User templates overlay the built-in ones; template mistakes are located errors."""

from __future__ import annotations

import re
from pathlib import Path

from codegen_helpers import run_cli, tree_fingerprint


def test_an_overlay_template_replaces_the_builtin_one_by_name(scratch_project: Path) -> None:
    overlay = scratch_project / "my_templates"
    overlay.mkdir()
    (overlay / "package_init.py.jinja").write_text('{{ header }}\n"""Our own package note."""\n')
    result = run_cli(
        "generate", "--project-root", str(scratch_project), "--templates", str(overlay)
    )
    assert result.status == 0, result.err
    init = (scratch_project / "generated" / "macp" / "v1" / "__init__.py").read_text()
    assert '"""Our own package note."""' in init
    # Templates it does not override still come from the built-in folder.
    assert (scratch_project / "generated" / "macp_sdk" / "modes" / "decision.py").is_file()


def test_a_template_reading_an_unknown_name_is_a_located_error(scratch_project: Path) -> None:
    assert run_cli("generate", "--project-root", str(scratch_project)).status == 0
    before = tree_fingerprint(scratch_project / "generated")
    overlay = scratch_project / "my_templates"
    overlay.mkdir()
    (overlay / "package_init.py.jinja").write_text("{{ header }}\n# {{ header.no_such_field }}\n")
    result = run_cli(
        "generate", "--project-root", str(scratch_project), "--templates", str(overlay)
    )
    assert result.status == 2
    line = result.err.strip()
    assert re.match(r"^.*package_init\.py\.jinja:2: error: template .* undefined", line), line
    assert "no_such_field" in line
    assert tree_fingerprint(scratch_project / "generated") == before


_EXPRESSION = re.compile(r"\{\{(?P<expr>.*?)\}\}")
_COMPUTING = re.compile(
    r"~|\.(rsplit|split|rpartition|partition|replace|upper|lower|join|format)\("
)


def test_builtin_templates_print_names_and_paths_they_do_not_build() -> None:
    """Names and module paths are model fields: no `_apply_{{ x }}`, `a ~ b` or `x.rsplit()`."""
    from macp_codegen.render import BUILTIN_TEMPLATES

    found = []
    for template in sorted(BUILTIN_TEMPLATES.rglob("*.jinja")):
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            for match in _EXPRESSION.finditer(line):
                expr = match["expr"].strip()
                before = line[match.start() - 1 : match.start()]
                after = line[match.end() : match.end() + 1]
                glued = before.isidentifier() or before.isdigit()
                # `{{ "async " if async_ else "" }}def` and `{{ flavour.await_keyword }}self`
                # insert a keyword (with its space), not part of a name.
                inserts_keyword = expr.startswith('"') or expr.endswith("_keyword")
                glued |= (after.isidentifier() or after.isdigit()) and not inserts_keyword
                if glued or _COMPUTING.search(expr):
                    found.append(f"{template.name}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)
