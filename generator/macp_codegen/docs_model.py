"""The per-mode reference pages (`docs/modes/<mode>.md` in the output), as a frozen model.

Every cell of the page is decided here (constraint wording, escaping for Markdown tables);
`templates/docs/mode.md.jinja` only prints it. The pages are generated output like the SDK:
written by the one writer, listed in the manifest and compared by `check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import ModeFacts
from .model import ActionModel, FieldModel, ModeModel
from .naming import qualified_name

DOCS_DIR = "docs/modes"  # relative to the output folder


@dataclass(frozen=True)
class FieldRow:
    name: str  # proto field name
    param: str  # Python parameter ("" when the field is never a parameter)
    type: str  # the parameter's annotation, or the proto type of a hidden field
    rules: str  # constraints in words, "" when none
    doc: str


@dataclass(frozen=True)
class ActionDoc:
    message_type: str
    method: str
    aliases: str  # ", "-joined, "" when none
    signature: str  # e.g. vote(proposal_id, vote, *, reason="")
    senders: str  # who may send it in words, "" when the proto does not say
    builder: str
    record_class: str
    records_attr: str
    hook: str
    doc: str
    fields: tuple[FieldRow, ...]


@dataclass(frozen=True)
class ModeDoc:
    path: str  # relative to the output folder
    page: str  # file name, as the index links to it
    mode: ModeModel
    facts_module: str  # e.g. macp_sdk.facts.decision
    kind: str  # "standards-track" or "extension"
    terminal: str  # ", "-joined terminal message types
    anomalies: tuple[str, ...]
    value_sets: tuple[tuple[str, str, str], ...]  # (constant, field, allowed values)
    actions: tuple[ActionDoc, ...]
    doc: str


def index_path() -> str:
    """The page listing every mode, linking to each mode's page."""
    return f"{DOCS_DIR}/index.md"


def mode_doc(facts: ModeFacts) -> ModeDoc:
    mode = facts.mode
    return ModeDoc(
        path=f"{DOCS_DIR}/{facts.module}.md",
        page=f"{facts.module}.md",
        mode=mode,
        facts_module=f"macp_sdk.facts.{facts.module}",
        kind="standards-track" if mode.standard else "extension",
        terminal=", ".join(mode.terminal_message_types),
        anomalies=tuple(a.value for a in facts.anomalies),
        value_sets=tuple(
            (v.name, v.field, ", ".join(f"`{a}`" for a in v.allowed)) for v in facts.value_sets
        ),
        actions=tuple(_action_doc(mode, a) for a in mode.actions),
        doc=_one_line(mode.doc or mode.description),
    )


def _action_doc(mode: ModeModel, action: ActionModel) -> ActionDoc:
    return ActionDoc(
        message_type=action.message_type,
        method=action.method,
        aliases=", ".join(f"`{a}`" for a in action.aliases),
        signature=_signature(action),
        senders=action.senders_text,
        builder=action.builder,
        record_class=action.record_class,
        records_attr=action.records_attr,
        hook=qualified_name(mode.projection_class, action.hook),
        doc=_one_line(action.doc),
        fields=tuple(_field_row(f) for f in action.fields),
    )


def _signature(action: ActionModel) -> str:
    params = [f.param for f in action.positional]
    if action.keyword:
        params.append("*")
        params.extend(f.param if f.no_default else f"{f.param}={f.default}" for f in action.keyword)
    return f"{action.method}({', '.join(params)})"


def _field_row(field: FieldModel) -> FieldRow:
    return FieldRow(
        name=field.name,
        param="" if field.hidden else field.param,
        type=field.proto_type if field.hidden else field.annotation,
        rules=_cell(_rules(field)),
        doc=_cell(_one_line(field.doc)),
    )


def _rules(field: FieldModel) -> str:
    rules: list[str] = []
    if field.required:
        rules.append("required (non-empty)")
    elif field.no_default:
        rules.append("must be passed")
    if field.allowed:
        rules.append("one of " + ", ".join(f"`{a}`" for a in field.allowed))
    if field.normalize:
        rules.append(f"normalised to {field.normalize} case")
    if field.minimum is not None:
        rules.append(f"≥ {_number(field.minimum)}")
    if field.maximum is not None:
        rules.append(f"≤ {_number(field.maximum)}")
    if field.from_sender:
        rules.append("filled with the sender when empty")
    if field.hidden:
        rules.append("set by the runtime, never a parameter")
    if field.references:
        rules.append(f"refers to a `{field.references}`")
    return "; ".join(rules)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
