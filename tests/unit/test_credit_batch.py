"""CreditBatch rules, in memory, with no storage and no keys (SPEC 4, R11)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given
from hypothesis import strategies as st

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.domain import CreditBatch, UnitState, replay_checked

ISSUANCE: dict[str, object] = {
    "registry": "ccer-registry",
    "instrument": "ccer",
    "vintage": 2024,
    "project": "CCER-37-0001",
    "province": "Shandong",
    "methodology": "CM-001",
    "holder": "org",
    "today": datetime.date(2026, 11, 25),
}


def new_batch(start: int = 1, end: int = 100, **changes: object) -> CreditBatch:
    facts = {**ISSUANCE, "serials": SerialRange(start, end), **changes}
    return CreditBatch.issue(**facts)  # type: ignore[arg-type]


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
    with pytest.raises(InvalidInputError, match=message):
        new_batch(**{field: value})


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


def held_by(batch: CreditBatch) -> dict[str, int]:
    totals: dict[str, int] = {}
    for lot in batch.lots():
        if lot.state is UnitState.HELD:
            totals[lot.account] = totals.get(lot.account, 0) + lot.serials.quantity
    return totals


def test_a_transfer_moves_a_sub_range_to_another_account() -> None:
    batch = new_batch()
    batch.transfer(SerialRange(1, 30), by="org", to="buyer")
    assert held_by(batch) == {"buyer": 30, "org": 70}


def test_units_cannot_be_transferred_to_the_same_account() -> None:
    with pytest.raises(InvalidInputError, match="from 'org' to itself"):
        new_batch().transfer(SerialRange(1, 3), by="org", to="org")


def test_a_retired_unit_never_moves_again() -> None:
    batch = new_batch()
    retire(batch, 1, 10)
    with pytest.raises(RuleViolationError, match=r"R11: cannot transfer units 5-10 .* never move"):
        batch.transfer(SerialRange(5, 20), by="org", to="buyer")


def test_an_exported_unit_never_moves_again() -> None:
    batch = new_batch()
    batch.export(SerialRange(1, 10), by="org", target_registry="verra", reason="moved")
    with pytest.raises(RuleViolationError, match=r"R11: cannot retire units 1-10 .* exported"):
        retire(batch, 1, 10)
    assert batch.lots()[0].purpose == "verra"


def test_a_batch_cannot_be_exported_to_its_own_registry() -> None:
    with pytest.raises(InvalidInputError, match=r"R11: cannot export batch .* own registry"):
        new_batch().export(SerialRange(1, 1), by="org", target_registry="ccer-registry", reason="x")


def test_reserved_units_retire_only_for_their_event() -> None:
    batch = new_batch()
    batch.reserve(SerialRange(1, 50), by="org", event_name="Forum")
    with pytest.raises(RuleViolationError, match=r"R11: cannot retire .* reserved for 'Forum'"):
        batch.retire(SerialRange(1, 10), by="org", beneficiary="b", reason="r", event_name="Expo")
    batch.retire(SerialRange(1, 10), by="org", beneficiary="b", reason="r", event_name="Forum")
    assert batch.units.total(UnitState.RESERVED) == 40
    assert batch.units.total(UnitState.RETIRED) == 10


def test_reserved_units_cannot_be_transferred_until_released() -> None:
    batch = new_batch()
    batch.reserve(SerialRange(1, 50), by="org", event_name="Forum")
    with pytest.raises(RuleViolationError, match=r"R11: cannot transfer .* reserved for 'Forum'"):
        batch.transfer(SerialRange(40, 60), by="org", to="buyer")
    with pytest.raises(RuleViolationError, match=r"R11: cannot release .* reserved for 'Forum'"):
        batch.release(SerialRange(1, 50), by="org", event_name="Expo")
    batch.release(SerialRange(1, 50), by="org", event_name="Forum")
    batch.transfer(SerialRange(40, 60), by="org", to="buyer")
    assert held_by(batch) == {"org": 79, "buyer": 21}


def test_held_units_cannot_be_released() -> None:
    with pytest.raises(RuleViolationError, match=r"R11: cannot release units 1-5 .* they are held"):
        new_batch().release(SerialRange(1, 5), by="org", event_name="Forum")


def test_a_split_divides_a_holding_in_two() -> None:
    batch = new_batch()
    batch.split(41, by="org")
    assert [str(lot.serials) for lot in batch.lots()] == ["1-40", "41-100"]
    with pytest.raises(InvalidInputError, match="serial 41 already starts a holding"):
        batch.split(41, by="org")
    with pytest.raises(AuthorizationError, match="R11: cannot split"):
        batch.split(60, by="mallory")


def test_whole_tonne_instruments_refuse_fractional_units() -> None:
    with pytest.raises(InvalidInputError, match="R7: ccer is issued in whole tonnes"):
        new_batch(unit=Decimal("0.1"))


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (0.1, "R7: unit must be an exact int or Decimal, got 0.1"),
        (True, "R7: unit must be an exact int or Decimal, got True"),
        (Decimal("0.5"), r"R7: unit 0.5 tCO2e is not 1, 0.1, 0.01 or 0.001"),
    ],
)
def test_a_unit_size_is_exact_and_one_of_the_policy_sizes(unit: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        new_batch(instrument="inclusion-other", unit=unit)


def test_carbon_inclusion_units_may_be_fractions_of_a_tonne_and_stay_exact() -> None:
    batch = new_batch(1, 3000, instrument="inclusion-other", unit=Decimal("0.001"))
    assert batch.tonnes(1234) == Decimal("1.234")


@pytest.mark.parametrize(
    ("instrument", "province", "rank"),
    [
        ("inclusion-forest", "Shandong", 1),
        ("inclusion-marine", "Shandong", 1),
        ("ccer", "Shandong", 2),
        ("other", "山东省", 2),
        ("cea", "Shandong", 3),
        ("ccer", "Hebei", 4),
    ],
)
def test_the_r8_priority_rank_is_derived_from_instrument_and_province(
    instrument: str, province: str, rank: int
) -> None:
    batch = new_batch(instrument=instrument, province=province)
    assert batch.priority_rank == rank


def test_replay_rechecks_every_rule_and_accepts_a_lawful_history() -> None:
    batch = new_batch()
    batch.transfer(SerialRange(1, 50), by="org", to="buyer")
    batch.reserve(SerialRange(1, 10), by="buyer", event_name="Forum")
    retire(batch, 60, 70)
    batch.split(80, by="org")
    replayed = replay_checked(batch.collect_events())
    assert replayed.lots() == batch.lots()


def test_replay_rejects_a_signed_event_that_no_command_allows() -> None:
    batch = new_batch()
    batch._transferred(serial_start=1, serial_end=10, actor="mallory", to="mallory-2")
    with pytest.raises(
        AuthorizationError, match=r"R11: cannot transfer units 1-10 .* not 'mallory'"
    ):
        replay_checked(batch.collect_events())


def test_replay_rejects_a_second_retirement_of_the_same_units() -> None:
    batch = new_batch()
    retire(batch, 1, 10)
    batch._retired(
        serial_start=5, serial_end=6, actor="org", event_name=None, beneficiary="b", reason="r"
    )
    with pytest.raises(RuleViolationError, match=r"R11: cannot retire units 5-6 .* retired"):
        replay_checked(batch.collect_events())


def test_replay_rejects_a_second_issuance_and_an_event_before_the_issuance() -> None:
    batch = new_batch()
    batch.transfer(SerialRange(1, 50), by="org", to="buyer")
    issued, transferred = batch.collect_events()
    with pytest.raises(RuleViolationError, match=r"R11: batch .* is issued twice"):
        replay_checked([issued, issued])
    with pytest.raises(RuleViolationError, match=r"R11: event .* comes before the issuance"):
        replay_checked([transferred])


def test_replay_rejects_an_issuance_whose_unit_is_not_written_as_the_ledger_signs_it() -> None:
    (issued,) = new_batch().collect_events()
    forged = type(issued)(**{**vars(issued), "unit": Decimal("1.0")})
    with pytest.raises(RuleViolationError, match=r"^R7: unit 1.0 is not written as the ledger"):
        replay_checked([forged])
