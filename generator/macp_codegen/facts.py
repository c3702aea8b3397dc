"""The facts model: a mode's id, message types and allowed values as importable constants.

Hand-written code (the embedded runtime's rule modules, the projection scaffolds, examples)
imports `macp_sdk.facts.<mode>` instead of retyping a string that the proto already says; the
registry model adds what the runtime's descriptors need (schema URIs, registry order).
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from . import naming
from .errors import NameCollisionError
from .model import ModeModel, SdkModel
from .options import OptionReader


@dataclass(frozen=True)
class Constant:
    name: str
    value: str


@dataclass(frozen=True)
class ValueSet:
    name: str  # e.g. VOTE_VALUES
    field: str  # proto field name
    message_types: tuple[str, ...]  # actions whose field it is
    allowed: tuple[str, ...]  # in proto order
    values: tuple[Constant, ...]  # a constant per allowed value that can be named


@dataclass(frozen=True)
class ModeFacts:
    mode: ModeModel
    module: str  # macp_sdk.facts.<module>
    mode_constant: str  # e.g. MODE_DECISION in the registry
    message_types: tuple[Constant, ...]  # one per action, in proto order
    value_sets: tuple[ValueSet, ...]
    anomalies: tuple[Constant, ...]  # ProjectionAnomaly kinds the mode's projection records
    schema_uris: tuple[tuple[str, str], ...]
    registry_position: int


@dataclass(frozen=True)
class FactsModel:
    modes: tuple[ModeFacts, ...]  # in the model's order

    @property
    def standard_order(self) -> tuple[ModeFacts, ...]:
        """Standards-track modes as the registry lists them: by position, then by id."""
        standard = [m for m in self.modes if m.mode.standard]
        return tuple(
            sorted(
                standard, key=lambda m: (m.registry_position == 0, m.registry_position, m.mode.id)
            )
        )


def build_facts(descriptor_set: descriptor_pb2.FileDescriptorSet, model: SdkModel) -> FactsModel:
    reader = OptionReader(descriptor_set)
    files = {f.name: f for f in descriptor_set.file}
    return FactsModel(tuple(_mode_facts(mode, reader, files) for mode in model.modes))


def _mode_facts(
    mode: ModeModel,
    reader: OptionReader,
    files: dict[str, descriptor_pb2.FileDescriptorProto],
) -> ModeFacts:
    options = reader.mode(files[mode.proto_file])
    message_types = tuple(
        Constant(naming.constant_name(a.message_type), a.message_type) for a in mode.actions
    )
    sets: dict[str, ValueSet] = {}
    for action in mode.actions:
        for field in action.fields:
            if not field.allowed:
                continue
            name = naming.values_constant(field.name)
            known = sets.get(name)
            if known is not None and known.allowed == field.allowed:
                sets[name] = ValueSet(
                    name,
                    field.name,
                    (*known.message_types, action.message_type),
                    known.allowed,
                    known.values,
                )
                continue
            if known is not None:
                raise NameCollisionError(
                    field.location,
                    f"field {field.name!r} allows different values in {known.message_types[0]} "
                    f"and {action.message_type}; both would be named {name}",
                    "give both fields the same allowed values, or rename one",
                )
            values = tuple(
                Constant(naming.value_constant(field.name, v), v)
                for v in field.allowed
                if naming.constant_name(v).isidentifier()
            )
            sets[name] = ValueSet(name, field.name, (action.message_type,), field.allowed, values)
    anomalies = tuple(Constant(naming.anomaly_constant(k), k) for k in options.anomaly_kinds)
    _check_unique(mode, message_types + anomalies, tuple(sets.values()))
    schema_uris = options.schema_uris or (("proto", mode.proto_file),)
    return ModeFacts(
        mode=mode,
        module=naming.facts_module(mode.short_name),
        mode_constant=naming.mode_id_constant(mode.short_name),
        message_types=message_types,
        value_sets=tuple(sets.values()),
        anomalies=anomalies,
        schema_uris=schema_uris,
        registry_position=options.registry_position,
    )


def _check_unique(
    mode: ModeModel, message_types: tuple[Constant, ...], value_sets: tuple[ValueSet, ...]
) -> None:
    seen = {"MODE", "MODE_VERSION", "MESSAGE_TYPES", "TERMINAL_MESSAGE_TYPES"}
    names = [c.name for c in message_types]
    names += [s.name for s in value_sets] + [c.name for s in value_sets for c in s.values]
    for name in names:
        if name in seen:
            raise NameCollisionError(
                mode.location,
                f"two facts of mode {mode.id} would both be named {name}",
                "rename the message or field that produces it",
            )
        seen.add(name)
