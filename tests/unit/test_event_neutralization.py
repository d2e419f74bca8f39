"""EventNeutralization rules in memory (R1-R8, R10)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.accounting import FactorTable
from ledger.domain.event_neutralization import COMMITMENT_FIELDS, EventNeutralization, Phase
from ledger.domain.event_values import Line, Organiser, total_tonnes

UTC = datetime.UTC
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=UTC)
ENDS = datetime.datetime(2026, 5, 22, 18, tzinfo=UTC)
BEFORE, AFTER = STARTS - datetime.timedelta(days=30), ENDS + datetime.timedelta(days=3)
BATCH = "00000000-0000-4000-8000-00000000000b"


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
        batch=BATCH,
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
    assert [p.version for p in e.plans] == [1, 2]
    assert e.plans[0].boundary == ("lodging",)


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
    assert e.measures[0].achieved == Decimal("1.5")
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
    assert e.allocations[0].deviation is True


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


def test_r3_a_commitment_must_state_every_field_as_the_record_has_it() -> None:
    e = accounted_and_offset()
    statement = e.commitment_statement(AFTER.date())
    for field in COMMITMENT_FIELDS:
        with pytest.raises(InvalidInputError, match=rf"R3: the commitment lacks {field}"):
            e.commit(statement={**statement, field: ""}, by="org")
    with pytest.raises(InvalidInputError, match=r"R3: the commitment's scale must state the rec"):
        e.commit(statement={**statement, "scale": 301}, by="org")
    stale = {**statement["offset_method_and_date"], "retired_tonnes": "0"}
    with pytest.raises(InvalidInputError, match=r"R3: the commitment's offset_method_and_date"):
        e.commit(statement={**statement, "offset_method_and_date": stale}, by="org")
    undated = {**statement["offset_method_and_date"], "date": "soon"}
    with pytest.raises(InvalidInputError, match=r"R3: .*date must be an ISO date, got 'soon'"):
        e.commit(statement={**statement, "offset_method_and_date": undated}, by="org")
    e.commit(statement=statement, by="org")
    assert e.commitment is not None and e.commitment.statement == statement
    assert e.phase is Phase.COMMITTED


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
    e.record_retirement(batch=BATCH, serials=SerialRange(1, 1), certificate=f"{BATCH}:2", by="org")
    return e


def commit(e: EventNeutralization) -> None:
    e.commit(statement=e.commitment_statement(AFTER.date()), by="org")


def test_r7_only_an_open_allocation_is_recorded_as_retired_and_only_once() -> None:
    e = accounted_and_offset()
    with pytest.raises(RuleViolationError, match=r"R7: units 2-2 of batch .* are not an open"):
        e.record_retirement(
            batch=BATCH, serials=SerialRange(2, 2), certificate=f"{BATCH}:3", by="org"
        )
    with pytest.raises(RuleViolationError, match=r"R7: units 1-1 of batch .* are not an open"):
        e.record_retirement(
            batch=BATCH, serials=SerialRange(1, 1), certificate=f"{BATCH}:3", by="org"
        )
    assert e.retired == Decimal(1)


def test_r11_a_retirement_names_a_new_certificate_of_its_own_batch() -> None:
    e = planned()
    allocate(e, rank=1, end=3)
    with pytest.raises(RuleViolationError, match=r"R7: units 1-3 of batch .* already allocated"):
        allocate(e, rank=1, end=3)
    e = planned()
    allocate(e, rank=1, end=1)
    other = "00000000-0000-4000-8000-0000000000cc"
    with pytest.raises(RuleViolationError, match=r"R11: certificate .* is not a new certificate"):
        e.record_retirement(
            batch=BATCH, serials=SerialRange(1, 1), certificate=f"{other}:2", by="org"
        )
    with pytest.raises(InvalidInputError, match=r"^certificate must be '<batch id>:<batch ver"):
        e.record_retirement(batch=BATCH, serials=SerialRange(1, 1), certificate="c1", by="org")


def test_an_allocation_names_its_batch_by_id_and_a_rank_from_one_to_four() -> None:
    with pytest.raises(InvalidInputError, match=r"^batch must be a batch id \(a UUID\), got 'b'"):
        planned().allocate(
            batch="b",
            serials=SerialRange(1, 1),
            tonnes=Decimal(1),
            rank=1,
            best_available=None,
            reason=None,
            by="org",
        )
    with pytest.raises(InvalidInputError, match=r"R8: rank must be an R8 rank 1 to 4, got 7"):
        allocate(planned(), rank=7)
    assert planned().allocations == ()
    e = planned()
    allocate(e, rank=1)
    assert e.allocations[0].batch == UUID(BATCH)


def test_r2_an_evaluation_concludes_neutral_or_not_and_needs_an_accounting() -> None:
    e = planned(1200)
    with pytest.raises(
        RuleViolationError, match=r"R2: cannot evaluate 'Forum': it is not accounte"
    ):
        e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="verifier")
    e.account(lines=[FactorTable.default()["coach"].line(1000)], now=AFTER, by="org")
    with pytest.raises(InvalidInputError, match=r"R2: an evaluation concludes 'neutral' or"):
        e.evaluate(conclusion="probably", verified_tonnes=1, report="r", by="verifier")
    with pytest.raises(AuthorizationError, match=r"R2: the lead organiser 'org' cannot evaluate"):
        e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="org")
    e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="verifier")
    assert e.evaluation is not None and e.evaluation.conclusion == "neutral"
    with pytest.raises(RuleViolationError, match=r"R2: cannot evaluate 'Forum': it is already ev"):
        e.evaluate(conclusion="neutral", verified_tonnes=1, report="r", by="verifier")


def test_an_event_is_confirmed_only_once_and_only_after_accounting() -> None:
    e = planned()
    with pytest.raises(
        RuleViolationError, match=r"R6: cannot confirm 'Forum': it is not accounted"
    ):
        e.confirm(now=AFTER, by="org")
    with pytest.raises(RuleViolationError, match=r"R4: cannot confirm 'Forum': it has no publish"):
        event().confirm(now=AFTER, by="org")
    e = accounted_and_offset()
    commit(e)
    e.confirm(now=AFTER, by="org")
    with pytest.raises(RuleViolationError, match=r"R7: cannot confirm 'Forum': it is already conf"):
        e.confirm(now=AFTER, by="org")
    assert e.confirmed_on == AFTER.date()
    assert e.state(AFTER) is Phase.CONFIRMED


def test_r3_a_commitment_comes_only_after_an_accounting_that_the_retirements_cover() -> None:
    with pytest.raises(RuleViolationError, match=r"R3: cannot commit 'Forum': it is not accounted"):
        commit(planned())
    e = planned()
    e.account(lines=[FactorTable.default()["coach"].line(1000)], now=AFTER, by="org")
    with pytest.raises(RuleViolationError, match=r"R3: cannot commit 'Forum': its retired tonnes"):
        commit(e)
    e = accounted_and_offset()
    commit(e)
    with pytest.raises(RuleViolationError, match=r"R3: cannot commit 'Forum': it is already comm"):
        commit(e)


def test_r3_an_evaluated_event_commits_only_when_its_retirements_cover_the_accounting() -> None:
    e = planned(300)
    e.account(lines=[FactorTable.default()["coach"].line(100000)], now=AFTER, by="org")
    e.evaluate(conclusion="not-neutral", verified_tonnes=3, report="r", by="verifier")
    assert e.phase is Phase.EVALUATED
    with pytest.raises(RuleViolationError, match=r"R3: a commitment for 'Forum' needs the retired"):
        commit(e)


def test_a_new_accounting_makes_the_commitment_stale_and_confirmation_needs_a_new_one() -> None:
    e = accounted_and_offset()
    commit(e)
    e.account(lines=[FactorTable.default()["coach"].line(500)], now=AFTER, by="org")
    assert e.phase is Phase.OFFSET
    with pytest.raises(RuleViolationError, match=r"R3: 'Forum' \(tier self_commitment\) needs"):
        e.confirm(now=AFTER, by="org")
    commit(e)
    e.confirm(now=AFTER, by="org")
    assert e.commitment is not None and e.commitment.accounting_version == 2


def test_after_confirmation_the_record_is_closed_to_every_command() -> None:
    e = accounted_and_offset()
    commit(e)
    e.confirm(now=AFTER, by="org")
    closed = r"R7: cannot \w+ 'Forum': it is already confirmed and its record is closed"
    with pytest.raises(RuleViolationError, match=closed):
        e.account(lines=[FactorTable.default()["coach"].line(99000)], now=AFTER, by="org")
    with pytest.raises(RuleViolationError, match=closed):
        e.evaluate(conclusion="not-neutral", verified_tonnes=9, report="r", by="verifier")
    with pytest.raises(RuleViolationError, match=closed):
        allocate(e, rank=1, end=9)
    with pytest.raises(RuleViolationError, match=closed):
        e.record_measure(kind="other", description="x", expected_tonnes=1, by="org")
    with pytest.raises(RuleViolationError, match=closed):
        e.report_measure(number=1, achieved_tonnes=1, by="org")
    with pytest.raises(RuleViolationError, match=closed):
        commit(e)
    assert e.phase is Phase.CONFIRMED and len(e.accountings) == 1


def test_a_not_neutral_evaluation_on_the_latest_accounting_blocks_confirmation() -> None:
    e = accounted_and_offset(150)
    commit(e)
    e.evaluate(conclusion="not-neutral", verified_tonnes=1, report="r", by="verifier")
    with pytest.raises(RuleViolationError, match=r"R2: the verifier's evaluation of 'Forum'"):
        e.confirm(now=AFTER, by="org")


def test_r7_a_neutral_evaluation_does_not_confirm_while_less_is_retired_than_accounted() -> None:
    e = planned(1200)
    e.account(lines=[FactorTable.default()["coach"].line(100000)], now=AFTER, by="org")
    e.evaluate(conclusion="neutral", verified_tonnes=0, report="r", by="verifier")
    with pytest.raises(RuleViolationError, match=r"R7: 0 t retired for 'Forum', less than the"):
        e.confirm(now=AFTER, by="org")


def test_r2_a_third_party_event_confirms_only_on_a_current_neutral_evaluation() -> None:
    e = accounted_and_offset(1200)
    commit(e)
    with pytest.raises(RuleViolationError, match=r"R2: 'Forum' has 1200 participants"):
        e.confirm(now=AFTER, by="org")
    e.evaluate(conclusion="neutral", verified_tonnes=Decimal("0.5"), report="r", by="verifier")
    e.confirm(now=AFTER, by="org")
    assert e.state(AFTER) is Phase.CONFIRMED


@pytest.mark.parametrize(
    ("now", "phase"),
    [
        (BEFORE, Phase.PLANNED),
        (AFTER, Phase.HELD),
        (datetime.datetime(2026, 11, 22, tzinfo=UTC), Phase.HELD),
        (datetime.datetime(2026, 11, 23, tzinfo=UTC), Phase.OVERDUE),
    ],
)
def test_r10_an_unconfirmed_event_past_its_deadline_is_overdue(
    now: datetime.datetime, phase: Phase
) -> None:
    assert planned().state(now) is phase


def test_the_phases_follow_the_record() -> None:
    e = event()
    assert e.phase is Phase.REGISTERED
    e = planned()
    assert e.phase is Phase.PLANNED
    e.account(lines=[FactorTable.default()["coach"].line(1000)], now=AFTER, by="org")
    assert e.phase is Phase.ACCOUNTED
    assert accounted_and_offset().phase is Phase.OFFSET


def test_r4_a_plan_is_refused_once_the_event_has_started() -> None:
    with pytest.raises(RuleViolationError, match=r"^R4: the plan of 'Forum' is due before the"):
        event().publish_plan(
            boundary=["lodging"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "cea", "province": "Shandong"}],
            now=STARTS,
            by="org",
        )
