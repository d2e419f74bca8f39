"""The canonical JSON writer gives RFC 8785's bytes (its fast path is checked against rfc8785)."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit._canonical import canonical_json
from ledger.errors import InvalidInputError

_LIMIT = 2**53 - 1
_TEXT = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=12
)  # any code point, surrogates and controls included
_KEYS = st.one_of(_TEXT, st.text(st.characters(max_codepoint=0x7F), max_size=8))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-_LIMIT - 3, max_value=_LIMIT + 3),
    st.integers(),
    _TEXT,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(_KEYS, inner, max_size=5),
    ),
    max_leaves=25,
)


def _reference(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@settings(max_examples=600, deadline=None)
@given(_VALUES)
def test_canonical_json_writes_the_bytes_rfc8785_writes_or_refuses_what_it_refuses(
    value: Any,
) -> None:
    expected = _reference(value)
    if expected is None:
        with pytest.raises(InvalidInputError):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2},  # UTF-16 order differs from code point order
        {"a": "\ud800"},  # a lone surrogate
        {"n": 2**53},  # beyond exact integers
        {"s": '\x00\x1f\x7f\u2028"\\\b\f\n\r\t'},
        [True, False, None, -(2**53) + 1, (1, 2)],
    ],
)
def test_canonical_json_agrees_with_rfc8785_where_a_fast_writer_could_go_wrong(
    value: Any,
) -> None:
    expected = _reference(value)
    if expected is None:
        with pytest.raises(InvalidInputError):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


def test_canonical_json_refuses_a_float_anywhere() -> None:
    with pytest.raises(InvalidInputError, match=r"float 0\.5 in signed data"):
        canonical_json({"a": [1, {"b": 0.5}]})
