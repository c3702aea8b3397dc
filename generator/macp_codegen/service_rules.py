"""SDK breaking rules for the generated clients, read from two versions' service models.

- client-method-removed: an RPC's client method is gone (the RPC was removed, or made one the
  core writes by hand).
- client-method-renamed: its `(macp.sdk.v1.rpc).method` changed.
- watcher-removed / watcher-renamed: a watcher class is gone or has a new name.
- parameter-removed / parameter-now-mandatory: a call that worked before now fails.
RPCs are matched by name.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import SourceLocation
from .findings import Finding
from .service_model import RpcModel, ServiceModel

CLIENTS = "MacpClient/AsyncMacpClient"


def service_findings(old: ServiceModel | None, new: ServiceModel | None) -> list[Finding]:
    if old is None:
        return []
    by_name = {rpc.name: rpc for rpc in new.rpcs} if new is not None else {}
    findings: list[Finding] = []
    for rpc in old.rpcs:
        match = by_name.get(rpc.name)
        if match is None:
            findings.append(
                _sdk(
                    "client-method-removed",
                    rpc.location,
                    f"client method {CLIENTS}.{rpc.method} was removed (rpc {rpc.name})",
                )
            )
        else:
            findings.extend(_rpc_findings(rpc, match))
    return findings


def _rpc_findings(old: RpcModel, new: RpcModel) -> Iterator[Finding]:
    where = new.location
    if old.method != new.method:
        yield _sdk(
            "client-method-renamed",
            where,
            f"client method {CLIENTS}.{old.method} is now {new.method} (rpc {new.name})",
        )
    if old.watcher is not None:
        if new.watcher is None:
            yield _sdk("watcher-removed", where, f"watcher {old.watcher.class_name} was removed")
        elif old.watcher.class_name != new.watcher.class_name:
            yield _sdk(
                "watcher-renamed",
                where,
                f"watcher {old.watcher.class_name} is now {new.watcher.class_name}",
            )
    before = {p.name: p for p in old.parameters}
    after = {p.name: p for p in new.parameters}
    for name in sorted(set(before) - set(after)):
        yield _sdk(
            "parameter-removed",
            where,
            f"{CLIENTS}.{new.method}() no longer takes argument {name!r}",
        )
    for name, param in after.items():
        previous = before.get(name)
        if not param.default and (previous is None or previous.default):
            yield _sdk(
                "parameter-now-mandatory",
                where,
                f"{CLIENTS}.{new.method}() now needs argument {name!r}",
            )


def _sdk(rule: str, location: SourceLocation, message: str) -> Finding:
    return Finding("sdk", rule, location, message)
