"""The strict JSON reader of every outside JSON document (issue 11, item 9; docs/security.md)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledger import InvalidInputError
from ledger.audit import strict_json
from ledger.errors import MalformedInputError


def refused(data: str | bytes, match: str, *, exact: bool = False) -> MalformedInputError:
    with pytest.raises(MalformedInputError, match=match) as caught:
        strict_json.loads(data, source="in.json", exact=exact)
    assert "\n" not in str(caught.value)
    return caught.value


def test_a_duplicated_member_is_refused_not_read_by_its_last_value() -> None:
    error = refused('{"format": "a", "x": {"k": 1, "k": 2}}', r"^in\.json has the member 'k' twice")
    assert (error.source, error.problem) == ("in.json", "has the member 'k' twice in one object")


def test_nesting_up_to_64_levels_is_read_and_deeper_is_refused() -> None:
    assert strict_json.MAX_DEPTH == 64
    assert strict_json.loads("[" * 64 + "]" * 64, source="in.json") is not None
    refused("[" * 65 + "]" * 65, "nests arrays and objects deeper than 64 levels")
    refused('{"a":' * 65 + "1" + "}" * 65, "deeper than 64 levels")


def test_a_million_open_brackets_are_refused_without_a_recursion_error() -> None:
    refused("[" * 1_000_000, "deeper than 64 levels")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"a": "[" * 500, "b": '\\"{' * 100})
    assert strict_json.loads(text, source="in.json")["a"] == "[" * 500


def test_an_integer_of_more_than_64_digits_is_refused_before_it_is_converted() -> None:
    assert strict_json.MAX_DIGITS == 64
    assert strict_json.loads("9" * 64, source="in.json") == int("9" * 64)
    refused("9" * 65, "has a number of more than 64 digits")
    refused('{"size": ' + "9" * 5000 + "}", "has a number of more than 64 digits")
    refused("0." + "1" * 5000, "more than 64 digits", exact=True)


def test_nan_and_infinity_are_refused() -> None:
    refused("NaN", "has NaN, which is not a JSON number")
    refused('{"a": [Infinity]}', "has Infinity")
    refused("-Infinity", "has -Infinity", exact=True)
    refused("1e400", "too large for a float")


def test_bytes_that_are_not_utf8_are_refused() -> None:
    refused(b'{"actor": "\xff"}', r"is not UTF-8 \(byte 0xff at offset 11\)")
    refused(json.dumps({"a": "x"}).encode("utf-16"), "is not UTF-8")


def test_an_escaped_lone_surrogate_is_refused_and_a_pair_is_read() -> None:
    refused('{"actor": "\\ud800"}', "lone surrogate")
    assert strict_json.loads('"\\ud83d\\ude00"', source="in.json") == "\U0001f600"
    assert strict_json.loads('"\\\\ud800"', source="in.json") == "\\ud800"


def test_a_byte_order_mark_before_json_is_refused() -> None:
    refused(b"\xef\xbb\xbf{}", "starts with a byte order mark")


def test_text_that_is_not_json_names_the_line_and_column() -> None:
    refused('{"a": 1,\n "b" 2}', "is not JSON: Expecting ':' delimiter at line 2 column 6")


def test_fractions_are_decimal_only_where_the_reader_asks_for_exact_numbers() -> None:
    assert strict_json.loads('{"t": 1.50}', source="in.json") == {"t": 1.5}
    exact = strict_json.loads('{"t": 1.50, "n": 2}', source="in.json", exact=True)
    assert exact == {"t": Decimal("1.50"), "n": 2}
    assert isinstance(exact["t"], Decimal) and isinstance(exact["n"], int)


def test_a_strict_json_error_is_an_invalid_input_error_and_a_value_error() -> None:
    error = refused("[1,]", "is not JSON")
    assert isinstance(error, InvalidInputError) and isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", Decimal(12)), (" 0.6410 ", Decimal("0.6410")), ("-3.5", Decimal("-3.5"))],
)
def test_decimal_text_reads_ascii_digits_exactly(text: str, number: Decimal) -> None:
    assert strict_json.decimal_text("unit", text) == number
    assert str(strict_json.decimal_text("unit", text)) == str(number)


@pytest.mark.parametrize(
    "text", ["1²", "١٢", "1_000", "1e3", "NaN", "Infinity", "1.", ".5", "1 000", "", "+1", None]
)
def test_number_text_with_anything_but_ascii_digits_is_refused_in_one_line(
    text: str | None,
) -> None:
    with pytest.raises(
        InvalidInputError, match=r"^row 3 serial_end .* is not an integer of at most 64 dig"
    ):
        strict_json.integer_text("row 3 serial_end", text)
    with pytest.raises(InvalidInputError, match=r"^R6: line 2 activity .* is not a decimal num"):
        strict_json.decimal_text("line 2 activity", text, rule="R6")


def test_number_text_of_too_many_digits_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInputError, match=r"^unit of 65 characters is not a decimal"):
        strict_json.decimal_text("unit", "9" * 65)
