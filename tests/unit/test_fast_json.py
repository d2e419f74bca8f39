"""The write path's canonical JSON equals the general RFC 8785 writer's, byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit._canonical import canonical_json
from ledger.errors import InvalidInputError
from ledger.store._fast_json import canonical_bytes

scalars = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _general(obj: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(obj)
    except InvalidInputError:
        return InvalidInputError


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_bytes_equal_the_general_writer_or_are_refused_alike(obj: Any) -> None:
    expected = _general(obj)
    if expected is InvalidInputError:
        with pytest.raises(InvalidInputError):
            canonical_bytes(obj)
    else:
        assert canonical_bytes(obj) == expected


@pytest.mark.parametrize(
    "obj",
    [
        {"b": 1, "a": [True, None, "x"]},
        {"text": 'quote " and backslash \\ and / slash', "n": -(2**53) + 1},
        {"tab": "\t", "nul": "\x00", "del": "\x7f", "sep": "\u2028"},
        {"é": "ü", "𝄞": "emoji 😀", "a": "\ue000"},
    ],
)
def test_awkward_values_are_written_as_the_general_writer_writes_them(obj: Any) -> None:
    assert canonical_bytes(obj) == canonical_json(obj)


@pytest.mark.parametrize("obj", [{"big": 2**53}, {"f": 1.5}, {"lone": "\ud800"}])
def test_values_the_general_writer_refuses_are_refused(obj: Any) -> None:
    with pytest.raises(InvalidInputError):
        canonical_bytes(obj)
