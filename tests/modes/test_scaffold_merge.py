"""Regenerating never loses an edit to a scaffolded projection file.

Hypothesis edits the decision scaffold arbitrarily (comments, blank lines, new methods, changed
hook bodies, module-level code), then the mode gains an action. The merge must keep every
edited line, in order and byte for byte, add the new hook, report hooks of removed actions,
and be idempotent.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from macp_codegen.compile import compile_protos
from macp_codegen.import_plans import scaffold_imports
from macp_codegen.model import ModeModel
from macp_codegen.modeling import build_model
from macp_codegen.render import make_environment, render
from macp_codegen.scaffold import merge_scaffold

REPO = Path(__file__).resolve().parents[2]


def _decision() -> ModeModel:
    compiled = compile_protos(REPO / "proto")
    model = build_model(compiled.descriptor_set, compiled.targets, compiled.source_paths)
    return next(m for m in model.modes if m.short_name == "decision")


DECISION = _decision()


def _scaffold(mode: ModeModel) -> str:
    context = {"mode": mode, "imports": scaffold_imports(mode, "macp_sdk")}
    return render(make_environment(), "sdk/projections/scaffold.py.jinja", context)


def _with_extra_action(mode: ModeModel) -> ModeModel:
    vote = mode.actions[-1]
    veto = replace(
        vote,
        message_type="Veto",
        message_name="VetoPayload",
        method="veto",
        hook="on_veto",
        record_class="VetoRecord",
    )
    return replace(mode, actions=(*mode.actions, veto))


def _insert(lines: list[str], at: int, new: list[str]) -> list[str]:
    at = max(0, min(at, len(lines)))
    return lines[:at] + new + lines[at:]


comment = st.from_regex(r"# [a-z ]{0,20}", fullmatch=True)
edit = st.one_of(
    st.tuples(st.just("comment"), st.integers(0, 200), comment),
    st.tuples(st.just("blank"), st.integers(0, 200), st.just("")),
    st.tuples(
        st.just("method"), st.integers(0, 10_000), st.from_regex(r"[a-z]{1,8}", fullmatch=True)
    ),
    st.tuples(st.just("body"), st.integers(0, 3), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
    st.tuples(
        st.just("module"), st.integers(0, 10_000), st.from_regex(r"[A-Z]{1,8}", fullmatch=True)
    ),
)


def _apply(text: str, edits: list[tuple[str, int, str]]) -> str:
    lines = text.splitlines()
    for kind, where, word in edits:
        if kind in ("comment", "blank"):
            # Only between statements of the class body or module, never inside a bracket.
            safe = [i for i, line in enumerate(lines) if line.startswith("    def ") or line == ""]
            lines = _insert(
                lines, safe[where % len(safe)], [("    " if kind == "comment" else "") + word]
            )
        elif kind == "method":
            lines += ["", f"    def helper_{word}(self) -> str:", f"        return {word!r}"]
        elif kind == "body":
            hooks = [i for i, line in enumerate(lines) if line.strip().startswith("super().on_")]
            if hooks:
                lines[hooks[where % len(hooks)]] = f"        self.note_{word} = 1"
        elif kind == "module":
            lines = _insert(
                lines, len(lines), ["", "", f"def {word.lower()}_tool() -> int:", "    return 1"]
            )
            lines = _insert(lines, len(lines), [])
    return "\n".join(lines) + "\n"


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    iterator = iter(big)
    return all(any(line == other for other in iterator) for line in small)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(edit, max_size=12))
def test_every_edit_survives_a_regeneration_that_adds_a_hook(
    edits: list[tuple[str, int, str]],
) -> None:
    edited = _apply(_scaffold(DECISION), edits)
    ast.parse(edited)  # the edits themselves keep the file valid
    grown = _with_extra_action(DECISION)

    merged = merge_scaffold(edited, _scaffold(grown), grown, "decision.py")

    assert merged.added_hooks == ("on_veto",)
    assert "VetoRecord" in merged.added_imports
    assert _is_subsequence(edited.splitlines(), merged.text.splitlines())
    assert "    def on_veto(self, record: VetoRecord) -> None:" in merged.text
    ast.parse(merged.text)
    again = merge_scaffold(merged.text, _scaffold(grown), grown, "decision.py")
    assert again.text == merged.text and again.added_hooks == ()


def test_hooks_of_removed_actions_are_reported_not_deleted() -> None:
    text = _scaffold(DECISION)
    shrunk = replace(DECISION, actions=DECISION.actions[:-1])  # Vote is gone
    merged = merge_scaffold(text, _scaffold(shrunk), shrunk, "decision.py")
    assert merged.orphaned_hooks == ("on_vote",)
    assert merged.text == text


def test_an_unchanged_mode_leaves_the_file_byte_identical() -> None:
    text = _scaffold(DECISION) + "\n# a note of mine\n"
    merged = merge_scaffold(text, _scaffold(DECISION), DECISION, "decision.py")
    assert merged.text == text and not merged.added_hooks
