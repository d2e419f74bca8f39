"""The canonical JSON writer gives RFC 8785's bytes (its fast path is checked against rfc8785)."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import _strict_json as strict_json
from ledger.audit._canonical import canonical_json, canonical_object
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


# canonical_object: the fast reader of bytes that must be exactly canonical (stored envelopes
# and payloads). Sound: whatever it accepts, the strict reader accepts with the same value and
# RFC 8785 writes back byte for byte. Complete enough: every canonical object is accepted.

_TRICKS = [b" ", b"\\u0041", b',"a":1', b".0", b"e0", b"\xef\xbb\xbf", b"0", b"-", b"\\ud800",
           b"[", b"{", b"}", b'"', b"\\", b"\xc3\xa9", b"1234567890123456", b"NaN"]  # fmt: skip


def _canonical_document(value: Any) -> bytes | None:
    return _reference({"v": value, "k": [value]})


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_canonical_object_reads_every_canonical_object_as_the_strict_reader_does(
    value: Any,
) -> None:
    data = _canonical_document(value)
    if data is None:
        return
    assert canonical_object(data) == strict_json.loads(data, source="test")


@settings(max_examples=800, deadline=None)
@given(_VALUES, st.data())
def test_canonical_object_accepts_only_what_strict_reading_and_rfc8785_accept(
    value: Any, data: st.DataObject
) -> None:
    original = _canonical_document(value)
    if original is None:
        return
    at = data.draw(st.integers(0, len(original)))
    cut = data.draw(st.integers(0, 2))
    trick = data.draw(st.sampled_from(_TRICKS))
    changed = original[:at] + trick + original[at + cut :]
    found = canonical_object(changed)
    if found is not None:
        strict = strict_json.loads(changed, source="test")
        assert found == strict
        assert rfc8785.dumps(strict) == changed


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":1}',  # a duplicate member written back once
        b'{"a":1.0}',  # a float
        b'{"a":9007199254740993}',  # beyond exact integers
        b'{"a":NaN}',
        b'\xef\xbb\xbf{"a":1}',  # a byte order mark
        b'{"a":"\\ud800"}',  # an escaped lone surrogate
        b'{"\xee\x80\x80":1,"\xf0\x9f\x98\x80":2}',  # code point order, not UTF-16 order
        b'{"b":1,"a":2}',  # members out of order
        b'{"a": 1}',  # a blank
        b"[1]",  # not an object
        b"{" * 65 + b"}" * 65,  # nested too deep
    ],
)
def test_canonical_object_gives_no_verdict_on_bytes_the_strict_reader_must_judge(
    data: bytes,
) -> None:
    assert canonical_object(data) is None
