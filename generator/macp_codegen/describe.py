"""`macp-codegen describe`: the model exactly as the generator understands it.

A tree for people, JSON (`--format json`) for tools. Both are printed from the same
`describe(model)` data, so they never disagree; every element says where it was declared.
"""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .model import ActionModel, FieldModel, ModeModel, SdkModel

FORMATS = ("tree", "json")
# Bumped when the JSON shape changes incompatibly (tools may check it).
SCHEMA_VERSION = 1


def describe(model: SdkModel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": __version__,
        "modes": [_mode(m) for m in model.modes],
    }
    if model.service is not None:
        data["service"] = {
            "name": model.service.full_name,
            "proto": model.service.proto_file,
            "client_methods": [
                {"rpc": r.name, "method": r.method, "streaming": r.server_streaming}
                for r in model.service.rpcs
            ],
        }
    return data


def render_json(model: SdkModel) -> str:
    return json.dumps(describe(model), indent=2) + "\n"


def render_tree(model: SdkModel, *, verbose: bool = False) -> str:
    """Modes, their options, actions and fields; `verbose` adds docs and source locations."""
    data = describe(model)
    lines: list[str] = []
    for mode in data["modes"]:
        lines.append(f"{mode['id']}  ({mode['kind']}, {mode['location']})")
        options = [
            f"version {mode['version']}",
            f"session {mode['session_class']} / {mode['async_session_class']}",
            f"projection {mode['projection_class']}",
            f"terminal {', '.join(mode['terminal_message_types'])}",
        ]
        for key in ("participant_model", "determinism_class"):
            if mode[key]:
                options.append(f"{key.replace('_', ' ')} {mode[key]}")
        lines.extend(f"│ {option}" for option in options)
        if verbose and mode["doc"]:
            lines.append(f"│ doc: {mode['doc']}")
        for index, action in enumerate(mode["actions"]):
            last = index == len(mode["actions"]) - 1
            branch, stem = ("└─", "   ") if last else ("├─", "│  ")
            lines.append(f"{branch} {action['message_type']}  →  {action['signature']}")
            details = []
            if action["aliases"]:
                details.append(f"aliases: {', '.join(action['aliases'])}")
            if action["senders"]:
                details.append(f"senders: {', '.join(action['senders'])}")
            if action["subject_field"]:
                details.append(f"subject: {action['subject_field']}")
            if verbose:
                details.append(f"at {action['location']}")
            if details:
                lines.append(f"{stem}   ({'; '.join(details)})")
            for field in action["fields"]:
                lines.append(f"{stem}   {_field_line(field, verbose)}")
    if "service" in data:
        service = data["service"]
        methods = ", ".join(m["method"] for m in service["client_methods"])
        lines.append(f"{service['name']}  ({service['proto']})")
        lines.append(f"└─ client methods: {methods}")
    return "\n".join(lines) + "\n"


def _field_line(field: dict[str, Any], verbose: bool) -> str:
    shown = "(hidden)" if field["hidden"] else field["param"]
    text = f"{field['number']:>2} {field['name']}: {field['annotation']}  [{shown}]"
    rules = [key for key in ("required", "no_default", "from_sender") if field[key]]
    if field["allowed"]:
        rules.append("allowed " + "|".join(field["allowed"]))
    if field["normalize"]:
        rules.append(f"normalize {field['normalize']}")
    if field["min"] is not None:
        rules.append(f"min {field['min']}")
    if field["max"] is not None:
        rules.append(f"max {field['max']}")
    if field["references"]:
        rules.append(f"references {field['references']}")
    if field["default"] and not (field["no_default"] or field["required"] or field["hidden"]):
        rules.append(f"default {field['default']}")
    if rules:
        text += "  " + ", ".join(rules)
    if verbose:
        text += f"  (at {field['location']})"
    return text


def _mode(mode: ModeModel) -> dict[str, Any]:
    return {
        "id": mode.id,
        "short_name": mode.short_name,
        "version": mode.version,
        "title": mode.title,
        "kind": "standard" if mode.standard else "extension",
        "package": mode.package,
        "proto": mode.proto_file,
        "location": str(mode.location),
        "participant_model": mode.participant_model,
        "determinism_class": mode.determinism_class,
        "terminal_message_types": list(mode.terminal_message_types),
        "message_types": list(mode.message_types),
        "session_class": mode.session_class,
        "async_session_class": mode.async_session_class,
        "projection_class": mode.projection_class,
        "session_module": f"macp_sdk.{mode.session_module}",
        "doc": " ".join(mode.doc.split()),
        "actions": [_action(a) for a in mode.actions],
    }


def _action(action: ActionModel) -> dict[str, Any]:
    params = [f.param for f in action.positional]
    if action.keyword:
        params += ["*", *(f.param for f in action.keyword)]
    return {
        "message_type": action.message_type,
        "message": action.full_name,
        "method": action.method,
        "signature": f"{action.method}({', '.join(params)})",
        "aliases": list(action.aliases),
        "senders": list(action.senders),
        "subject_field": action.subject_field,
        "positional": [f.param for f in action.positional],
        "location": str(action.location),
        "doc": " ".join(action.doc.split()),
        "fields": [_field(f) for f in action.fields],
    }


def _field(field: FieldModel) -> dict[str, Any]:
    return {
        "name": field.name,
        "number": field.number,
        "param": field.param,
        "proto_type": field.proto_type,
        "annotation": field.annotation,
        "repeated": field.repeated,
        "required": field.required,
        "no_default": field.no_default,
        "default": field.default,
        "allowed": list(field.allowed),
        "normalize": field.normalize,
        "min": field.minimum,
        "max": field.maximum,
        "from_sender": field.from_sender,
        "hidden": field.hidden,
        "references": field.references,
        "location": str(field.location),
    }
