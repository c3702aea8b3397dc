"""The frozen intermediate model. Templates read it and nothing else.

Every decision (names, parameter order, defaults, type annotations, checks) is made while
building this model (see `modeling.py`); templates only print what is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import naming
from .errors import SourceLocation
from .service_model import ServiceModel

# Field kinds whose decoded record value is (or holds) the payload's own protobuf messages.
_SHARED_KINDS = frozenset({"message", "any", "map"})


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
    proto_type: str  # "string", "bytes", "double", "enum", "message", "map", ...
    kind: str  # scalar, enum, message, timestamp, duration, struct, any, wrapper or map
    annotation: str  # parameter annotation, e.g. "str", "VoteValue", "Sequence[str]"
    bare_annotation: str  # the same without `| None`: what an overload that needs it takes
    record_annotation: str  # attribute annotation on the decoded record
    record_default: str  # Python source of the record attribute's default: the proto3 unset value
    repeated: bool
    presence: bool  # None means unset (messages, `optional`, oneof members, maps)
    oneof: str  # the oneof group this field belongs to, or ""
    build_value: str  # Python source: the protobuf constructor argument from the parameter
    decode_value: str  # Python source: the record attribute from `payload`
    set_member: str  # oneof members: Python statement setting it on `_payload` ("" otherwise)
    enums: tuple[tuple[str, tuple[str, ...]], ...]  # (Literal alias, value names) it uses
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
class OneofModel:
    """A real (not `optional`) oneof: builders take exactly one member."""

    name: str
    members: tuple[FieldModel, ...]

    @property
    def record_annotation(self) -> str:
        names = ", ".join(f'"{m.name}"' for m in self.members)
        return f"Literal[{names}] | None"


def builder_positional(positional: tuple[FieldModel, ...]) -> tuple[tuple[FieldModel, bool], ...]:
    """A payload builder's positional parameters (its session method's), each with whether it
    keeps its default. The builders were keyword-only with defaults, so a call that leaves one
    out keeps working, unless a later positional parameter has no default (Python puts
    defaults last)."""
    pairs: list[tuple[FieldModel, bool]] = []
    later_without_default = False
    for field in reversed(positional):
        keeps = not field.no_default and not later_without_default
        later_without_default = later_without_default or not keeps
        pairs.append((field, keeps))
    return tuple(reversed(pairs))


@dataclass(frozen=True)
class RecordFieldModel:
    """One constructor field of a decoded record, in constructor order (see record_layout.py)."""

    name: str
    annotation: str
    value: str  # Python source: the value from `payload` / `envelope` in `decode`
    default: str  # Python source of the default, "" when the constructor requires it
    comment: str = ""  # a comment line above the attribute ("" for none)
    # Python source on the sent path, where the session hands the header values it built the
    # envelope from (locals `sender`, `timestamp_unix_ms`); "" when the same as `value`.
    sent_value: str = ""

    @property
    def sent_source(self) -> str:
        return self.sent_value or self.value


@dataclass(frozen=True)
class RecordAliasModel:
    """A deprecated read-only name of a record attribute (`(macp.sdk.v1.action).record_aliases`)."""

    name: str
    target: str  # the record attribute it reads
    annotation: str  # the target's annotation
    warning: str  # the DeprecationWarning's text


@dataclass(frozen=True)
class Signature:
    """One overload of a builder or session method: which parameters it takes."""

    positional: tuple[FieldModel, ...]  # session method (and payload builder), before `*`
    keyword: tuple[FieldModel, ...]  # session method, keyword-only
    settable: tuple[FieldModel, ...]  # envelope builders (all keyword-only), in proto order

    @property
    def builder_positional(self) -> tuple[tuple[FieldModel, bool], ...]:
        return builder_positional(self.positional)


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
    oneofs: tuple[OneofModel, ...]
    # With oneofs: one @overload per choice of members, so mypy rejects two members; the
    # builders share `payload_impl`, which checks the choice at run time. Else () and
    # `payload_impl` is the public payload builder.
    overloads: tuple[Signature, ...]
    payload_impl: str
    doc: str
    location: SourceLocation
    # The decoded record's constructor fields in order (payload fields, oneof choices, sender,
    # message_id, timestamp_unix_ms) and its deprecated attribute aliases.
    record_fields: tuple[RecordFieldModel, ...] = ()
    record_aliases: tuple[RecordAliasModel, ...] = ()

    @property
    def parameters(self) -> tuple[FieldModel, ...]:
        return self.positional + self.keyword

    @property
    def builder_positional(self) -> tuple[tuple[FieldModel, bool], ...]:
        """The payload builder's positional parameters and whether each keeps its default."""
        return builder_positional(self.positional)

    @property
    def settable(self) -> tuple[FieldModel, ...]:
        """Fields a builder sets, in proto order (hidden ones are left to the runtime)."""
        return tuple(f for f in self.fields if not f.hidden)

    @property
    def fills_from_sender(self) -> bool:
        return any(f.from_sender for f in self.fields)

    @property
    def method_builds_payload(self) -> bool:
        """The session method constructs the payload itself, with its payload builder's field
        expressions, instead of calling the builder: one frame and one keyword-argument call
        less on every send, a visible share of sending a small payload. Only where the
        builder is the constructor alone over plain scalars (no oneof choice to check, no
        field filled from the sender, no conversions worth a copy of the builder's body)."""
        return (
            not self.oneofs
            and not self.fills_from_sender
            and all(f.kind == "scalar" and not f.repeated for f in self.settable)
        )

    @property
    def sent_apply_method(self) -> str:
        """The twin of `apply_method` for an envelope this process sent (see the base template)."""
        return naming.sent_apply_method(self.method)

    @property
    def hook_attribute(self) -> str:
        """The class attribute the resolved hook of `record_class` is bound to."""
        return naming.hook_attribute(self.record_class)

    @property
    def record_constructor(self) -> str:
        """The projection base's fast builder of `record_class` (see macp_core._records)."""
        return naming.record_constructor(self.record_class)

    @property
    def reuses_sent_payload(self) -> bool:
        """The record copies only plain values out of the payload, so the projection may build
        it from the payload message a session just sent instead of decoding the bytes again."""
        return not any(f.kind in _SHARED_KINDS for f in self.fields)

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
    # (name, `field_check(...)` source) of each bound check the builders call, bound once at
    # import: e.g. ("_check_vote", 'field_check("vote", required=True, ...)')
    field_checks: tuple[tuple[str, str], ...]
    enum_aliases: tuple[tuple[str, tuple[str, ...]], ...]  # Literal of each enum's names
    pb2_imports: tuple[tuple[str, str, str], ...]  # (package, module, alias) of other pb2s
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
        return bool(self.literal_aliases or self.enum_aliases)

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
    # The package generated into: the SDK itself, or a mode package of the user's own that
    # plugs into the installed SDK's registry through `entry_point_group`.
    sdk_package: str = "macp_sdk"
    base_sdk_package: str = "macp_sdk"
    entry_point_group: str = "macp_sdk.modes"

    @property
    def is_plugin(self) -> bool:
        return self.sdk_package != self.base_sdk_package


# -- agent participants: read by templates/sdk/participants (built by agent_modeling.py) -----
@dataclass(frozen=True)
class HandlerModel:
    message_type: str
    method: str  # typed registration, e.g. on_vote
    record_class: str  # what the handler receives, e.g. VoteRecord


@dataclass(frozen=True)
class ParticipantModel:
    mode: ModeModel
    participant_class: str
    async_participant_class: str
    actions_class: str
    async_actions_class: str
    context_alias: str
    async_context_alias: str
    handlers: tuple[HandlerModel, ...]

    @property
    def abc_imports(self) -> tuple[str, ...]:
        """What the participants module imports from collections.abc."""
        return ("Awaitable", "Callable", *(("Sequence",) if self.mode.uses_sequence else ()))

    @property
    def action_message_types(self) -> tuple[tuple[str, str], ...]:
        """(actions method or alias, the message type it sends) for the mode binding: the
        core's strategies find a mode's message types through it instead of naming them."""
        return tuple(
            (method, action.message_type)
            for action in self.mode.actions
            for method in (action.method, *action.aliases)
        )

    @property
    def exports(self) -> tuple[str, ...]:
        return (
            self.participant_class,
            self.async_participant_class,
            self.actions_class,
            self.async_actions_class,
            self.context_alias,
            self.async_context_alias,
        )
