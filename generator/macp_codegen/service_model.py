"""The frozen model of the runtime service: what the generated clients and watchers print.

Built by `service_modeling.py` from the service descriptor and its `(macp.sdk.v1.rpc)`
options; the templates `sdk/client.py.jinja` and `sdk/watchers.py.jinja` only read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from macp_core import contract

from .errors import SourceLocation


@dataclass(frozen=True)
class ParamModel:
    field: str  # request field name
    name: str  # Python parameter name
    annotation: str
    default: str  # Python literal, "" when callers must pass it
    validated: bool  # checked non-empty (validate_required) before sending
    none_default: bool  # `T | None = None`; None sends `zero`
    zero: str  # the field's proto default as a Python literal ("" for messages)


@dataclass(frozen=True)
class WatcherModel:
    class_name: str
    async_class_name: str
    base: str  # core shape, macp_core.watcher_base
    async_base: str


@dataclass(frozen=True)
class RpcModel:
    name: str  # RPC name, e.g. GetSession (also the error's operation)
    method: str  # client method, e.g. get_session
    server_streaming: bool
    request_type: str  # e.g. core_pb2.GetSessionRequest
    response_type: str
    response_import: tuple[str, str]  # (package, pb2 module) of the response type
    positional: tuple[ParamModel, ...]
    keyword: tuple[ParamModel, ...]
    auth_required: bool
    capability: str  # dotted Capabilities path, "" when ungated
    ack_field: str  # "" unless the method returns a checked Ack
    ack_type: str
    page_method: str  # "" unless paginated
    page_items: str
    page_item_type: str
    watcher: WatcherModel | None
    return_type: str  # of the sync method (streams: Iterator[...]; paginated: every item)
    async_return_type: str
    page_return_type: str  # of <method>_page, "" unless paginated
    summary: str  # the rpc's proto comment
    doc: str  # the method's docstring: summary plus what the options add
    page_doc: str  # docstrings of <method>_page and of the every-page method ("" unless paginated)
    all_pages_doc: str
    location: SourceLocation
    # Keyword parameters accepted and not sent (`unsent_params`: no request field has them).
    unsent: tuple[ParamModel, ...] = ()
    request_check: str = ""  # a function of macp_core.request_checks, "" for none
    response_adapter: str = ""  # a function of macp_core.response_adapters, "" for none

    @property
    def parameters(self) -> tuple[ParamModel, ...]:
        return self.positional + self.keyword

    @property
    def all_pages_keyword(self) -> tuple[ParamModel, ...]:
        """Keyword parameters of the every-page method (the page token is followed for you)."""
        return tuple(p for p in self.keyword if p.field != "page_token")


@dataclass(frozen=True)
class ServiceModel:
    full_name: str  # e.g. macp.v1.MACPRuntimeService
    proto_file: str
    imports: tuple[tuple[str, str], ...]  # (package, pb2 module) the clients import
    rpcs: tuple[RpcModel, ...]  # the generated ones (hand-written RPCs are left out)

    @property
    def watchers(self) -> tuple[RpcModel, ...]:
        return tuple(r for r in self.rpcs if r.watcher is not None)

    @property
    def watcher_imports(self) -> tuple[tuple[str, str], ...]:
        """The pb2 modules the watchers module needs (their RPCs' response types)."""
        return tuple(sorted({r.response_import for r in self.watchers}))

    @property
    def uses_sequence(self) -> bool:
        return any(p.annotation.startswith("Sequence[") for r in self.rpcs for p in r.parameters)

    @property
    def request_checks(self) -> tuple[str, ...]:
        """Core request checks the clients import, sorted."""
        return tuple(sorted({r.request_check for r in self.rpcs if r.request_check}))

    @property
    def response_adapters(self) -> tuple[str, ...]:
        """Core response adapters the clients import, sorted."""
        return tuple(sorted({r.response_adapter for r in self.rpcs if r.response_adapter}))

    @property
    def adapter_result_types(self) -> tuple[str, ...]:
        """The types those adapters return (imported for the methods' annotations), sorted."""
        return tuple(sorted({contract.RESPONSE_ADAPTERS[a] for a in self.response_adapters}))

    @property
    def uses_validation(self) -> bool:
        return any(p.validated for r in self.rpcs for p in r.parameters)

    @property
    def uses_ack(self) -> bool:
        return any(r.ack_field for r in self.rpcs)


@dataclass(frozen=True)
class ClientFlavour:
    """What differs between the generated blocking and asyncio clients (and watchers)."""

    is_async: bool
    module: str  # macp_sdk.<module>
    class_name: str  # MacpClient / AsyncMacpClient
    base_module: str  # the core module of the base class
    base_class: str
    doc: str
    def_keyword: str  # of unary methods: "def" / "async def"
    stream_def_keyword: str  # watch methods return (async) iterators: always "def"
    await_keyword: str  # "" / "await "
