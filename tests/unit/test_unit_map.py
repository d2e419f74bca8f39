"""The unit map agrees, unit by unit, with a plain per-unit model of states and accounts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain._units import UnitMap, UnitState
from ledger.domain.values import SerialRange

FIRST, LAST = 10, 70
STATES = list(UnitState)

spans = st.tuples(st.integers(FIRST, LAST), st.integers(FIRST, LAST)).map(
    lambda pair: SerialRange(min(pair), max(pair))
)
steps = st.lists(
    st.tuples(spans, st.sampled_from(STATES), st.sampled_from(["a", "b", "c"])), max_size=40
)


def _units(units: UnitMap) -> dict[int, tuple[UnitState, str]]:
    found: dict[int, tuple[UnitState, str]] = {}
    for lot in units.lots:
        for serial in range(lot.serials.start, lot.serials.end + 1):
            assert serial not in found, f"serial {serial} is in two lots"
            found[serial] = (lot.state, lot.account)
    return found


@settings(max_examples=200, deadline=None)
@given(steps=steps, probe=spans)
def test_assign_and_within_agree_with_a_per_unit_model(
    steps: list[tuple[SerialRange, UnitState, str]], probe: SerialRange
) -> None:
    units = UnitMap.issued(SerialRange(FIRST, LAST), "a")
    model = {serial: (UnitState.HELD, "a") for serial in range(FIRST, LAST + 1)}
    for span, state, account in steps:
        units = units.assign(span, state, account)
        for serial in range(span.start, span.end + 1):
            model[serial] = (state, account)
        assert _units(units) == model
        starts = [lot.serials.start for lot in units.lots]
        assert starts == sorted(starts)
    clipped = UnitMap(units.within(probe))
    assert _units(clipped) == {s: model[s] for s in range(probe.start, probe.end + 1)}


@given(steps=steps, at=st.integers(FIRST + 1, LAST))
def test_split_after_assignments_keeps_every_unit_where_it_was(
    steps: list[tuple[SerialRange, UnitState, str]], at: int
) -> None:
    units = UnitMap.issued(SerialRange(FIRST, LAST), "a")
    for span, state, account in steps:
        units = units.assign(span, state, account)
    assert _units(units.split(at)) == _units(units)
