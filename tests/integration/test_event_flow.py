"""An event's neutralization end to end, on SQLite and PostgreSQL (issue 5, R1-R8, R10)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger import AuthorizationError, Ledger, RuleViolationError, SerialRange, Signer
from ledger.accounting import FactorTable
from ledger.audit.trust import TrustRoot
from ledger.domain.deadlines import DeadlineState
from ledger.domain.event_values import Organiser, Tier

from conftest import Backend

UTC = datetime.UTC
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=UTC)
ENDS = datetime.datetime(2026, 5, 22, 18, tzinfo=UTC)
FACTORS = FactorTable.default()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(backend: Backend, root: TrustRoot, clock: Clock):  # type: ignore[no-untyped-def]
    with Ledger(backend.url, root, schema=backend.schema, clock=clock) as opened:
        yield opened


def batch(
    ledger: Ledger,
    registry: Signer,
    holder: Signer,
    start: int,
    instrument: str,
    province: str = "Shandong",
) -> UUID:
    return ledger.issue_batch(
        registry,
        instrument=instrument,
        vintage=2025,
        project=f"{instrument} project",
        province=province,
        methodology="m",
        serials=SerialRange(start, start + 999),
        holder=holder.actor,
    )


def prepared_event(ledger: Ledger, organiser: Signer, clock: Clock, participants: int) -> UUID:
    event = ledger.register_event(
        organiser,
        kind="forum",
        name=f"Forum of {participants}",
        organisers=[Organiser("Jinan Municipal Government", "party-government-organ")],
        venue="Jinan International Expo Center",
        starts=STARTS,
        ends=ENDS,
        participants=participants,
    )
    ledger.publish_plan(
        organiser,
        event,
        boundary=["purchased-electricity", "transport-rail", "lodging"],
        estimates={"purchased-electricity": Decimal("20"), "lodging": Decimal("15")},
        measures=["green electricity for the venue"],
        offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
    )
    clock.now = datetime.datetime(2026, 6, 1, tzinfo=UTC)
    ledger.account_emissions(
        organiser,
        event,
        [
            FACTORS["electricity-shandong-2022"].line(Decimal("20000")),
            FACTORS["rail-high-speed"].line(Decimal("150000")),
            FACTORS["hotel-room-night-china"].line(Decimal("300")),
        ],
    )
    return event


def test_the_tier_follows_the_participant_count(
    ledger: Ledger, organiser: Signer, clock: Clock
) -> None:
    tiers = []
    for participants in (199, 200, 499, 500):
        event = ledger.register_event(
            organiser,
            kind="meeting",
            name="m",
            organisers=[Organiser("Org", "enterprise")],
            venue="v",
            starts=STARTS,
            ends=ENDS,
            participants=participants,
        )
        tiers.append(ledger.event(event).tier)
    assert tiers == [Tier.VOLUNTARY, Tier.SELF_COMMITMENT, Tier.SELF_COMMITMENT, Tier.THIRD_PARTY]


def test_accounting_is_exact_and_rounded_up_to_the_kilogram(
    ledger: Ledger, organiser: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 300)
    # 20000 x 0.6410 + 150000 x 0.03048 + 300 x 53.5 = 12820 + 4572 + 16050 kg
    assert ledger.event(event).accounted == Decimal("33.442")


def test_a_300_participant_event_confirms_by_commitment_alone(
    ledger: Ledger, registry: Signer, organiser: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 300)
    forest = batch(ledger, registry, organiser, 1, "inclusion-forest")
    ledger.allocate_offsets(organiser, event, forest, SerialRange(1, 34))
    with pytest.raises(RuleViolationError, match=r"R7: 0 t retired .* less than the 33.442 t"):
        ledger.confirm_event(organiser, event)
    certificates = ledger.retire_offsets(organiser, event)
    assert [c.quantity for c in certificates] == [34]
    assert certificates[0].event_name == ledger.event(event).label
    with pytest.raises(RuleViolationError, match=r"R3: .* needs the organiser's commitment"):
        ledger.confirm_event(organiser, event)
    statement = ledger.commit_neutrality(organiser, event)
    assert statement["scale"] == 300
    ledger.confirm_event(organiser, event)
    assert ledger.event(event).state(clock.now) == "confirmed"


def test_a_1200_participant_event_cannot_confirm_without_a_verifiers_evaluation(
    ledger: Ledger, registry: Signer, organiser: Signer, verifier: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 1200)
    forest = batch(ledger, registry, organiser, 1, "inclusion-forest")
    ledger.allocate_offsets(organiser, event, forest, SerialRange(1, 34))
    ledger.retire_offsets(organiser, event)
    ledger.commit_neutrality(organiser, event)
    with pytest.raises(RuleViolationError, match=r"R2: .* 1200 participants \(tier third_party\)"):
        ledger.confirm_event(organiser, event)
    with pytest.raises(AuthorizationError, match=r"R2: the lead organiser .* cannot evaluate"):
        ledger.evaluate_event(
            organiser, event, conclusion="neutral", verified_tonnes=33, report="x"
        )
    ledger.evaluate_event(
        verifier,
        event,
        conclusion="neutral",
        verified_tonnes=Decimal("33.442"),
        report="Evaluation report JN-2026-017",
    )
    ledger.confirm_event(organiser, event)
    assert ledger.event(event).confirmed_on == datetime.date(2026, 6, 1)


def test_a_lower_priority_offset_needs_a_reason_and_is_kept_as_a_deviation(
    ledger: Ledger, registry: Signer, organiser: Signer, log_signer: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 300)
    batch(ledger, registry, organiser, 1, "inclusion-forest")
    ccer = batch(ledger, registry, organiser, 5001, "ccer", province="Hebei")
    with pytest.raises(RuleViolationError, match=r"R8: an offset of priority rank 4 while rank 1"):
        ledger.allocate_offsets(organiser, event, ccer, SerialRange(5001, 5010))
    assert ledger.batch(ccer).lots()[0].state.value == "held"
    ledger.allocate_offsets(
        organiser, event, ccer, SerialRange(5001, 5010), reason="sponsor donated these CCERs"
    )
    (allocation,) = ledger.event(event).allocations
    assert (allocation.rank, allocation.deviation) == (4, True)
    assert allocation.reason == "sponsor donated these CCERs"
    (certificate,) = ledger.retire_offsets(organiser, event)
    assert certificate.reason == (
        "carbon neutralization of Forum of 300 (R7); R8 deviation: priority rank 4 used instead"
        " of a higher-ranked offset, because: sponsor donated these CCERs"
    )
    assert ledger.certificate(ccer, certificate.retirement_version) == certificate
    ledger.sign_checkpoint(log_signer)
    proof = ledger.proof(ccer, certificate.retirement_version)
    assert proof["certificate"]["reason"] == certificate.reason


def test_plans_come_before_the_event_and_accounts_after_it(
    ledger: Ledger, organiser: Signer, clock: Clock
) -> None:
    event = ledger.register_event(
        organiser,
        kind="exhibition",
        name="Expo",
        organisers=[Organiser("Org", "enterprise")],
        venue="v",
        starts=STARTS,
        ends=ENDS,
        participants=250,
    )
    with pytest.raises(RuleViolationError, match=r"R4: .* has no published plan"):
        clock.now = ENDS + datetime.timedelta(days=1)
        ledger.account_emissions(organiser, event, [FACTORS["coach"].line(1000)])
    clock.now = STARTS + datetime.timedelta(hours=1)
    with pytest.raises(
        RuleViolationError, match=r"R4: the plan of 'Expo' is due before the event starts"
    ):
        ledger.publish_plan(
            organiser,
            event,
            boundary=["lodging"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "cea", "province": "Shandong"}],
        )
    assert len(ledger.event(event).plans) == 0


def test_r10_the_event_deadline_is_six_months_after_it_ends(
    ledger: Ledger, organiser: Signer, developer: Signer, clock: Clock
) -> None:
    from ledger.domain.parcels import Parcel

    event = prepared_event(ledger, organiser, clock, 300)
    project = ledger.register_sink_project(
        developer,
        name="Forum forest",
        ecosystem="forest",
        parcels=[Parcel.of("F-1")],
        area_hectares=10,
        expected_removals=40,
        crediting_start=datetime.date(2026, 1, 1),
        crediting_end=datetime.date(2046, 1, 1),
    )
    ledger.bind_sink_project(developer, project, event_id=event)
    report = ledger.event_deadlines(event)
    assert [(d.due, state) for d, state in report] == [
        (datetime.date(2026, 11, 22), DeadlineState.PENDING),
        (datetime.date(2027, 5, 22), DeadlineState.PENDING),
        (datetime.date(2028, 5, 22), DeadlineState.PENDING),
    ]
    clock.now = datetime.datetime(2026, 11, 23, tzinfo=UTC)
    assert ledger.event_deadlines(event)[0][1] is DeadlineState.MISSED


def confirmed_by_commitment(
    ledger: Ledger, registry: Signer, organiser: Signer, clock: Clock
) -> UUID:
    event = prepared_event(ledger, organiser, clock, 300)
    forest = batch(ledger, registry, organiser, 1, "inclusion-forest")
    ledger.allocate_offsets(organiser, event, forest, SerialRange(1, 34))
    ledger.retire_offsets(organiser, event)
    ledger.commit_neutrality(organiser, event)
    ledger.confirm_event(organiser, event)
    return event


def test_after_confirmation_no_new_accounting_or_evaluation_is_accepted(
    ledger: Ledger, registry: Signer, organiser: Signer, verifier: Signer, clock: Clock
) -> None:
    event = confirmed_by_commitment(ledger, registry, organiser, clock)
    closed = r"^R7: cannot \w+ 'Forum of 300': it is already confirmed and its record is closed"
    with pytest.raises(RuleViolationError, match=closed):
        ledger.account_emissions(organiser, event, [FACTORS["coach"].line(Decimal("900000"))])
    with pytest.raises(RuleViolationError, match=closed):
        ledger.evaluate_event(
            verifier, event, conclusion="not-neutral", verified_tonnes=90, report="late"
        )
    record = ledger.event(event)
    assert (record.state(clock.now), len(record.accountings), record.evaluation) == (
        "confirmed",
        1,
        None,
    )


def test_r3_no_commitment_before_an_accounting_or_before_the_retirements_cover_it(
    ledger: Ledger, registry: Signer, organiser: Signer, clock: Clock
) -> None:
    event = ledger.register_event(
        organiser,
        kind="forum",
        name="Early",
        organisers=[Organiser("Org", "enterprise")],
        venue="v",
        starts=STARTS,
        ends=ENDS,
        participants=300,
    )
    with pytest.raises(RuleViolationError, match=r"^R3: cannot commit 'Early': it has no publ"):
        ledger.commit_neutrality(organiser, event)
    event = prepared_event(ledger, organiser, clock, 300)
    with pytest.raises(RuleViolationError, match=r"^R3: cannot commit 'Forum of 300': its reti"):
        ledger.commit_neutrality(organiser, event)
    assert ledger.event(event).commitment is None


def test_r3_a_confirmation_rests_on_the_latest_accounting_and_the_current_retired_total(
    ledger: Ledger, registry: Signer, organiser: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 300)
    forest = batch(ledger, registry, organiser, 1, "inclusion-forest")
    ledger.allocate_offsets(organiser, event, forest, SerialRange(1, 40))
    ledger.retire_offsets(organiser, event)
    first = ledger.commit_neutrality(organiser, event)
    assert first["boundary_and_emissions"]["accounted_tonnes"] == "33.442"
    ledger.account_emissions(
        organiser, event, [FACTORS["hotel-room-night-china"].line(Decimal("700"))]
    )
    with pytest.raises(RuleViolationError, match=r"^R3: .* needs the organiser's commitment"):
        ledger.confirm_event(organiser, event)
    second = ledger.commit_neutrality(organiser, event)
    assert second["boundary_and_emissions"]["accounted_tonnes"] == "37.450"
    ledger.confirm_event(organiser, event)
    assert ledger.event(event).commitment.accounting_version == 2  # type: ignore[union-attr]


def test_r10_an_unconfirmed_event_past_its_deadline_is_overdue(
    ledger: Ledger, organiser: Signer, clock: Clock
) -> None:
    event = prepared_event(ledger, organiser, clock, 300)
    assert ledger.event(event).state(clock.now) == "accounted"
    clock.now = datetime.datetime(2026, 11, 23, tzinfo=UTC)
    assert ledger.event(event).state(clock.now) == "overdue"
    assert ledger.event_deadlines(event)[0][1] is DeadlineState.MISSED


def test_every_stored_event_of_an_event_and_its_sink_project_passes_recheck(
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    verifier: Signer,
    developer: Signer,
    clock: Clock,
) -> None:
    from ledger.domain import event_neutralization, sink_project
    from ledger.domain.parcels import Parcel

    event = prepared_event(ledger, organiser, clock, 1200)
    ccer = batch(ledger, registry, organiser, 5001, "ccer", province="Hebei")
    ledger.allocate_offsets(organiser, event, ccer, SerialRange(5001, 5040), reason="donated")
    ledger.retire_offsets(organiser, event)
    ledger.evaluate_event(
        verifier, event, conclusion="neutral", verified_tonnes=Decimal("33.442"), report="r"
    )
    ledger.confirm_event(organiser, event)
    project = ledger.register_sink_project(
        developer,
        name="Forum forest",
        ecosystem="forest",
        parcels=[Parcel.of("RC-1")],
        area_hectares=10,
        expected_removals=40,
        crediting_start=datetime.date(2026, 1, 1),
        crediting_end=datetime.date(2046, 1, 1),
    )
    ledger.bind_sink_project(developer, project, event_id=event)
    ledger.file_sink_application(developer, project)
    ledger.measure_sink_removals(verifier, project, tonnes=Decimal("12.5"))
    ledger.issue_sink_removals(
        registry,
        project,
        serials=SerialRange(90001, 90010),
        holder=organiser.actor,
        methodology="m",
    )
    for check, aggregate in (
        (event_neutralization.recheck, event),
        (sink_project.recheck, project),
    ):
        before = None
        for stored in ledger.store.events(aggregate):
            check(before, stored)  # type: ignore[operator]
            before = stored.mutate(before)  # type: ignore[arg-type]
