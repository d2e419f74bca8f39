"""Value objects validate on construction and stay exact."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import Instrument, InvalidInputError, SerialRange
from ledger.domain import MAX_SERIAL


def test_a_reversed_serial_range_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="serial range 10-9 is reversed"):
        SerialRange(10, 9)


@pytest.mark.parametrize("bad", [0, -1, MAX_SERIAL + 1, 1.0, True, "7"])
def test_a_serial_must_be_a_positive_exact_integer(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="serial start"):
        SerialRange(bad, 10)  # type: ignore[arg-type]


def test_an_unknown_instrument_names_rule_r7() -> None:
    with pytest.raises(InvalidInputError, match=r"^R7: unknown instrument 'vcs'"):
        Instrument.parse("vcs")


ranges = st.tuples(st.integers(1, 200), st.integers(0, 50)).map(
    lambda t: SerialRange(t[0], t[0] + t[1])
)


@given(ranges, ranges)
def test_a_range_minus_another_keeps_exactly_the_units_outside_it(
    a: SerialRange, b: SerialRange
) -> None:
    units = {n for part in a.minus(b) for n in range(part.start, part.end + 1)}
    assert units == set(range(a.start, a.end + 1)) - set(range(b.start, b.end + 1))
    common = a.intersection(b)
    inside = set() if common is None else set(range(common.start, common.end + 1))
    assert inside == set(range(a.start, a.end + 1)) & set(range(b.start, b.end + 1))
