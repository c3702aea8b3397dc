"""`(macp.sdk.v1.rpc).unsent_params`: a keyword an older SDK took, accepted and not sent until
the request has a field of that name (then it is that field's parameter, sent)."""

from __future__ import annotations

import ast
from pathlib import Path

from codegen_helpers import run_cli

CORE = "proto/macp/v1/core.proto"


def _cancel_session(client_py: Path) -> ast.FunctionDef:
    tree = ast.parse(client_py.read_text(encoding="utf-8"))
    (client,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MacpClient")
    (method,) = (
        n for n in client.body if isinstance(n, ast.FunctionDef) and n.name == "cancel_session"
    )
    return method


def _request_keywords(method: ast.FunctionDef) -> list[str]:
    (call,) = (
        n
        for n in ast.walk(method)
        if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("CancelSessionRequest")
    )
    return [k.arg for k in call.keywords if k.arg]


def _keyword_params(method: ast.FunctionDef) -> list[str]:
    return [a.arg for a in method.args.kwonlyargs]


def test_an_unsent_param_is_a_keyword_that_is_not_sent(repo_root: Path) -> None:
    method = _cancel_session(repo_root / "generated/macp_sdk/client.py")
    assert "cancelled_by" in _keyword_params(method)
    assert "cancelled_by" not in _request_keywords(method)
    assert "accepted and not sent" in (ast.get_docstring(method) or "")


def test_once_the_request_has_the_field_it_is_sent(scratch_project: Path) -> None:
    core = scratch_project / CORE
    old = "message CancelSessionRequest {\n"
    text = core.read_text(encoding="utf-8")
    assert text.count(old) == 1
    core.write_text(
        text.replace(old, old + "  string cancelled_by = 3;\n"),
        encoding="utf-8",
    )
    run = run_cli("generate", "--project-root", str(scratch_project))
    assert run.status == 0, run.err

    method = _cancel_session(scratch_project / "generated/macp_sdk/client.py")
    assert _keyword_params(method).count("cancelled_by") == 1
    assert "cancelled_by" in _request_keywords(method)
    assert "not sent" not in (ast.get_docstring(method) or "")
