"""Descriptor + `(macp.sdk.v1.rpc)` options -> the frozen `ServiceModel` of the clients.

Every decision about a client method (its name, parameters, defaults, return shape, auth,
capability gate, pagination, Ack checking, watcher) is made here; the templates print it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2
from macp_core import contract

from . import naming
from .core_contract import CONTRACT_FILE
from .errors import NameCollisionError, OptionError, ReservedNameError, SourceLocation
from .locations import SourceIndex
from .options import OptionReader, RpcOptions
from .service_model import ClientFlavour, ParamModel, RpcModel, ServiceModel, WatcherModel

SERVICE_PACKAGE = "macp.v1"  # the runtime service's package
CLIENT_CLASS = "MacpClient"
CAPABILITIES = f".{SERVICE_PACKAGE}.Capabilities"  # what capability gates point into
FILE_SERVICE = 6
SERVICE_METHOD = 2
# Pagination follows the AIP-158 field names.
PAGE_TOKEN = "page_token"
NEXT_PAGE_TOKEN = "next_page_token"
FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    FDP.TYPE_DOUBLE: ("float", "0.0"),
    FDP.TYPE_FLOAT: ("float", "0.0"),
    FDP.TYPE_BOOL: ("bool", "False"),
    FDP.TYPE_STRING: ("str", '""'),
    FDP.TYPE_BYTES: ("bytes", 'b""'),
}
_INTS = {
    FDP.TYPE_INT64,
    FDP.TYPE_UINT64,
    FDP.TYPE_INT32,
    FDP.TYPE_FIXED64,
    FDP.TYPE_FIXED32,
    FDP.TYPE_UINT32,
    FDP.TYPE_SFIXED32,
    FDP.TYPE_SFIXED64,
    FDP.TYPE_SINT32,
    FDP.TYPE_SINT64,
}


class _Types:
    """Full protobuf names -> (pb2 module, Python name inside it) for every type in the set."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.where: dict[str, tuple[str, str]] = {}
        for file in descriptor_set.file:
            module = naming.pb2_module(file.name)
            prefix = f".{file.package}" if file.package else ""
            for enum in file.enum_type:
                self.where[f"{prefix}.{enum.name}"] = (module, f"{enum.name}.ValueType")
            for name, python, message in _walk(prefix, "", file.message_type):
                self.messages[name] = message
                self.where[name] = (module, python)
                for enum in message.enum_type:
                    self.where[f"{name}.{enum.name}"] = (module, f"{python}.{enum.name}.ValueType")
        self.used: set[str] = set()

    def module_of(self, type_name: str) -> tuple[str, str]:
        package, _, module = self.where[type_name][0].rpartition(".")
        return package, module

    def annotation(self, type_name: str) -> str:
        module, python = self.where[type_name]
        self.used.add(module)
        return f"{naming.module_alias(module)}.{python}"


def _walk(
    prefix: str, python_prefix: str, messages: object
) -> Iterator[tuple[str, str, descriptor_pb2.DescriptorProto]]:
    for message in messages:  # type: ignore[attr-defined]
        full, python = f"{prefix}.{message.name}", f"{python_prefix}{message.name}"
        yield full, python, message
        yield from _walk(full, f"{python}.", message.nested_type)


def build_service(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
    targets: tuple[str, ...],
    source_paths: dict[str, Path],
) -> ServiceModel | None:
    """The model of the first service in package macp.v1 among the targets, or None."""
    reader = OptionReader(descriptor_set)
    types = _Types(descriptor_set)
    files = {f.name: f for f in descriptor_set.file}
    for name in sorted(targets):
        file = files[name]
        if file.package != SERVICE_PACKAGE or not file.service:
            continue
        index = SourceIndex(file, source_paths.get(name, Path(name)))
        service = file.service[0]
        rpcs = [
            rpc
            for m_index, method in enumerate(service.method)
            if (
                rpc := _build_rpc(
                    method, (FILE_SERVICE, 0, SERVICE_METHOD, m_index), index, reader, types
                )
            )
            is not None
        ]
        _check_unique_methods(rpcs)
        imports = tuple(sorted(module.rpartition(".")[::2] for module in types.used))
        _check_unique_aliases(imports, index.location(FILE_SERVICE, 0))
        return ServiceModel(
            full_name=f"{file.package}.{service.name}",
            proto_file=file.name,
            imports=imports,
            rpcs=tuple(rpcs),
        )
    return None


def _build_rpc(
    method: descriptor_pb2.MethodDescriptorProto,
    path: tuple[int, ...],
    index: SourceIndex,
    reader: OptionReader,
    types: _Types,
) -> RpcModel | None:
    options = reader.rpc(method)
    where = index.location(*path)
    if method.name in contract.HAND_WRITTEN_RPCS:
        return None
    if method.client_streaming:
        raise OptionError(
            where,
            f"rpc {method.name} streams requests, which a generated client method cannot send",
            f"write its method by hand in macp_core's client bases and list it in "
            f"HAND_WRITTEN_RPCS ({CONTRACT_FILE})",
        )
    request = types.messages[method.input_type]
    response = types.messages[method.output_type]
    name = options.method or naming.snake_case(method.name)
    _check_identifier(name, where, "method")
    _check_not_core_member(name, method.name, where)
    params = [_param(f, reader, types, where) for f in request.field]
    by_field = {p.field: p for p in params}
    for positional in options.positional:
        if positional not in by_field:
            raise OptionError(
                where,
                f"rpc {method.name}: positional field {positional!r} is not a field of "
                f"{request.name}",
                f"name one of: {', '.join(by_field) or '(no fields)'}",
            )
    positional_params = tuple(by_field[f] for f in options.positional)
    keyword = tuple(p for p in params if p.field not in options.positional)
    unsent = _unsent_params(options.unsent_params, params, method, where)
    _check_default_order(positional_params, method.name, where)
    if options.capability:
        _check_capability(options.capability, method.name, where, types)
    if options.request_check and options.request_check not in contract.REQUEST_CHECKS:
        raise OptionError(
            where,
            f"rpc {method.name}: request_check {options.request_check!r} is not a check of "
            "macp_core.request_checks",
            f"use one of {', '.join(sorted(contract.REQUEST_CHECKS)) or '(none)'}",
        )
    adapter = options.response_adapter
    if adapter and (adapter not in contract.RESPONSE_ADAPTERS or method.server_streaming):
        raise OptionError(
            where,
            f"rpc {method.name}: response_adapter {adapter!r} is not an adapter of "
            "macp_core.response_adapters for a unary rpc",
            f"use one of {', '.join(sorted(contract.RESPONSE_ADAPTERS))} on a unary rpc",
        )
    ack_type = _response_field_type(response, options.ack_field, method.name, where, types)
    page_item_type = _page_item_type(request, response, options, method.name, where, types)
    watcher = _watcher(options, method, where)
    response_type = types.annotation(method.output_type)
    if method.server_streaming:
        sync_return = f"Iterator[{response_type}]"
        async_return = f"AsyncIterator[{response_type}]"
    elif page_item_type:
        sync_return = async_return = f"list[{page_item_type}]"
    elif adapter:
        sync_return = async_return = contract.RESPONSE_ADAPTERS[adapter]
    else:
        sync_return = async_return = ack_type or response_type
    return RpcModel(
        name=method.name,
        method=name,
        server_streaming=method.server_streaming,
        request_type=types.annotation(method.input_type),
        response_type=response_type,
        response_import=types.module_of(method.output_type),
        positional=positional_params,
        keyword=keyword,
        unsent=unsent,
        auth_required=options.auth_required,
        capability=options.capability,
        request_check=options.request_check,
        response_adapter=adapter,
        ack_field=options.ack_field,
        ack_type=ack_type,
        page_method=naming.page_method(name) if options.page_items else "",
        page_items=options.page_items,
        page_item_type=page_item_type,
        watcher=watcher,
        return_type=sync_return,
        async_return_type=async_return,
        page_return_type=f"tuple[list[{page_item_type}], str]" if page_item_type else "",
        summary=index.comment(*path),
        page_doc=_join(
            f"One page: ``({options.page_items}, {NEXT_PAGE_TOKEN})``; an empty token means the "
            "last page.",
            index.comment(*path),
        )
        if options.page_items
        else "",
        all_pages_doc=_join("Every item, following pages to the end.", index.comment(*path))
        if options.page_items
        else "",
        doc=_doc(index.comment(*path), options, method.server_streaming, unsent, request.name),
        location=where,
    )


def client_flavours() -> tuple[ClientFlavour, ClientFlavour]:
    """The blocking and the asyncio client: same methods, different base and waiting."""
    return (
        ClientFlavour(
            is_async=False,
            module="client",
            class_name=CLIENT_CLASS,
            base_module="macp_core.client_base",
            base_class=naming.base_class(CLIENT_CLASS),
            doc=f"``{CLIENT_CLASS}``: one typed, blocking method per RPC of the MACP runtime.",
            def_keyword="def",
            stream_def_keyword="def",
            await_keyword="",
        ),
        ClientFlavour(
            is_async=True,
            module="async_client",
            class_name=naming.async_class(CLIENT_CLASS),
            base_module="macp_core.async_client_base",
            base_class=naming.base_class(naming.async_class(CLIENT_CLASS)),
            doc=f"``{naming.async_class(CLIENT_CLASS)}``: the asyncio twin of ``{CLIENT_CLASS}``.",
            def_keyword="async def",
            stream_def_keyword="def",
            await_keyword="await ",
        ),
    )


def _param(
    field: descriptor_pb2.FieldDescriptorProto,
    reader: OptionReader,
    types: _Types,
    where: SourceLocation,
) -> ParamModel:
    options = reader.field(field)
    name = options.param_name or field.name
    _check_identifier(name, where, "parameter")
    if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
        base, default = types.annotation(field.type_name), ""
    elif field.type in _INTS:
        base, default = "int", "0"
    else:
        base, default = _SCALARS[field.type]
    annotation, zero = base, default
    if field.label == FDP.LABEL_REPEATED:
        annotation, default = f"Sequence[{base}]", "()"
    if options.none_default:
        annotation, default = f"{annotation} | None", "None"
    elif options.no_default or options.required or field.type == FDP.TYPE_MESSAGE:
        default = ""
    return ParamModel(
        field=field.name,
        name=name,
        annotation=annotation,
        default=default,
        validated=options.required,
        none_default=options.none_default,
        zero=zero,
    )


def _check_default_order(params: tuple[ParamModel, ...], rpc: str, where: SourceLocation) -> None:
    seen_default = False
    for param in params:
        if param.default:
            seen_default = True
        elif seen_default:
            raise OptionError(
                where,
                f"rpc {rpc}: positional parameter {param.name} has no default but follows one "
                "that has",
                "reorder the rpc's `positional` option",
            )


def _response_field_type(
    response: descriptor_pb2.DescriptorProto,
    field_name: str,
    rpc: str,
    where: SourceLocation,
    types: _Types,
) -> str:
    if not field_name:
        return ""
    field = next((f for f in response.field if f.name == field_name), None)
    if field is None or field.type != FDP.TYPE_MESSAGE or field.label == FDP.LABEL_REPEATED:
        raise OptionError(
            where,
            f"rpc {rpc}: ack_field {field_name!r} is not a singular message field of "
            f"{response.name}",
            "name the response field that holds the macp.v1.Ack",
        )
    return types.annotation(field.type_name)


def _page_item_type(
    request: descriptor_pb2.DescriptorProto,
    response: descriptor_pb2.DescriptorProto,
    options: RpcOptions,
    rpc: str,
    where: SourceLocation,
    types: _Types,
) -> str:
    if not options.page_items:
        return ""
    items = next((f for f in response.field if f.name == options.page_items), None)
    has_token = any(f.name == PAGE_TOKEN for f in request.field)
    has_next = any(f.name == NEXT_PAGE_TOKEN for f in response.field)
    if items is None or items.label != FDP.LABEL_REPEATED or not has_token or not has_next:
        raise OptionError(
            where,
            f"rpc {rpc}: page_items {options.page_items!r} needs a repeated field of that name "
            f"in {response.name}, {PAGE_TOKEN} in {request.name} and {NEXT_PAGE_TOKEN} in "
            f"{response.name}",
            "fix the messages or drop page_items",
        )
    if items.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
        return types.annotation(items.type_name)
    return "int" if items.type in _INTS else _SCALARS[items.type][0]


def _watcher(
    options: RpcOptions, method: descriptor_pb2.MethodDescriptorProto, where: SourceLocation
) -> WatcherModel | None:
    if not options.watcher_class and not options.watcher_base:
        return None
    if not method.server_streaming or not options.watcher_class or not options.watcher_base:
        raise OptionError(
            where,
            f"rpc {method.name}: a watcher needs a server-streaming rpc, a class_name and a base",
            "set both watcher.class_name and watcher.base on a `returns (stream ...)` rpc",
        )
    _check_identifier(options.watcher_class, where, "watcher class")
    _check_identifier(options.watcher_base, where, "watcher base")
    return WatcherModel(
        class_name=options.watcher_class,
        async_class_name=naming.async_class(options.watcher_class),
        base=options.watcher_base,
        async_base=naming.async_class(options.watcher_base),
    )


def _doc(
    comment: str,
    options: RpcOptions,
    streaming: bool,
    unsent: tuple[ParamModel, ...] = (),
    request: str = "",
) -> str:
    parts = [comment] if comment else []
    if unsent:
        names = ", ".join(f"``{p.name}``" for p in unsent)
        parts.append(
            f"{names} (an older SDK's parameter) is accepted and not sent: {request} has no "
            "such field."
        )
    if streaming:
        parts.append(
            "Iterates until ``timeout`` seconds pass (then iteration just ends); "
            "``reconnect=True`` reconnects with backoff after a transient failure."
        )
    if options.ack_field:
        parts.append(
            "A NACK raises its :class:`MacpAckError` subclass (or, with "
            "``raise_on_nack=False``, is logged and returned)."
        )
    if options.capability:
        parts.append(
            "Once ``initialize()`` has run, raises :class:`MacpCapabilityError` without calling "
            f"the runtime unless it advertised ``{options.capability}``."
        )
    return " ".join(parts)


def _join(*sentences: str) -> str:
    return " ".join(s for s in sentences if s)


def _check_capability(path: str, rpc: str, where: SourceLocation, types: _Types) -> None:
    """The gate must name a boolean of macp.v1.Capabilities, as the core checks at call time."""
    message = types.messages.get(CAPABILITIES)
    for index, part in enumerate(path.split(".")):
        field = next((f for f in message.field if f.name == part), None) if message else None
        last = index == len(path.split(".")) - 1
        if field is not None and last and field.type == FDP.TYPE_BOOL:
            return
        if field is None or last or field.type != FDP.TYPE_MESSAGE:
            break
        message = types.messages.get(field.type_name)
    raise OptionError(
        where,
        f"rpc {rpc}: capability {path!r} is not a boolean of {CAPABILITIES.lstrip('.')}",
        'write a dotted path to one, e.g. "policy_registry.what_if_replay"',
    )


# Parameters every generated client method may end with (the template's own).
_TRAILING_PARAMS = frozenset(
    {"self", "auth", "timeout", "raise_on_nack", "reconnect", "request", "metadata", "response"}
)


def _unsent_params(
    names: tuple[str, ...],
    params: list[ParamModel],
    method: descriptor_pb2.MethodDescriptorProto,
    where: SourceLocation,
) -> tuple[ParamModel, ...]:
    """`unsent_params` as `str = ""` keywords; a name the request now has as a field is that
    field's parameter (sent), as the older SDK sent it once the field existed."""
    fields = {p.field for p in params} | {p.name for p in params}
    found: list[ParamModel] = []
    for name in names:
        if name in fields:
            continue
        if not naming.is_identifier(name):  # reserved words included
            raise OptionError(
                where,
                f"rpc {method.name}: unsent_params entry {name!r} is not a usable Python name",
                "write the parameter name the older SDK used, e.g. cancelled_by",
            )
        if name in _TRAILING_PARAMS or any(p.name == name for p in found):
            raise OptionError(
                where,
                f"rpc {method.name}: unsent_params entry {name!r} is already a parameter of "
                "the client method",
                "drop it from unsent_params",
            )
        found.append(
            ParamModel(
                field="",
                name=name,
                annotation="str",
                default='""',
                validated=False,
                none_default=False,
                zero='""',
            )
        )
    return tuple(found)


def _check_identifier(name: str, where: SourceLocation, what: str) -> None:
    if not naming.is_identifier(name):
        raise OptionError(
            where, f"{what} name {name!r} is not a Python identifier", "choose another name"
        )


def _check_not_core_member(name: str, rpc: str, where: SourceLocation) -> None:
    if name in contract.CLIENT_MEMBERS:
        raise ReservedNameError(
            where,
            f"rpc {rpc} would become client method {name}, which the core's client base "
            "already defines",
            'give it another name with `option (macp.sdk.v1.rpc) = {method: "..."};`',
        )


def _check_unique_aliases(imports: tuple[tuple[str, str], ...], where: SourceLocation) -> None:
    """The clients import pb2 modules by their last name; two of one name would clash."""
    seen: dict[str, str] = {}
    for package, module in imports:
        if module in seen:
            raise NameCollisionError(
                where,
                f"the clients would import two modules named {module} "
                f"({seen[module]}.{module} and {package}.{module})",
                "rename one of the proto files",
            )
        seen[module] = package


def _check_unique_methods(rpcs: list[RpcModel]) -> None:
    seen: dict[str, str] = {}
    for rpc in rpcs:
        for name in (rpc.method, rpc.page_method):
            if not name:
                continue
            _check_not_core_member(name, rpc.name, rpc.location)
            if name in seen:
                raise OptionError(
                    rpc.location,
                    f"client method {name} would be generated for both rpc {seen[name]} and "
                    f"rpc {rpc.name}",
                    "give one of them another `(macp.sdk.v1.rpc).method`",
                )
            seen[name] = rpc.name
