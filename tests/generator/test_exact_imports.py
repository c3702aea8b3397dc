"""Generated import blocks are exact as rendered: the model decides them (import_plans.py),
imports.py prints them in ruff's isort order, and the generator runs only `ruff format`.

So ruff's import rules (I: sorted blocks, F401: unused imports) and F821 (an undefined name:
an import the model missed) find nothing in the raw renders of every golden case, the
project's own modes and a mode package. A template that
starts importing something it does not use fails here instead of being silently fixed.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import macp_codegen.project as project_module
import pytest
from codegen_helpers import run_cli
from macp_codegen.formatting import IMPORT_RULES, RUFF_SETTINGS
from macp_codegen.imports import Imports
from macp_codegen.render import BUILTIN_TEMPLATES
from ruff.__main__ import find_ruff_bin

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = ("own", "plugin", *sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
EXACT = f"{IMPORT_RULES},F821"  # nothing unused or unsorted, nothing missing


def _ruff_findings(root: Path, rules: str = IMPORT_RULES) -> list[str]:
    """`path:line: code message` of each finding of ruff's `rules` under root."""
    command = [find_ruff_bin(), "check", "--select", rules, "--output-format", "json"]
    result = subprocess.run(
        [*command, *RUFF_SETTINGS, "--exit-zero", str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        f"{Path(f['filename']).relative_to(root)}:{f['location']['row']}: "
        f"{f['code']} {f['message']}"
        for f in json.loads(result.stdout)
    ]


def _raw_render(
    case: str, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    """The Python files `generate` renders for `case`, as the templates printed them."""
    raw: dict[str, bytes] = {}
    real = project_module.format_python

    def keep_raw(
        sources: dict[str, bytes], workdir: Path | None = None, *, fix_imports: bool = False
    ) -> dict[str, bytes]:
        assert not fix_imports  # no overlay: the generator never asks ruff to fix imports
        raw.update(sources)
        return real(sources, workdir, fix_imports=fix_imports)

    monkeypatch.setattr(project_module, "format_python", keep_raw)
    output = tmp_path / "out"
    args = ["generate", "--project-root", str(tmp_path), "--output", str(output)]
    args += ["--include", str(repo_root / "proto")]
    if case == "own":
        args += ["--proto-root", str(repo_root / "proto")]
    elif case == "plugin":  # a mode package of its own, plugged into the installed SDK
        tmp_path.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pyproject.toml").write_text(
            '[project]\nname = "acme-modes"\n[tool.macp-codegen]\nsdk_package = "acme_modes"\n'
        )
        args += ["--proto-root", str(GOLDEN / "widget" / "proto")]
    else:
        args += ["--proto-root", str(GOLDEN / case / "proto")]
    result = run_cli(*args)
    assert result.status == 0, result.err
    assert raw, "nothing was rendered"
    return raw


@pytest.mark.parametrize("case", CASES)
def test_raw_renders_have_nothing_for_ruffs_import_rules_to_fix(
    case: str, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _raw_render(case, tmp_path / "project", repo_root, monkeypatch)
    root = tmp_path / "raw"
    for path, text in raw.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text)
    assert any(p.startswith(("macp_sdk/modes/", "acme_modes/modes/")) for p in raw)
    assert _ruff_findings(root, EXACT) == []


def test_the_check_finds_an_unused_or_unsorted_import(tmp_path: Path) -> None:
    """The test above can fail: the same check on a module with each fault reports it."""
    (tmp_path / "bad.py").write_text("import sys\nimport os\n\nprint(os.sep, Mapping)\n")
    findings = _ruff_findings(tmp_path, EXACT)
    assert any(" I001 " in f for f in findings)
    assert any(" F401 " in f and "sys" in f for f in findings)
    assert any(" F821 " in f and "Mapping" in f for f in findings)


def test_a_user_template_still_gets_its_imports_fixed(tmp_path: Path, repo_root: Path) -> None:
    """Overlaid templates are the user's: their unused imports are dropped as before."""
    overlay = tmp_path / "templates" / "sdk"
    overlay.mkdir(parents=True)
    facts = (BUILTIN_TEMPLATES / "sdk" / "facts.py.jinja").read_text()
    assert "{{ imports.top }}\n" in facts
    facts = facts.replace("{{ imports.top }}\n", "{{ imports.top }}\nimport sys\n", 1)
    (overlay / "facts.py.jinja").write_text(facts)
    output = tmp_path / "out"
    result = run_cli(
        "generate",
        "--project-root",
        str(tmp_path),
        "--proto-root",
        str(GOLDEN / "widget" / "proto"),
        "--include",
        str(repo_root / "proto"),
        "--templates",
        str(overlay.parent),
        "--output",
        str(output),
    )
    assert result.status == 0, result.err
    written = (output / "macp_sdk" / "facts" / "widget.py").read_text()
    assert "from typing import Final" in written
    assert "import sys" not in written


# A template line that imports at module level or under `if TYPE_CHECKING:` (at most one
# indentation level); imports inside function bodies are code, not the module's block.
_IMPORT_LINE = re.compile(r"^( {0,4})(from \S+ import |import \S)")


def test_no_template_hard_codes_an_import_block() -> None:
    offending = [
        f"{template.relative_to(BUILTIN_TEMPLATES)}:{number}: {line.strip()}"
        for template in sorted(BUILTIN_TEMPLATES.rglob("*.jinja"))
        for number, line in enumerate(template.read_text().splitlines(), 1)
        if _IMPORT_LINE.match(line)
    ]
    assert offending == [], "print the model's imports (import_plans.py) instead"


_MODULES = ["os", "os.path", "typing", "collections.abc", "zlib", "google.protobuf", "grpc"]
_MODULES += ["macp.v1", "macp_core._wkt", "pkg", "pkg.sub", "pkg.sub2", "pkg.sub10"]
_MODULES += [".", ".a", ".a_b", "..a", "..b.c", "...x", "__future__"]
_NAMES = ["TYPE_CHECKING", "A", "Any", "ClassVar", "cast", "x1", "x10", "x2", "_p", "MODE_X"]
_NAMES += ["a_very_long_name_of_a_function_that_wraps", "AnotherRatherLongClassNameForWrap"]


def test_the_bookkeeper_prints_what_ruffs_isort_wants(tmp_path: Path) -> None:
    """Random import sets (seeded): each printed block is one ruff's I rule leaves alone."""
    rng = random.Random(11)
    for index in range(120):
        imports = Imports("pkg")
        for _ in range(rng.randint(1, 14)):
            module, typing = rng.choice(_MODULES), rng.random() < 0.3
            if module == "__future__":
                imports.name(module, "annotations")
            elif rng.random() < 0.2 and not module.startswith("."):
                imports.module(module, rng.choice(["", "", "_alias"]), typing=typing)
            else:
                name = rng.choice(_NAMES)
                alias = rng.choice(["", "", "", name, "other"])
                expanded = rng.random() < 0.2
                imports.name(module, name, alias, typing=typing, expanded=expanded)
        if imports.checking:
            imports.name("typing", "TYPE_CHECKING")
        text = imports.top + "\n"
        if imports.checking:
            text += "\n" + imports.checking + "\n"
        path = tmp_path / "pkg" / f"case{index}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    assert _ruff_findings(tmp_path, "I") == []
