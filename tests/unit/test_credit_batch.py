"""CreditBatch rules, in memory, with no storage and no keys (SPEC 4, R11)."""

from __future__ import annotations

import datetime

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given
from hypothesis import strategies as st

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.domain import CreditBatch, UnitState


def new_batch(start: int = 1, end: int = 100) -> CreditBatch:
    return CreditBatch.issue(
        registry="ccer-registry",
        instrument="ccer",
        vintage=2024,
        project="CCER-37-0001",
        province="Shandong",
        methodology="CM-001",
        serials=SerialRange(start, end),
        holder="org",
        today=datetime.date(2026, 11, 25),
    )


def retire(batch: CreditBatch, start: int, end: int, by: str = "org") -> None:
    batch.retire(
        SerialRange(start, end), by=by, event_name="Forum", beneficiary="Org", reason="neutral"
    )


def test_a_new_batch_holds_every_unit_for_its_holder() -> None:
    batch = new_batch()
    assert batch.units.total(UnitState.HELD) == 100
    assert [lot.account for lot in batch.lots()] == ["org"]


def test_a_retired_unit_cannot_be_retired_again() -> None:
    batch = new_batch()
    retire(batch, 10, 20)
    with pytest.raises(RuleViolationError, match=r"R11: cannot retire units 15-20 .* retired"):
        retire(batch, 15, 25)


def test_a_refused_retirement_emits_no_event() -> None:
    batch = new_batch()
    batch.collect_events()
    with pytest.raises(RuleViolationError):
        retire(batch, 90, 110)
    assert batch.collect_events() == []


def test_only_the_holder_may_retire() -> None:
    batch = new_batch()
    with pytest.raises(AuthorizationError, match=r"R11: cannot retire .* by 'org', not 'mallory'"):
        retire(batch, 1, 1, by="mallory")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("instrument", "vcs", "R7: unknown instrument"),
        ("vintage", 1899, "vintage must be a year"),
        ("vintage", 2027, "vintage 2027 is in the future"),
        ("project", " ", "project must be non-empty"),
        ("holder", "", "holder must be non-empty"),
    ],
)
def test_bad_issuance_input_is_refused(field: str, value: object, message: str) -> None:
    args: dict[str, object] = {
        "registry": "r",
        "instrument": "ccer",
        "vintage": 2024,
        "project": "p",
        "province": "Shandong",
        "methodology": "m",
        "serials": SerialRange(1, 2),
        "holder": "h",
        "today": datetime.date(2026, 11, 25),
    }
    args[field] = value
    with pytest.raises(InvalidInputError, match=message):
        CreditBatch.issue(**args)  # type: ignore[arg-type]


def replay(events: list[Aggregate.Event]) -> CreditBatch:
    batch = None
    for event in events:
        batch = event.mutate(batch)
    assert isinstance(batch, CreditBatch)
    return batch


@given(st.lists(st.tuples(st.integers(1, 120), st.integers(0, 30)), max_size=25))
def test_retirements_conserve_units_and_replay_equals_live_state(
    attempts: list[tuple[int, int]],
) -> None:
    batch = new_batch(1, 100)
    retired: set[int] = set()
    for start, length in attempts:
        wanted = set(range(start, start + length + 1))
        allowed = wanted <= set(range(1, 101)) and not wanted & retired
        try:
            retire(batch, start, start + length)
        except RuleViolationError:
            assert not allowed
        else:
            assert allowed
            retired |= wanted
    assert batch.units.total(UnitState.RETIRED) == len(retired)
    assert batch.units.total(UnitState.HELD) + len(retired) == 100
    assert replay(batch.collect_events()).lots() == batch.lots()
