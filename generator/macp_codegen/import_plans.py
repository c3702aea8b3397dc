"""Each generated Python module's imports, decided from the model (see imports.py).

One function per template. A template's fixed code uses fixed names (listed here beside the
template's own name); the code the model writes into it (annotations, defaults, conversions)
uses the names `referenced` finds in those strings, so a module imports a converter, a
well-known type or another pb2 module only when one of its fields needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from macp_core.contract import Reexport

from .compat_model import CompatModule
from .core_contract import ReexportModel
from .imports import Imports
from .model import FieldModel, ModeModel, ParticipantModel, SdkModel
from .policy_model import PolicyModel
from .service_model import ClientFlavour, ServiceModel

_STRING = re.compile(r"""'[^']*'|"[^"]*\"""")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")

# Names the model's code strings may use, and where they come from: (module, name or "" for
# `import module`). field_types.py and modeling.py write these into annotations and conversions.
_CONVERSIONS: dict[str, tuple[str, str]] = {
    "Any": ("typing", "Any"),
    "Literal": ("typing", "Literal"),
    "cast": ("typing", "cast"),
    "Mapping": ("collections.abc", "Mapping"),
    "Sequence": ("collections.abc", "Sequence"),
    "datetime": ("datetime", "datetime"),
    "timedelta": ("datetime", "timedelta"),
    "dataclasses": ("dataclasses", ""),
    "Message": ("google.protobuf.message", "Message"),
    "any_pb2": ("google.protobuf", "any_pb2"),
    "wrappers_pb2": ("google.protobuf", "wrappers_pb2"),
    "enum_number": ("macp_core._enums", "enum_number"),
    "enum_label": ("macp_core._enums", "enum_label"),
    "to_any": ("macp_core._wkt", "to_any"),
    "to_duration": ("macp_core._wkt", "to_duration"),
    "to_struct": ("macp_core._wkt", "to_struct"),
    "to_timestamp": ("macp_core._wkt", "to_timestamp"),
    "from_duration": ("macp_core._wkt", "from_duration"),
    "from_struct": ("macp_core._wkt", "from_struct"),
    "from_timestamp": ("macp_core._wkt", "from_timestamp"),
    "field_check": ("macp_core._field_checks", "field_check"),
}


def referenced(code: Iterable[str]) -> set[str]:
    """The names Python source strings read at module level (not attributes, not in strings)."""
    found: set[str] = set()
    for text in code:
        found.update(_NAME.findall(_STRING.sub("", text)))
    return found


def _mode_symbols(mode: ModeModel) -> dict[str, tuple[str, str, str]]:
    """Name -> (module, name, alias) of everything a mode's modules may import."""
    symbols = {name: (module, n, "") for name, (module, n) in _CONVERSIONS.items()}
    symbols[mode.pb2_alias] = (mode.pb2_package, mode.pb2_module.rsplit(".", 1)[-1], "")
    for package, module, alias in mode.pb2_imports:
        symbols[alias] = (package, module, alias if alias != module else "")
    return symbols


def _add_used(imports: Imports, symbols: dict[str, tuple[str, str, str]], used: set[str]) -> None:
    for name in sorted(used & symbols.keys()):
        module, imported, alias = symbols[name]
        if imported:
            # The mode's own modules are imported a name a line (the scaffold merge adds names).
            imports.name(module, imported, alias, expanded=module.startswith(".."))
        else:
            imports.module(module)


def _params(fields: Iterable[FieldModel], with_defaults: bool = True) -> list[str]:
    code: list[str] = []
    for field in fields:
        code.append(field.annotation)
        if with_defaults and not field.no_default:
            code.append(field.default)
    return code


def session_imports(mode: ModeModel, package: str) -> Imports:
    """templates/sdk/modes/mode.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    imports.names("typing", ("TYPE_CHECKING", "ClassVar", "cast"))
    imports.names("macp.v1", ("core_pb2", "envelope_pb2"))
    imports.name("macp_core._lazy", "lazy_class")
    imports.names("macp_core.base_session", ("AsyncBaseSession", "BaseSession"))
    imports.name("macp_core.envelope", "build_envelope")
    if mode.enum_aliases:  # re-exported (in __all__)
        base = f"..projections.{mode.base_module}"
        imports.names(base, (alias for alias, _ in mode.enum_aliases), expanded=True)
    imports.name("macp_core.auth", "AuthConfig", typing=True)
    imports.name("macp_core.base_projection", "BaseProjection", typing=True)
    imports.names("macp_core.session_client", ("AsyncSessionClient", "SessionClient"), typing=True)
    imports.name(f"..projections.{mode.module}", mode.projection_class, typing=True)
    used = {mode.pb2_alias}
    code = [definition for _, definition in mode.field_checks]
    for action in mode.actions:
        used |= {"overload"} if action.overloads else set()
        used |= {"exactly_one"} if action.oneofs else set()
        code += _params(action.settable)
        code += [f.build_value for f in action.settable]
        code += [f.set_member for f in action.settable]
    if mode.literal_aliases:
        used.add("Literal")
    used |= referenced(code)
    imports.when("overload" in used, "typing", "overload")
    imports.when("exactly_one" in used, "macp_core._field_checks", "exactly_one")
    _add_used(imports, _mode_symbols(mode), used)
    return imports


def projection_base_imports(mode: ModeModel, package: str) -> Imports:
    """templates/sdk/projections/base.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    imports.names("collections.abc", ("Callable", "Mapping"))
    imports.name("dataclasses", "dataclass")
    imports.names("typing", ("ClassVar", "TypeAlias"))
    imports.names("google.protobuf.message", ("DecodeError", "Message"))
    imports.name("macp.v1", "envelope_pb2")
    imports.name("macp_core._decoding", "decode_payload")
    imports.names("macp_core._records", ("new_record", "record_builder"))
    imports.names("macp_core.base_projection", ("BaseProjection", "ProjectionAnomaly"))
    used = {mode.pb2_alias}
    if mode.enum_aliases:
        used.add("Literal")
    code: list[str] = []
    for action in mode.actions:
        if action.record_aliases:
            imports.module("warnings")
        for record_field in action.record_fields:
            code += [record_field.annotation, record_field.value, record_field.default]
            code.append(record_field.sent_value)
        code += [alias.annotation for alias in action.record_aliases]
    used |= referenced(code)
    _add_used(imports, _mode_symbols(mode), used)
    return imports


def participant_imports(participant: ParticipantModel, package: str) -> Imports:
    """templates/sdk/participants/mode.py.jinja."""
    mode = participant.mode
    imports = Imports(package).name("__future__", "annotations")
    imports.names("collections.abc", ("Awaitable", "Callable"))
    imports.names("typing", ("ClassVar", "Self", "TypeAlias", "cast"))
    imports.name("macp.v1", "envelope_pb2")
    imports.names("macp_core.agent.actions", ("AsyncParticipantActions", "ParticipantActions"))
    imports.name("macp_core.agent.aio", "AsyncParticipant")
    imports.names("macp_core.agent.modes", ("ModeBinding", "register_mode_binding"))
    imports.name("macp_core.agent.participant", "Participant")
    imports.names("macp_core.agent.typed", ("typed_async_handler", "typed_handler"))
    imports.name("macp_core.agent.types", "HandlerContext")
    imports.name(".._registry", "MODE_REGISTRY")
    session = f"..modes.{mode.module}"
    imports.names(session, ["MODE", *(a.payload_impl for a in mode.actions)], expanded=True)
    base = f"..projections.{mode.base_module}"
    imports.names(base, mode.record_classes, expanded=True)
    imports.name(f"..projections.{mode.module}", mode.projection_class)
    code: list[str] = []
    used: set[str] = set()
    for action in mode.actions:
        used |= {"overload"} if action.overloads else set()
        code += _params(action.parameters)
        for signature in action.overloads:
            code += _params(signature.positional + signature.keyword)
    used |= referenced(code)
    imports.when("overload" in used, "typing", "overload")
    symbols = _mode_symbols(mode)
    for alias, _ in mode.literal_aliases:
        symbols[alias] = (session, alias, "")
    for alias, _ in mode.enum_aliases:
        symbols[alias] = (base, alias, "")
    _add_used(imports, symbols, used)
    return imports


def scaffold_imports(mode: ModeModel, package: str) -> Imports:
    """templates/sdk/projections/scaffold.py.jinja (the user's file, on first generation)."""
    imports = Imports(package).name("__future__", "annotations")
    names = (mode.projection_base_class, *mode.record_classes)
    return imports.names(f".{mode.base_module}", names, expanded=True)


def registry_imports(package: str) -> Imports:
    """templates/sdk/_registry.py.jinja (fixed code: the modes are data in it)."""
    imports = Imports(package).name("__future__", "annotations").module("importlib")
    imports.name("collections.abc", "Mapping")
    imports.names("dataclasses", ("dataclass", "field"))
    imports.name("types", "MappingProxyType")
    imports.names("typing", ("TYPE_CHECKING", "Final"))
    imports.name("google.protobuf", "text_format")
    imports.names("google.protobuf.message", ("DecodeError", "Message"))
    imports.names("macp.v1", ("core_pb2", "envelope_pb2"))
    imports.name("macp_core._decoding", "decode_payload")
    imports.names("macp_core._mode_registry", ("LazyPayloads", "PluggableRegistry"))
    return imports.name("macp_core.base_session", "BaseSession", typing=True)


def plugin_registry_imports(model: SdkModel) -> Imports:
    """templates/sdk/_plugin_registry.py.jinja."""
    imports = Imports(model.sdk_package).name("__future__", "annotations")
    imports.name("collections.abc", "Mapping")
    imports.name("types", "MappingProxyType")
    imports.name("typing", "Final")
    imports.name("macp.v1", "core_pb2")
    imports.name("macp_core._mode_registry", "LazyPayloads")
    return imports.names(f"{model.base_sdk_package}._registry", ("ModeInfo", "descriptor_of"))


def package_init_imports(package: str, exports: Iterable[tuple[str, str]], eager: bool) -> Imports:
    """templates/sdk/__init__.py.jinja: every public name, imported on first use."""
    imports = Imports(package).name("__future__", "annotations").module("importlib")
    if eager:
        imports.module("sys").module("types")
    imports.names("typing", ("TYPE_CHECKING", "Any"))
    for module, name in exports:
        imports.name(f".{module}", name, name, typing=True)
    return imports


def reexport_imports(reexport: ReexportModel, package: str) -> Imports:
    """templates/sdk/reexport.py.jinja."""
    imports = Imports(package)
    if reexport.deprecated or reexport.lazy:
        imports.name("typing", "TYPE_CHECKING")
    if reexport.lazy:
        imports.module("importlib")
    if reexport.deprecated:
        imports.module(reexport.source, "_source")
    for name in reexport.names + reexport.shared:
        imports.name(reexport.source, name, name, expanded=True)
    for module, name in reexport.generated:
        imports.name(module, name, name)
    for module, name in reexport.lazy:
        imports.name(module, name, name, typing=True)
    return imports


def client_imports(
    service: ServiceModel,
    flavour: ClientFlavour,
    reexport: Reexport,
    package: str,
    *,
    import_timeout: bool,
) -> Imports:
    """templates/sdk/client.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    imports.name("collections.abc", "AsyncIterator" if flavour.is_async else "Iterator")
    imports.when(service.uses_sequence, "collections.abc", "Sequence")
    imports.name("typing", "TYPE_CHECKING")
    for module_package, module in service.imports:
        imports.name(module_package, module)
    imports.name(flavour.base_module, flavour.base_class)
    imports.when(service.uses_validation, "macp_core.envelope", "validate_required")
    imports.names("macp_core.request_checks", service.request_checks)
    for name in reexport.names:
        imports.name(reexport.source, name, name, expanded=True)
    imports.name("macp_core.auth", "AuthConfig", typing=True)
    imports.when(import_timeout, "macp_core.client_base", "TimeoutValue", typing=True)
    imports.names("macp_core.receipt", service.adapter_result_types, typing=True)
    for name in reexport.shared:
        imports.name(reexport.source, name, name, typing=True)
    if reexport.shared:  # the lazy names load through importlib (the `else:` branch)
        imports.module("importlib", otherwise=True)
    return imports


def watchers_imports(service: ServiceModel, reexport: Reexport, package: str) -> Imports:
    """templates/sdk/watchers.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    watched = [
        name
        for rpc in service.watchers
        if rpc.watcher is not None
        for name in (rpc.watcher.base, rpc.watcher.async_base)
    ]
    for name in reexport.names:
        imports.name(reexport.source, name, name, expanded=True)
    if watched:
        imports.name("typing", "TYPE_CHECKING")
        imports.names(reexport.source, watched, expanded=True)
        imports.name(".async_client", "AsyncMacpClient").name(".client", "MacpClient")
        imports.names("collections.abc", ("AsyncIterator", "Iterator"), typing=True)
        for module_package, module in service.watcher_imports:
            imports.name(module_package, module, typing=True)
        imports.name("macp_core.client_base", "TimeoutValue", typing=True)
    return imports


def policy_imports(policy: PolicyModel, package: str) -> Imports:
    """templates/sdk/policy/policy.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    imports.name("collections.abc", "Mapping")
    imports.name("dataclasses", "dataclass")
    imports.when(policy.uses_field_factory, "dataclasses", "field")
    imports.name("macp.v1", "policy_pb2")
    imports.name("macp_core", "_policy_support", "_p")
    name = "effective_quorum_threshold"
    return imports.name("macp_core.quorum_threshold", name, name)


def facts_imports(package: str) -> Imports:
    """templates/sdk/facts.py.jinja."""
    return Imports(package).name("__future__", "annotations").name("typing", "Final")


def compat_imports(
    compat: CompatModule, anomalies: tuple[str, tuple[str, ...]], package: str
) -> Imports:
    """templates/sdk/compat/mode.py.jinja: 0.22.0's mode module, re-exporting ours."""
    imports = Imports(package).name("__future__", "annotations")
    imports.when(bool(compat.validators), "macp_core._field_checks", "checked")
    mode = compat.mode
    imports.name("._registry", compat.mode_constant, compat.mode_constant)
    for name in anomalies[1]:
        imports.name(anomalies[0], name, name)
    imports.name(".base_projection", "BaseProjection", "BaseProjection")
    imports.name(".base_session", "AsyncBaseSession", "AsyncBaseSession")
    imports.name(".base_session", "BaseSession", "BaseSession")
    imports.name(f".{mode.session_module}", mode.async_session_class, mode.async_session_class)
    imports.name(f".{mode.session_module}", mode.session_class, mode.session_class)
    imports.name(f".{mode.projection_module}", mode.projection_class, mode.projection_class)
    for alias in compat.aliases:
        imports.name(f".{alias.module}", alias.target, alias.name)
    return imports


def projections_init_imports(
    modules: Iterable[CompatModule], constants: Iterable[tuple[str, str]], package: str
) -> Imports:
    """templates/sdk/compat/projections_init.py.jinja: names imported on first use."""
    imports = Imports(package).name("__future__", "annotations").module("importlib")
    imports.names("typing", ("TYPE_CHECKING", "Any"))
    for compat in modules:
        name = compat.mode.projection_class
        imports.name(compat.projection_sibling, name, name, typing=True)
        for alias in compat.aliases:
            if alias.is_projection:
                imports.name(alias.sibling, alias.target, alias.name, typing=True)
    for module, name in constants:
        imports.name(module, name, name, typing=True)
    return imports


def proto_registry_imports(mode_constants: Iterable[str], package: str) -> Imports:
    """templates/sdk/compat/proto_registry.py.jinja."""
    imports = Imports(package).name("__future__", "annotations")
    imports.name("collections.abc", "Mapping")
    imports.name("types", "MappingProxyType")
    imports.name("macp_core.proto_registry", "PayloadCodec")
    imports.names("._registry", ("CORE_PAYLOADS", "MODE_REGISTRY", "payload_class"))
    for name in mode_constants:
        imports.name("._registry", name, name)
    return imports


def participants_init_imports(participants: Iterable[ParticipantModel], package: str) -> Imports:
    """templates/sdk/participants/__init__.py.jinja: importing it registers every mode."""
    imports = Imports(package)
    for participant in participants:
        imports.name(".", participant.mode.module, participant.mode.module)
    return imports
