"""Sink projects in memory: parcels, one event per project, milestones (R7, R9, R10)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.domain import CreditBatch
from ledger.domain.deadlines import DeadlineState
from ledger.domain.parcels import MAX_GEOMETRY_BYTES, MAX_VERTICES, Parcel, geometry_digest
from ledger.domain.sink_project import SinkProject

D = datetime.date
FORUM_ID = uuid.UUID("00000000-0000-4000-8000-0000000000f0")
FORUM = f"Jinan Forum [event {FORUM_ID}]"
EXPO_ID = uuid.UUID("00000000-0000-4000-8000-0000000000e0")
EXPO = f"Qingdao Expo [event {EXPO_ID}]"
B1, B2 = "00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2"
SQUARE = (
    '{"type":"Polygon","coordinates":'
    "[[[117.0,36.6],[117.01,36.6],[117.01,36.61],[117.0,36.61],[117.0,36.6]]]}"
)


def project(**changes: object) -> SinkProject:
    facts: dict[str, object] = {
        "name": "Mount Tai afforestation",
        "ecosystem": "forest",
        "developer": "dev",
        "parcels": [Parcel.of("LQ-1", SQUARE), Parcel.of("LQ-2")],
        "area_hectares": Decimal("120.5"),
        "expected_removals": 3000,
        "crediting_start": D(2026, 1, 1),
        "crediting_end": D(2045, 12, 31),
        **changes,
    }
    return SinkProject.register(**facts)  # type: ignore[arg-type]


def test_a_geometry_keeps_its_exact_decimal_text() -> None:
    parcel = Parcel.of("LQ-1", SQUARE.replace("117.01", "117.0100"))
    assert parcel.geometry is not None and "117.0100" in parcel.geometry


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ('{"type":"Point","coordinates":[1,2]}', "Polygon or MultiPolygon"),
        ('{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6]]]}', "at least 4 positions"),
        ('{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6],[1,3]]]}', "must be closed"),
        ('{"type":"Polygon","coordinates":[[[1,2],[300,4],[5,6],[1,2]]]}', "not a longitude"),
        ("not json", "not GeoJSON"),
    ],
)
def test_a_malformed_geometry_is_refused(geometry: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Parcel.of("LQ-9", geometry)


def test_a_project_needs_distinct_parcels() -> None:
    with pytest.raises(InvalidInputError, match="R9: a sink project needs at least one parcel"):
        project(parcels=[])
    with pytest.raises(InvalidInputError, match="R9: parcel ids repeat"):
        project(parcels=[Parcel.of("A"), Parcel.of("A")])


def test_a_project_backs_one_event_only() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    with pytest.raises(RuleViolationError, match=r"R9: .* already backs event 'Jinan Forum \["):
        sink.bind(event_id=EXPO_ID, event_name=EXPO, event_ends=D(2026, 9, 1), by="dev")
    assert str(sink.event_id) == "00000000-0000-4000-8000-0000000000f0"


def test_r9_a_project_is_bound_to_an_event_by_its_id_and_that_event_s_label() -> None:
    with pytest.raises(InvalidInputError, match=r"^R9: a sink project bound to event 0+-0000-4000"):
        project().bind(
            event_id=FORUM_ID, event_name="Jinan Forum", event_ends=D(2026, 6, 30), by="dev"
        )
    with pytest.raises(InvalidInputError, match=r"^R9: .* names it by its label .* not 'Qingdao"):
        project().bind(event_id=FORUM_ID, event_name=EXPO, event_ends=D(2026, 6, 30), by="dev")
    with pytest.raises(InvalidInputError, match=r"^event must be an event id \(a UUID\)"):
        project().bind(
            event_id=str(FORUM_ID),  # type: ignore[arg-type]
            event_name=FORUM,
            event_ends=D(2026, 6, 30),
            by="dev",
        )


def test_a_bound_project_holds_the_event_id_label_and_end_date_it_was_given() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    (event,) = sink.collect_events()[1:]
    assert type(event).class_version == 2
    assert (event.event_id, event.event_name, event.event_ends) == (FORUM_ID, FORUM, "2026-06-30")
    assert (sink.event_id, sink.event_name, sink.event_ends) == (FORUM_ID, FORUM, D(2026, 6, 30))


def test_only_the_developer_binds_or_files() -> None:
    sink = project()
    with pytest.raises(AuthorizationError, match="R9: only the developer 'dev' may bind"):
        sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="mallory")


def test_milestones_need_a_bound_event() -> None:
    with pytest.raises(RuleViolationError, match=r"R10: .* not bound to an event yet"):
        project().file_application(on=D(2026, 7, 1), by="dev")


def test_issued_removals_never_exceed_measured_removals() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    sink.measure_removals(on=D(2027, 6, 1), tonnes=100, by="verifier")
    sink.record_issuance(batch=B1, tonnes=Decimal(60), by="registry")
    with pytest.raises(
        RuleViolationError, match=r"R7: issuing 41 t .* exceed its measured removals"
    ):
        sink.record_issuance(batch=B2, tonnes=Decimal(41), by="registry")
    with pytest.raises(RuleViolationError, match=r"R7: batch .*b1 of project .* already recorded"):
        sink.record_issuance(batch=B1, tonnes=Decimal(1), by="registry")
    with pytest.raises(
        RuleViolationError, match=r"R7: project .* measured at 59 t is below the 60"
    ):
        sink.measure_removals(on=D(2027, 7, 1), tonnes=59, by="verifier")


def test_r10_a_verifier_not_the_developer_validates_and_measures() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    with pytest.raises(AuthorizationError, match=r"R10: the developer 'dev' cannot validate"):
        sink.complete_validation(on=D(2027, 6, 1), by="dev")
    with pytest.raises(AuthorizationError, match=r"R10: the developer 'dev' cannot measure"):
        sink.measure_removals(on=D(2027, 6, 1), tonnes=1, by="dev")


def test_an_unbound_project_issues_no_removals() -> None:
    with pytest.raises(RuleViolationError, match=r"^R10: .* bind it before you issue its removals"):
        project().issue_removals(
            registry="shandong-platform",
            serials=SerialRange(1, 10),
            holder="org",
            methodology="m",
            unit=1,
            today=D(2027, 1, 1),
        )


def test_r10_project_deadlines_follow_the_event_end() -> None:
    sink = project()
    assert sink.deadlines() == []
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    sink.file_application(on=D(2027, 3, 1), by="dev")
    application, validation = sink.deadlines()
    assert (application.due, application.state(D(2027, 3, 2))) == (
        D(2027, 6, 30),
        DeadlineState.MET,
    )
    assert validation.due == D(2028, 6, 30)
    assert validation.state(D(2028, 6, 1)) is DeadlineState.DUE_SOON
    sink.complete_validation(on=D(2028, 1, 5), by="v")
    assert sink.deadlines()[1].state(D(2028, 7, 1)) is DeadlineState.MISSED
    sink.measure_removals(on=D(2028, 2, 1), tonnes=10, by="v")
    assert sink.deadlines()[1].done == D(2028, 2, 1)
    assert sink.deadlines()[1].state(D(2028, 7, 1)) is DeadlineState.MET


def sink_batch() -> CreditBatch:
    return CreditBatch.issue(
        registry="shandong-platform",
        instrument="inclusion-forest",
        vintage=2026,
        project="p",
        province="Shandong",
        methodology="m",
        serials=SerialRange(1, 100),
        holder="org",
        today=D(2026, 11, 25),
        source_project="project-1",
        bound_event="Jinan Forum",
    )


def test_a_sink_batch_retires_only_for_its_bound_event() -> None:
    batch = sink_batch()
    with pytest.raises(RuleViolationError, match=r"R9: cannot retire .* bound to 'Jinan Forum'"):
        batch.retire(SerialRange(1, 5), by="org", beneficiary="b", reason="r", event_name="Expo")
    with pytest.raises(RuleViolationError, match=r"R9: cannot retire .* for None"):
        batch.retire(SerialRange(1, 5), by="org", beneficiary="b", reason="r")
    with pytest.raises(RuleViolationError, match="R9: cannot reserve"):
        batch.reserve(SerialRange(1, 5), by="org", event_name="Expo")
    batch.retire(SerialRange(1, 5), by="org", beneficiary="b", reason="r", event_name="Jinan Forum")


def test_a_sink_batch_is_never_exported_to_another_mechanism() -> None:
    with pytest.raises(
        RuleViolationError, match=r"R9: batch .* never used under another mechanism"
    ):
        sink_batch().export(SerialRange(1, 5), by="org", target_registry="ccer", reason="r")


def test_r10_a_milestone_is_recorded_once() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    sink.file_application(on=D(2027, 3, 1), by="dev")
    with pytest.raises(RuleViolationError, match=r"R10: the application of project .* filed"):
        sink.file_application(on=D(2027, 4, 1), by="dev")
    sink.complete_validation(on=D(2028, 1, 5), by="v")
    with pytest.raises(RuleViolationError, match=r"R10: project .* is already validated"):
        sink.complete_validation(on=D(2028, 2, 5), by="v")
    assert (sink.application_filed, sink.validated) == (D(2027, 3, 1), D(2028, 1, 5))


def test_a_parcel_built_directly_is_checked_like_one_built_with_of() -> None:
    with pytest.raises(InvalidInputError, match=r"^R9: parcel 'P': position .* not a longitude"):
        Parcel("P", SQUARE.replace("117.0,36.6", "200,95"))
    with pytest.raises(InvalidInputError, match=r"^R9: parcel 'P': geometry is not GeoJSON"):
        Parcel.from_json({"id": "P", "geometry": "not json"})
    assert Parcel("P", SQUARE.replace(",", ", ")).geometry == Parcel.of("P", SQUARE).geometry


def ring(vertices: int) -> str:
    points = [f"[{117 + Decimal(i) / 100000},36.6]" for i in range(vertices - 2)]
    points += ["[117,36.7]", "[117,36.6]"]
    return '{"type":"Polygon","coordinates":[[' + ",".join(points) + "]]}"


def test_a_parcel_geometry_stays_within_its_vertex_and_byte_limits() -> None:
    assert Parcel.of("P", ring(MAX_VERTICES)).geometry is not None
    with pytest.raises(InvalidInputError, match=r"^R9: parcel 'P': geometry has more than 10,000"):
        Parcel.of("P", ring(MAX_VERTICES + 1))
    padded = SQUARE.replace("117.0,", "117." + "0" * MAX_GEOMETRY_BYTES + ",", 1)
    with pytest.raises(InvalidInputError, match=r"^R9: parcel 'P': geometry is 262,2.. bytes"):
        Parcel("P", padded)


def test_a_removals_batch_names_the_parcels_by_id_without_copying_their_geometry() -> None:
    sink = project()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    sink.measure_removals(on=D(2027, 6, 1), tonnes=100, by="verifier")
    batch = sink.issue_removals(
        registry="shandong-platform",
        serials=SerialRange(1, 10),
        holder="org",
        methodology="m",
        unit=1,
        today=D(2027, 7, 1),
    )
    assert [(p.id, p.geometry) for p in batch.parcels] == [("LQ-1", None), ("LQ-2", None)]
    assert [p.digest for p in batch.parcels] == [geometry_digest(p.geometry) for p in sink.parcels]
    assert batch.source_project == str(sink.id)


def test_a_parcel_reference_carries_a_digest_and_never_a_geometry() -> None:
    area = Parcel.of("P", SQUARE)
    reference = area.reference()
    assert reference.geometry is None and reference.digest == geometry_digest(area.geometry)
    assert Parcel.from_json(reference.to_json()) == reference
    assert Parcel.of("Q").to_json() == {"id": "Q", "geometry": None}  # old events unchanged
    with pytest.raises(InvalidInputError, match=r"digest must be sha256:<64 hex digits>"):
        Parcel("P", None, "md5:00")
    with pytest.raises(InvalidInputError, match=r"a reference has a digest, no geometry"):
        Parcel("P", SQUARE, reference.digest)
