"""The core conversions generated builders and records use for non-scalar payload fields.

Properties: a value a builder accepts comes back equal from the record side (Timestamp,
Duration, Struct, enum names); what a builder must refuse raises MacpValidationError naming
the field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import any_pb2, duration_pb2, struct_pb2
from hypothesis import given
from hypothesis import strategies as st
from macp_core._enums import enum_label, enum_number
from macp_core._field_checks import exactly_one
from macp_core._wkt import (
    from_duration,
    from_struct,
    from_timestamp,
    to_any,
    to_duration,
    to_struct,
    to_timestamp,
)
from macp_core.errors import MacpValidationError

NULL = struct_pb2.NullValue.DESCRIPTOR

aware = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.text(max_size=5) | st.integers(-(2**52), 2**52),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


@given(aware)
def test_an_aware_datetime_comes_back_as_the_same_instant_in_utc(value: datetime) -> None:
    back = from_timestamp(to_timestamp("at", value))
    assert back == value and back.tzinfo == UTC


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(MacpValidationError) as caught:
        to_timestamp("opens_at", datetime(2026, 1, 1))
    assert caught.value.field == "opens_at"


@given(st.timedeltas(min_value=timedelta(days=-3650), max_value=timedelta(days=3650)))
def test_a_timedelta_round_trips(value: timedelta) -> None:
    assert from_duration(to_duration(value)) == value
    assert isinstance(to_duration(value), duration_pb2.Duration)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_a_json_like_mapping_round_trips(value: dict[str, object]) -> None:
    assert from_struct(to_struct("attrs", value)) == value


def test_a_mapping_with_non_json_values_is_refused() -> None:
    with pytest.raises(MacpValidationError) as caught:
        to_struct("attrs", {"when": datetime.now(UTC)})
    assert caught.value.field == "attrs"


def test_any_packs_a_message_once() -> None:
    packed = to_any(struct_pb2.Value(string_value="x"))
    assert packed.TypeName() == "google.protobuf.Value"
    assert to_any(packed) is packed
    assert isinstance(packed, any_pb2.Any)


def test_enum_names_and_numbers() -> None:
    assert enum_number("kind", NULL, "NULL_VALUE") == 0
    assert enum_number("kind", NULL, 7) == 7
    with pytest.raises(MacpValidationError) as caught:
        enum_number("kind", NULL, "NULL")
    assert caught.value.field == "kind" and "NULL_VALUE" in str(caught.value)
    assert enum_label(NULL, 0) == "NULL_VALUE"
    assert enum_label(NULL, 9) == 9  # open enums: an unknown number is kept


@pytest.mark.parametrize("given_members", [{}, {"a": "x", "b": ""}])
def test_a_oneof_takes_exactly_one_member(given_members: dict[str, object]) -> None:
    members = {"a": None, "b": None, **given_members}
    with pytest.raises(MacpValidationError) as caught:
        exactly_one("outcome", **members)
    assert caught.value.field == "outcome"
    exactly_one("outcome", a="", b=None)  # an empty string is a member given
