"""Envelope ids are lowercase UUID v4 strings; installed versions match importlib.metadata.

Both replaced slower standard-library paths (``uuid.uuid4`` objects on every send,
``importlib.metadata`` on every ``import macp_sdk`` and no-op ``check``), so they are checked
against those paths here.
"""

from __future__ import annotations

import re
import uuid
from importlib import metadata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from macp_core._dist import _normalized, installed_version
from macp_sdk.envelope import (
    is_valid_session_id,
    new_commitment_id,
    new_message_id,
    new_session_id,
)


@pytest.mark.parametrize("make", [new_session_id, new_message_id, new_commitment_id])
def test_ids_are_lowercase_uuid4_strings(make: object) -> None:
    assert callable(make)
    ids = [make() for _ in range(2_000)]
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value  # canonical: lowercase, hyphenated
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert is_valid_session_id(value)
    assert len(set(ids)) == len(ids)
    # Every value of the variant digit shows up: the random bits are not stuck.
    assert {value[19] for value in ids} == set("89ab")


@pytest.mark.parametrize(
    "distribution", ["protobuf", "grpcio", "grpcio-tools", "mypy_protobuf", "Jinja2", "ruff"]
)
def test_installed_version_agrees_with_importlib_metadata(distribution: str) -> None:
    assert installed_version(distribution) == metadata.version(distribution)


def test_an_absent_distribution_has_no_version() -> None:
    assert installed_version("surely-not-installed-macp-dist") is None


@given(st.text(alphabet="-_.aZ9", max_size=12))
def test_name_normalisation_collapses_separator_runs_like_pep_503(name: str) -> None:
    assert _normalized(name) == re.sub(r"[-_.]+", "_", name).lower()
