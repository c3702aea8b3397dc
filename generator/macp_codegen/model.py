"""The frozen intermediate model. Templates read it and nothing else.

Every decision (names, parameter order, defaults, type annotations, checks) is made while
building this model (see `modeling.py`); templates only print what is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SourceLocation
from .service_model import ServiceModel


@dataclass(frozen=True)
class FieldChecks:
    """What the core's `checked(name, value, ...)` enforces for one field, as data.

    Templates print each keyword argument from these fields (values through the `py` filter).
    """

    required: bool = False
    allowed: tuple[str, ...] = ()
    normalize: str = ""  # "", "upper" or "lower"
    minimum: float | None = None
    maximum: float | None = None

    @property
    def any(self) -> bool:
        return bool(
            self.required
            or self.allowed
            or self.normalize
            or self.minimum is not None
            or self.maximum is not None
        )


@dataclass(frozen=True)
class FieldModel:
    name: str  # proto field name
    param: str  # Python parameter name
    number: int
    proto_type: str  # "string", "bytes", "double", "message", ...
    annotation: str  # parameter annotation, e.g. "str", "VoteValue", "Sequence[str]"
    record_annotation: str  # attribute annotation on the decoded record
    repeated: bool
    required: bool  # must be non-empty / non-zero before sending
    no_default: bool  # callers must pass it
    default: str  # Python literal of the parameter default
    allowed: tuple[str, ...]
    normalize: str  # "", "upper" or "lower"
    minimum: float | None
    maximum: float | None
    from_sender: bool
    hidden: bool
    references: str  # message_type of the entity this field points at, or ""
    literal_alias: str  # name of the Literal alias for allowed values, or ""
    checks: FieldChecks  # what the builder checks before sending (`checks.any` is False: none)
    doc: str
    location: SourceLocation


@dataclass(frozen=True)
class ActionModel:
    message_type: str  # Envelope.message_type
    message_name: str  # protobuf message name, e.g. VotePayload
    full_name: str  # e.g. macp.modes.decision.v1.VotePayload
    method: str  # session method
    aliases: tuple[str, ...]
    builder: str  # envelope builder function, e.g. build_vote
    payload_builder: str  # payload builder function, e.g. build_vote_payload
    record_class: str  # decoded record dataclass
    hook: str  # projection hook, e.g. on_vote
    apply_method: str  # projection base's decoder for this action, e.g. _apply_vote
    records_attr: str  # projection attribute holding records of this action
    senders: tuple[str, ...]  # who may send (documentation / hint)
    sender_phrases: tuple[str, ...]  # the same roles in words (options.proto's comments)
    subject_field: str  # "" when the action has none
    fields: tuple[FieldModel, ...]  # every proto field, in proto order
    positional: tuple[FieldModel, ...]  # parameters before `*`
    keyword: tuple[FieldModel, ...]  # keyword-only parameters (no hidden ones)
    doc: str
    location: SourceLocation

    @property
    def parameters(self) -> tuple[FieldModel, ...]:
        return self.positional + self.keyword

    @property
    def settable(self) -> tuple[FieldModel, ...]:
        """Fields a builder sets, in proto order (hidden ones are left to the runtime)."""
        return tuple(f for f in self.fields if not f.hidden)

    @property
    def fills_from_sender(self) -> bool:
        return any(f.from_sender for f in self.fields)

    @property
    def senders_text(self) -> str:
        """Who may send this action, for docstrings ("" when the proto does not say)."""
        return ", ".join(self.sender_phrases)


@dataclass(frozen=True)
class ModeModel:
    id: str
    short_name: str
    version: str
    title: str
    description: str
    determinism_class: str
    participant_model: str
    terminal_message_types: tuple[str, ...]
    message_types: tuple[str, ...]  # flow order for the ModeDescriptor
    standard: bool
    package: str
    proto_file: str
    pb2_module: str  # e.g. macp.modes.decision.v1.decision_pb2
    pb2_package: str  # e.g. macp.modes.decision.v1 (what `from ... import` names)
    pb2_alias: str  # e.g. decision_pb2
    module: str  # macp_sdk.modes.<module>
    session_path: str  # output path of the session module, e.g. macp_sdk/modes/decision.py
    base_path: (
        str  # output path of the projection base, e.g. macp_sdk/projections/_decision_base.py
    )
    scaffold_path: (
        str  # output path of the user's projection, e.g. macp_sdk/projections/decision.py
    )
    session_module: str  # relative to macp_sdk, e.g. modes.decision
    projection_module: str  # relative to macp_sdk, e.g. projections.decision
    session_class: str
    session_reference: str  # "<module>:<session class>", as the registry's ModeInfo names it
    async_session_class: str
    projection_class: str  # scaffolded, user-owned subclass
    projection_base_class: str  # generated, always rewritten
    projection_accessor: str  # e.g. decision_projection
    actions: tuple[ActionModel, ...]
    literal_aliases: tuple[tuple[str, tuple[str, ...]], ...]
    records_union: str  # alias naming any record of this mode, e.g. DecisionRecord
    base_module: str  # macp_sdk.projections.<base_module>, the always-rewritten base
    doc: str
    location: SourceLocation
    # (0.22.0's name, our record class or projection-module name): see compat_model.py.
    compat_names: tuple[tuple[str, str], ...] = ()
    options_location: SourceLocation | None = None  # the (macp.sdk.v1.mode) option, if set

    # Import bookkeeping: derived from the actions, so a module imports exactly what it uses.
    @property
    def uses_sequence(self) -> bool:
        return any(f.repeated for a in self.actions for f in a.settable)

    @property
    def uses_literals(self) -> bool:
        return bool(self.literal_aliases)

    @property
    def uses_checks(self) -> bool:
        return any(f.checks.any for a in self.actions for f in a.settable)

    @property
    def record_classes(self) -> tuple[str, ...]:
        """Record class names sorted as an import list wants them."""
        return tuple(sorted(a.record_class for a in self.actions))


@dataclass(frozen=True)
class CorePayload:
    message_type: str
    message_name: str
    pb2_module: str


@dataclass(frozen=True)
class SdkModel:
    generator_version: str
    sources: tuple[str, ...]  # every input proto, sorted
    core_payloads: tuple[CorePayload, ...]
    modes: tuple[ModeModel, ...]
    service: ServiceModel | None = None  # the runtime service the clients are generated from
