"""Import bookkeeping for generated Python: which modules and names a file imports, printed the
way ruff's isort (`I`, this project's settings in formatting.RUFF_SETTINGS) orders them.

The model decides what a file uses and adds exactly that here; templates print `top` (the
module's import block) and `checking` (the `if TYPE_CHECKING:` block). Nothing is left for
`ruff check --fix` to delete or sort, so the generator runs only `ruff format`
(tests/generator/test_exact_imports.py runs ruff's I and F401 rules on raw renders).

The ordering follows ruff's isort defaults: sections future, standard library, third party,
first party (the file's own top-level package), local folder (relative imports), one blank line
between them; in a section `import x` lines before `from x import ...` lines, modules ordered
case-insensitively and naturally (digits by value), relative modules furthest first; members
constants, then classes, then the rest; an aliased member (`name as alias`) on a line of its own.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

LINE_LENGTH = 100  # formatting.RUFF_SETTINGS --line-length
INDENT = "    "

_SECTIONS = ("future", "stdlib", "third", "first", "local")
_CHUNKS = re.compile(r"(\d+)")


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """ruff's natural order, case-insensitive: digits compare by value."""
    return tuple(
        (0, int(chunk)) if chunk.isdigit() else (1, chunk)
        for chunk in _CHUNKS.split(text.lower())
        if chunk
    )


def _member_type(name: str) -> int:
    """0 constant (ALL_CAPS, longer than one letter), 1 class (Capitalised), 2 anything else."""
    if len(name) > 1 and name.upper() == name and name.lower() != name:
        return 0
    return 1 if name[:1].isupper() else 2


def _member_key(name: str, alias: str) -> tuple[object, ...]:
    return (_member_type(name), natural(name), name, natural(alias), alias)


@dataclass(frozen=True)
class _Statement:
    module: str  # "x.y" or relative ".x", "..x", "."
    members: tuple[tuple[str, str], ...]  # (name, alias) of a from-import; () for `import x`
    alias: str = ""  # `import x as alias`
    expanded: bool = False  # one member a line even when it fits (a magic trailing comma)

    def key(self) -> tuple[object, ...]:
        level = len(self.module) - len(self.module.lstrip("."))
        first = _member_key(*self.members[0]) if self.members else ()
        return (
            0 if not self.members else 1,  # `import x` before `from x import`
            -level,  # furthest relative module first
            natural(self.module.lstrip(".")),
            self.module,
            first,
            natural(self.alias),
        )

    def lines(self, indent: str) -> list[str]:
        if not self.members:
            tail = f" as {self.alias}" if self.alias else ""
            return [f"{indent}import {self.module}{tail}"]
        names = [f"{n} as {a}" if a else n for n, a in self.members]
        line = f"{indent}from {self.module} import {', '.join(names)}"
        if len(line) <= LINE_LENGTH and not self.expanded:
            return [line]
        inner = indent + INDENT
        return [
            f"{indent}from {self.module} import (",
            *(f"{inner}{name}," for name in names),
            f"{indent})",
        ]


@dataclass
class Imports:
    """The imports of one generated module in `package` (its dotted package, for telling
    first-party modules from third-party ones)."""

    package: str
    # Keyed by (module, scope): "" the module's block, "checking" under `if TYPE_CHECKING:`,
    # "otherwise" under its `else:` (names loaded lazily at run time).
    _modules: dict[tuple[str, str], str] = field(default_factory=dict)  # -> alias
    _names: dict[tuple[str, str], dict[tuple[str, str], bool]] = field(default_factory=dict)

    def module(
        self, module: str, alias: str = "", *, typing: bool = False, otherwise: bool = False
    ) -> Imports:
        """`import module` (as `alias`)."""
        self._modules[(module, _scope(typing, otherwise))] = alias
        return self

    def names(
        self, module: str, names: Iterable[str], *, typing: bool = False, expanded: bool = False
    ) -> Imports:
        """`from module import name, ...`; `expanded`: printed one name a line, as ruff keeps a
        parenthesised import with a trailing comma even when it would fit on one line."""
        for name in names:
            self.name(module, name, typing=typing, expanded=expanded)
        return self

    def name(
        self,
        module: str,
        name: str,
        alias: str = "",
        *,
        typing: bool = False,
        expanded: bool = False,
    ) -> Imports:
        """`from module import name` (as `alias`; `name as name` re-exports it)."""
        members = self._names.setdefault((module, _scope(typing, False)), {})
        members[(name, alias)] = members.get((name, alias), False) or expanded
        return self

    def when(self, condition: bool, module: str, *names: str, typing: bool = False) -> Imports:
        """`from module import names` if `condition` (the model says the file uses them)."""
        if condition and names:
            self.names(module, names, typing=typing)
        return self

    @property
    def top(self) -> str:
        """The module's import block (no trailing newline)."""
        return self._block("", indent="")

    @property
    def checking(self) -> str:
        """`if TYPE_CHECKING:` and its imports, or "" when there are none."""
        body = self.checking_body
        return f"if TYPE_CHECKING:\n{body}" if body else ""

    @property
    def checking_body(self) -> str:
        """The imports under `if TYPE_CHECKING:`, indented."""
        return self._block("checking", indent=INDENT)

    @property
    def otherwise_body(self) -> str:
        """The imports under the `else:` of `if TYPE_CHECKING:`, indented."""
        return self._block("otherwise", indent=INDENT)

    def _block(self, scope: str, *, indent: str) -> str:
        sections: dict[str, list[_Statement]] = {s: [] for s in _SECTIONS}
        for (module, in_scope), alias in self._modules.items():
            if in_scope == scope:
                sections[self._section(module)].append(_Statement(module, (), alias))
        for (module, in_scope), members in self._names.items():
            if in_scope != scope or not members:
                continue
            plain = sorted((m for m in members if not m[1]), key=lambda m: _member_key(*m))
            statements = (
                [_Statement(module, tuple(plain), expanded=any(members[m] for m in plain))]
                if plain
                else []
            )
            statements += [_Statement(module, (m,), expanded=members[m]) for m in members if m[1]]
            sections[self._section(module)].extend(statements)
        blocks = []
        for name in _SECTIONS:
            statements = sorted(sections[name], key=_Statement.key)
            if statements:
                blocks.append("\n".join(line for s in statements for line in s.lines(indent)))
        return "\n\n".join(blocks)

    def _section(self, module: str) -> str:
        if module.startswith("."):
            return "local"
        top = module.split(".")[0]
        if top == "__future__":
            return "future"
        if top in sys.stdlib_module_names:
            return "stdlib"
        return "first" if top == self.package.split(".")[0] else "third"


def _scope(typing: bool, otherwise: bool) -> str:
    return "checking" if typing else "otherwise" if otherwise else ""
