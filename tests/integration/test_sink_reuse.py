"""R9: a forest or sea area used once is used once, forever; on SQLite and PostgreSQL (issue 4).

Every route to reuse a consumed area is tried: the same parcel id, a new id over an overlapping
polygon, import as another mechanism, and a second event. Each is refused with an error naming
the earlier project and event, and nothing is written.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ledger import (
    InvalidInputError,
    Ledger,
    NotFoundError,
    RuleViolationError,
    SerialRange,
    Signer,
)
from ledger.domain.deadlines import DeadlineState
from ledger.domain.parcels import Parcel

from conftest import Backend, new_event

D = datetime.date


def square(x: str, y: str, size: str = "0.01") -> str:
    x2, y2 = str(Decimal(x) + Decimal(size)), str(Decimal(y) + Decimal(size))
    ring = f"[[{x},{y}],[{x2},{y}],[{x2},{y2}],[{x},{y2}],[{x},{y}]]"
    return f'{{"type":"Polygon","coordinates":[{ring}]}}'


def register(ledger: Ledger, developer: Signer, *parcels: Parcel, name: str = "Tai forest") -> UUID:
    return ledger.register_sink_project(
        developer,
        name=name,
        ecosystem="forest",
        parcels=list(parcels),
        area_hectares=Decimal("100"),
        expected_removals=Decimal("2500"),
        crediting_start=D(2026, 1, 1),
        crediting_end=D(2045, 12, 31),
    )


@pytest.fixture
def forum(ledger: Ledger, organiser: Signer) -> UUID:
    return new_event(ledger, organiser, "Jinan Forum", D(2026, 6, 30))


@pytest.fixture
def consumed(ledger: Ledger, developer: Signer, forum: UUID) -> UUID:
    project = register(
        ledger, developer, Parcel.of("LQ-001", square("117.00", "36.60")), Parcel.of("LQ-002")
    )
    ledger.bind_sink_project(developer, project, event_id=forum)
    return project


def count_events(backend: Backend) -> int:
    return backend.execute("SELECT count(*) FROM {table}")[0][0]


def assert_refused(
    backend: Backend, attempt: object, pattern: str, error: type[Exception] = RuleViolationError
) -> None:
    before = count_events(backend)
    with pytest.raises(error, match=pattern):
        attempt()  # type: ignore[operator]
    assert count_events(backend) == before


def test_the_same_parcel_id_in_a_new_project_is_refused(
    backend: Backend, ledger: Ledger, developer: Signer, consumed: UUID
) -> None:
    assert_refused(
        backend,
        lambda: register(ledger, developer, Parcel.of("LQ-002"), name="Re-registered"),
        rf"R9: parcel 'LQ-002' is already used of sink project {consumed},"
        r" which backs event 'Jinan Forum \[event ",
    )


def test_a_new_id_over_an_overlapping_area_is_refused(
    backend: Backend, ledger: Ledger, developer: Signer, consumed: UUID
) -> None:
    shifted = Parcel.of("NEW-777", square("117.005", "36.605"))
    assert_refused(
        backend,
        lambda: register(ledger, developer, shifted),
        rf"R9: the area of parcel 'NEW-777' overlaps parcel 'LQ-001' of sink project {consumed}",
    )
    inside = Parcel.of("NEW-778", square("117.002", "36.602", "0.001"))
    assert_refused(
        backend, lambda: register(ledger, developer, inside), "R9: the area of parcel 'NEW-778'"
    )


def test_an_area_that_only_shares_a_border_is_a_different_area(
    ledger: Ledger, developer: Signer, consumed: UUID
) -> None:
    neighbour = Parcel.of("LQ-003", square("117.01", "36.60"))
    assert register(ledger, developer, neighbour, name="Neighbour") != consumed


def test_importing_a_consumed_area_as_another_mechanism_is_refused(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, consumed: UUID
) -> None:
    def as_ccer(parcel: Parcel) -> object:
        return lambda: ledger.issue_batch(
            registry,
            instrument="ccer",
            vintage=2026,
            project="imported CCER forestry project",
            province="Shandong",
            methodology="CCER-14-001",
            serials=SerialRange(1, 500),
            holder=organiser.actor,
            parcels=[parcel],
        )

    assert_refused(backend, as_ccer(Parcel.of("LQ-001")), r"R9: parcel 'LQ-001' is already used")
    overlapping = Parcel.of("CCER-LAND-1", square("116.995", "36.595"))
    assert_refused(backend, as_ccer(overlapping), r"R9: the area of parcel 'CCER-LAND-1' overlaps")


def test_a_self_intersecting_area_is_refused_naming_r9(
    backend: Backend, ledger: Ledger, developer: Signer
) -> None:
    bowtie = (
        '{"type":"Polygon","coordinates":'
        "[[[117,36],[117.01,36.01],[117.01,36],[117,36.01],[117,36]]]}"
    )
    assert_refused(
        backend,
        lambda: register(ledger, developer, Parcel.of("BOW-1", bowtie)),
        r"^R9: parcel BOW-1: geometry is not a valid area \(Self-intersection",
        InvalidInputError,
    )


def test_a_consumed_project_cannot_back_a_second_event(
    backend: Backend, ledger: Ledger, developer: Signer, organiser: Signer, consumed: UUID
) -> None:
    expo = new_event(ledger, organiser, "Qingdao Expo", D(2026, 9, 1))
    assert_refused(
        backend,
        lambda: ledger.bind_sink_project(developer, consumed, event_id=expo),
        r"R9: sink project .* already backs event 'Jinan Forum \[event ",
    )


def test_a_binding_names_an_event_that_exists_and_takes_its_end_date(
    backend: Backend, ledger: Ledger, developer: Signer, forum: UUID
) -> None:
    project = register(ledger, developer, Parcel.of("B-1"))
    missing = UUID("00000000-0000-4000-8000-000000000000")
    assert_refused(
        backend,
        lambda: ledger.bind_sink_project(developer, project, event_id=missing),
        r"^no event 00000000-0000-4000-8000-000000000000",
        NotFoundError,
    )
    ledger.bind_sink_project(developer, project, event_id=forum)
    sink = ledger.sink_project(project)
    assert (sink.event_id, sink.event_ends) == (forum, D(2026, 6, 30))
    assert sink.event_name == ledger.event(forum).label
    assert [d.due for d in sink.deadlines()] == [D(2027, 6, 30), D(2028, 6, 30)]


def test_an_unbound_project_issues_no_removals_and_says_why(
    backend: Backend, ledger: Ledger, developer: Signer, registry: Signer, organiser: Signer
) -> None:
    project = register(ledger, developer, Parcel.of("U-1"))
    assert_refused(
        backend,
        lambda: ledger.issue_sink_removals(
            registry,
            project,
            serials=SerialRange(1, 10),
            holder=organiser.actor,
            methodology="afforestation sink",
        ),
        r"^R10: project .* is not bound to an event yet; bind it before you issue its removals",
    )


def test_measured_removals_issue_as_a_batch_bound_to_the_event(
    backend: Backend,
    ledger: Ledger,
    developer: Signer,
    verifier: Signer,
    registry: Signer,
    organiser: Signer,
    consumed: UUID,
    forum: UUID,
) -> None:
    label = ledger.event(forum).label
    ledger.file_sink_application(developer, consumed, on=D(2026, 10, 1))
    ledger.validate_sink_project(verifier, consumed, on=D(2026, 11, 1))
    ledger.measure_sink_removals(verifier, consumed, tonnes=Decimal("1500"), on=D(2026, 11, 20))
    batch = ledger.issue_sink_removals(
        registry,
        consumed,
        serials=SerialRange(900_001, 901_000),
        holder=organiser.actor,
        methodology="afforestation sink",
    )
    assert ledger.sink_project(consumed).issued_removals == 1000
    assert_refused(
        backend,
        lambda: ledger.issue_sink_removals(
            registry,
            consumed,
            serials=SerialRange(901_001, 901_501),
            holder=organiser.actor,
            methodology="afforestation sink",
        ),
        r"R7: issuing 501 t .* exceed its measured removals \(1500 t, 1000 t issued\)",
    )
    assert_refused(
        backend,
        lambda: ledger.retire(
            organiser,
            batch,
            SerialRange(900_001, 900_010),
            beneficiary="b",
            reason="r",
            event_name="Qingdao Expo",
        ),
        r"R9: cannot retire .* bound to 'Jinan Forum \[event ",
    )
    certificate = ledger.retire(
        organiser,
        batch,
        SerialRange(900_001, 900_010),
        beneficiary="Forum",
        reason="r",
        event_name=label,
    )
    assert certificate.source_project == str(consumed)
    assert certificate.instrument == "inclusion-forest"


def test_r10_sink_deadlines_are_reported_against_the_injected_clock(
    backend: Backend, keys, developer: Signer, organiser: Signer
) -> None:
    today = [datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)]
    with Ledger(backend.url, keys, schema=backend.schema, clock=lambda: today[0]) as ledger:
        project = register(ledger, developer, Parcel.of("R10-1"))
        forum = new_event(ledger, organiser, "Forum", D(2026, 6, 30))
        ledger.bind_sink_project(developer, project, event_id=forum)
        states = [state for _, state in ledger.sink_deadlines(project)]
        assert states == [DeadlineState.PENDING, DeadlineState.PENDING]
        today[0] = datetime.datetime(2027, 6, 15, tzinfo=datetime.UTC)
        assert ledger.sink_deadlines(project)[0][1] is DeadlineState.DUE_SOON
        today[0] = datetime.datetime(2027, 7, 1, tzinfo=datetime.UTC)
        assert ledger.sink_deadlines(project)[0][1] is DeadlineState.MISSED
        with pytest.raises(Exception, match="R10: date 2027-07-02 is in the future"):
            ledger.file_sink_application(developer, project, on=D(2027, 7, 2))


def test_a_removals_batch_must_name_its_projects_parcels_with_the_registered_digest(
    backend: Backend,
    ledger: Ledger,
    keys: object,
    registry: Signer,
    organiser: Signer,
    consumed: UUID,
    forum: UUID,
) -> None:
    from ledger.domain import CreditBatch

    label = ledger.event(forum).label
    real = ledger.sink_project(consumed).parcels[0].reference()
    forged = Parcel(real.id, None, "sha256:" + "0" * 64)
    for parcels, refusal in (
        ([forged], r"R9: .* names parcel 'LQ-001' with digest sha256:0+, not the digest"),
        ([Parcel("LQ-999")], r"R9: .* credits parcel 'LQ-999', which sink project .* did not"),
    ):
        batch = CreditBatch.issue(
            registry=registry.actor,
            instrument="inclusion-forest",
            vintage=2025,
            project="SD-FS-001",
            province="Shandong",
            methodology="m",
            serials=SerialRange(700_001, 700_010),
            holder=organiser.actor,
            today=D(2026, 11, 1),
            parcels=parcels,
            source_project=str(consumed),
            bound_event=label,
        )
        assert_refused(backend, lambda b=batch: ledger.store.save(registry, b), refusal)


def test_a_removals_batch_naming_another_event_than_its_projects_binding_is_refused(
    backend: Backend,
    ledger: Ledger,
    developer: Signer,
    registry: Signer,
    organiser: Signer,
    consumed: UUID,
) -> None:
    from ledger.domain import CreditBatch

    expo = ledger.event(new_event(ledger, organiser, "Qingdao Expo", D(2026, 9, 1))).label
    unbound = register(ledger, developer, Parcel.of("UB-1"), name="Unbound forest")
    for project, refusal in (
        (consumed, rf"^R9: batch \S+ holds removals of sink project {consumed}, which is not"),
        (unbound, rf"^R9: batch \S+ holds removals of sink project {unbound}, which is not"),
    ):
        batch = CreditBatch.issue(
            registry=registry.actor,
            instrument="inclusion-forest",
            vintage=2025,
            project="SD-FS-001",
            province="Shandong",
            methodology="m",
            serials=SerialRange(800_001, 800_010),
            holder=organiser.actor,
            today=D(2026, 11, 1),
            parcels=[p.reference() for p in ledger.sink_project(project).parcels],
            source_project=str(project),
            bound_event=expo,
        )
        assert_refused(
            backend,
            lambda b=batch: ledger.store.save(registry, b),
            refusal + r" bound to 'Qingdao Expo \[event ",
        )
