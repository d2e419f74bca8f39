"""EventNeutralization rules in memory (R1-R8, R10)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.accounting import FactorTable
from ledger.domain.event_neutralization import COMMITMENT_FIELDS, EventNeutralization
from ledger.domain.event_values import Line, Organiser, total_tonnes

UTC = datetime.UTC
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=UTC)
ENDS = datetime.datetime(2026, 5, 22, 18, tzinfo=UTC)
BEFORE, AFTER = STARTS - datetime.timedelta(days=30), ENDS + datetime.timedelta(days=3)


def event(participants: int = 300, **changes: object) -> EventNeutralization:
    facts: dict[str, object] = {
        "kind": "forum",
        "name": "Forum",
        "organisers": [Organiser("Org", "enterprise")],
        "venue": "Jinan",
        "starts": STARTS,
        "ends": ENDS,
        "participants": participants,
        "by": "org",
        **changes,
    }
    return EventNeutralization.register(**facts)  # type: ignore[arg-type]


def planned(participants: int = 300) -> EventNeutralization:
    e = event(participants)
    e.publish_plan(
        boundary=["lodging"],
        estimates={"lodging": 10},
        measures=["m"],
        offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
        now=BEFORE,
        by="org",
    )
    return e


def allocate(
    e: EventNeutralization,
    *,
    rank: int,
    reason: str | None = None,
    best_available: int | None = None,
    end: int = 5,
) -> None:
    e.allocate(
        batch="b",
        serials=SerialRange(1, end),
        tonnes=Decimal(end),
        rank=rank,
        best_available=best_available,
        reason=reason,
        by="org",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "party"}, r"R1: unknown EventKind 'party'"),
        ({"organisers": []}, r"R1: an event has at least one organiser"),
        ({"ends": STARTS}, r"R1: an event ends after it starts"),
        ({"participants": 0}, r"R1: participants must be a positive integer"),
    ],
)
def test_r1_bad_registrations_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        event(**changes)


def test_r1_an_unknown_organisation_type_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"R1: unknown OrganisationType 'club'"):
        Organiser("x", "club")


def test_r4_plan_revisions_are_new_versions() -> None:
    e = planned()
    e.publish_plan(
        boundary=["lodging", "catering"],
        estimates={"catering": 3},
        measures=[],
        offsets=[{"instrument": "ccer", "province": "Shandong"}],
        now=BEFORE,
        by="org",
    )
    assert [p["version"] for p in e.plans] == [1, 2]
    assert e.plans[0]["boundary"] == ["lodging"]


def test_r4_estimates_must_lie_inside_the_boundary() -> None:
    with pytest.raises(InvalidInputError, match=r"R4: the plan's estimates must be by sources"):
        event().publish_plan(
            boundary=["lodging"],
            estimates={"waste": 1},
            measures=[],
            offsets=[{"instrument": "cea", "province": "x"}],
            now=BEFORE,
            by="org",
        )


def test_r5_measures_record_expected_then_achieved_effects() -> None:
    e = event()
    e.record_measure(kind="clean-plate", description="no buffet waste", expected_tonnes=2, by="org")
    e.report_measure(number=1, achieved_tonnes=Decimal("1.5"), by="org")
    assert e.measures[0]["achieved"] == Decimal("1.5")
    with pytest.raises(InvalidInputError, match=r"R5: unknown MeasureKind"):
        e.record_measure(kind="planting", description="x", expected_tonnes=1, by="org")
    with pytest.raises(InvalidInputError, match=r"R5: there is no measure 2"):
        e.report_measure(number=2, achieved_tonnes=1, by="org")


def test_r6_lines_are_exact_and_floats_are_refused() -> None:
    line = Line("lodging", Decimal("3"), "room-night", Decimal("53.5"), "DESNZ 2025", 2025)
    assert line.kilograms == Decimal("160.5")
    assert total_tonnes([line]) == Decimal("0.161")
    with pytest.raises(InvalidInputError, match="must be an exact int or Decimal"):
        Line("lodging", 3.0, "room-night", Decimal("53.5"), "DESNZ", 2025)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"R6: unknown Source"):
        Line("fireworks", 1, "kg", 1, "x", 2025)


def test_r6_accounting_waits_for_the_event_to_end() -> None:
    e = planned()
    with pytest.raises(RuleViolationError, match=r"R6: .* after it ends"):
        e.account(lines=[FactorTable.default()["coach"].line(100)], now=STARTS, by="org")


def test_r8_a_deviation_without_reason_is_refused() -> None:
    e = planned()
    with pytest.raises(RuleViolationError, match=r"R8: an offset of priority rank 3 while rank 1"):
        allocate(e, rank=3)
    allocate(e, rank=3, reason="no inclusion credits left on the market")
    assert e.allocations[0]["deviation"] is True


def test_r8_the_best_available_rank_counts_even_when_not_planned() -> None:
    e = event()
    e.publish_plan(
        boundary=["lodging"],
        estimates={},
        measures=[],
        offsets=[{"instrument": "cea", "province": "Shandong"}],
        now=BEFORE,
        by="org",
    )
    with pytest.raises(RuleViolationError, match=r"R8: .* rank 3 while rank 2"):
        allocate(e, rank=3, best_available=2, reason="")


def test_r3_a_commitment_must_state_every_field() -> None:
    e = event()
    statement = {field: "x" for field in COMMITMENT_FIELDS} | {"event_name": "Forum", "scale": 300}
    for field in COMMITMENT_FIELDS:
        with pytest.raises(InvalidInputError, match=rf"R3: the commitment lacks {field}"):
            e.commit(statement={**statement, field: ""}, by="org")
    with pytest.raises(InvalidInputError, match=r"R3: the commitment's event name and scale"):
        e.commit(statement={**statement, "scale": 301}, by="org")
    e.commit(statement=statement, by="org")
    assert e.commitment == statement


def test_only_the_lead_organiser_acts_for_the_event() -> None:
    with pytest.raises(AuthorizationError, match=r"R1: only the lead organiser 'org'"):
        planned().record_measure(kind="other", description="x", expected_tonnes=1, by="mallory")


def test_r10_neutralization_is_due_six_months_after_the_end() -> None:
    (deadline,) = event().deadlines()
    assert deadline.due == datetime.date(2026, 11, 22)


def test_r4_a_plan_names_at_least_one_planned_offset_method() -> None:
    with pytest.raises(InvalidInputError, match=r"R4: the plan names at least one planned offset"):
        event().publish_plan(
            boundary=["lodging"], estimates={}, measures=[], offsets=[], now=BEFORE, by="org"
        )


def test_r6_an_accounting_without_lines_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"R6: an accounting has at least one line"):
        planned().account(lines=[], now=AFTER, by="org")


def accounted_and_offset(participants: int = 300) -> EventNeutralization:
    e = planned(participants)
    e.account(lines=[FactorTable.default()["coach"].line(1000)], now=AFTER, by="org")
    allocate(e, rank=1, end=1)
    e.record_retirement(batch="b", serials=SerialRange(1, 1), certificate="c1", by="org")
    return e


def test_r7_only_an_open_allocation_is_recorded_as_retired_and_only_once() -> None:
    e = accounted_and_offset()
    with pytest.raises(RuleViolationError, match=r"R7: units 2-2 of batch b are not an open"):
        e.record_retirement(batch="b", serials=SerialRange(2, 2), certificate="c2", by="org")
    with pytest.raises(RuleViolationError, match=r"R7: units 1-1 of batch b are not an open"):
        e.record_retirement(batch="b", serials=SerialRange(1, 1), certificate="c1", by="org")
    assert e.retired == Decimal(1)


def test_r2_an_evaluation_concludes_neutral_or_not_and_needs_an_accounting() -> None:
    e = planned(1200)
    with pytest.raises(RuleViolationError, match=r"R6: 'Forum' has no accounting to evaluate"):
        e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="verifier")
    e.account(lines=[FactorTable.default()["coach"].line(1000)], now=AFTER, by="org")
    with pytest.raises(InvalidInputError, match=r"R2: an evaluation concludes 'neutral' or"):
        e.evaluate(conclusion="probably", verified_tonnes=1, report="r", by="verifier")
    e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="verifier")
    assert e.evaluation is not None and e.evaluation["conclusion"] == "neutral"


def test_an_event_is_confirmed_only_once_and_only_after_accounting() -> None:
    e = planned()
    with pytest.raises(RuleViolationError, match=r"R6: 'Forum' is not accounted yet"):
        e.confirm(now=AFTER, by="org")
    e = accounted_and_offset()
    statement = {field: "x" for field in COMMITMENT_FIELDS} | {"event_name": "Forum", "scale": 300}
    e.commit(statement=statement, by="org")
    e.confirm(now=AFTER, by="org")
    with pytest.raises(RuleViolationError, match=r"R7: 'Forum' is already confirmed"):
        e.confirm(now=AFTER, by="org")
    assert e.confirmed_on == AFTER.date()
