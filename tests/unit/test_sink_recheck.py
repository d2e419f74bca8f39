"""recheck of sink projects: each signed event is one a command could have made (R7, R9, R10).

Forged events are made by calling the aggregate's ``@event`` methods directly, as a holder of
a leaked key with SQL access could: signed, but made by no command.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from ledger import AuthorizationError, InvalidInputError, RuleViolationError, SerialRange
from ledger.domain.parcels import Parcel
from ledger.domain.sink_project import SinkProject, recheck

D = datetime.date
FORUM_ID = uuid.UUID("00000000-0000-4000-8000-0000000000f0")
FORUM = f"Jinan Forum [event {FORUM_ID}]"
B1 = "00000000-0000-4000-8000-0000000000b1"
SQUARE = (
    '{"type":"Polygon","coordinates":'
    "[[[117.0,36.6],[117.01,36.6],[117.01,36.61],[117.0,36.61],[117.0,36.6]]]}"
)


def registered() -> SinkProject:
    return SinkProject.register(
        name="Mount Tai afforestation",
        ecosystem="forest",
        developer="dev",
        parcels=[Parcel.of("LQ-1", SQUARE), Parcel.of("LQ-2")],
        area_hectares=Decimal("120.5"),
        expected_removals=3000,
        crediting_start=D(2026, 1, 1),
        crediting_end=D(2045, 12, 31),
    )


def bound() -> SinkProject:
    sink = registered()
    sink.bind(event_id=FORUM_ID, event_name=FORUM, event_ends=D(2026, 6, 30), by="dev")
    return sink


def issued() -> SinkProject:
    sink = bound()
    sink.file_application(on=D(2027, 3, 1), by="dev")
    sink.complete_validation(on=D(2028, 1, 5), by="verifier")
    sink.measure_removals(on=D(2028, 2, 1), tonnes=100, by="verifier")
    sink.issue_removals(
        registry="shandong-platform",
        serials=SerialRange(1, 60),
        holder="org",
        methodology="afforestation sink",
        unit=1,
        today=D(2028, 3, 1),
    )
    sink.measure_removals(on=D(2028, 9, 1), tonnes=120, by="verifier")
    return sink


def walk(events: Sequence[Any]) -> SinkProject:
    """Recheck each event against the project before it, then apply it."""
    before: SinkProject | None = None
    for domain_event in events:
        recheck(before, domain_event)
        before = domain_event.mutate(before)
    assert before is not None
    return before


@pytest.mark.parametrize("history", [registered, bound, issued])
def test_every_lawful_history_passes_recheck_event_by_event(
    history: Callable[[], SinkProject],
) -> None:
    sink = history()
    replayed = walk(sink.collect_events())
    assert (replayed.event_name, replayed.issued_removals, replayed.measured_removals) == (
        sink.event_name,
        sink.issued_removals,
        sink.measured_removals,
    )
    assert replayed.deadlines() == sink.deadlines()


def test_recheck_never_changes_the_project_before_the_event() -> None:
    *history, last = issued().collect_events()
    before = walk(history)
    state = (before.version, before.measured_removals, before.measured, before.batches)
    recheck(before, last)
    assert (before.version, before.measured_removals, before.measured, before.batches) == state


@pytest.mark.parametrize(
    ("build", "forge", "error", "message"),
    [
        pytest.param(
            bound,
            lambda p: p._bound(
                event_id=uuid.UUID("00000000-0000-4000-8000-0000000000e0"),
                event_name="Expo [event 00000000-0000-4000-8000-0000000000e0]",
                event_ends="2026-09-01",
                actor="dev",
            ),
            RuleViolationError,
            r"^R9: sink project .* already backs event 'Jinan Forum \[event",
            id="a second binding",
        ),
        pytest.param(
            registered,
            lambda p: p._bound(
                event_id=FORUM_ID, event_name=FORUM, event_ends="2026-06-30", actor="mallory"
            ),
            AuthorizationError,
            r"^R9: only the developer 'dev' may bind project",
            id="a binding by someone else",
        ),
        pytest.param(
            registered,
            lambda p: p._application_filed(on="2027-01-01", actor="dev"),
            RuleViolationError,
            r"^R10: project .* is not bound to an event yet",
            id="an application before the binding",
        ),
        pytest.param(
            issued,
            lambda p: p._application_filed(on="2028-01-01", actor="dev"),
            RuleViolationError,
            r"^R10: the application of project .* is already filed",
            id="a second application",
        ),
        pytest.param(
            bound,
            lambda p: p._validated(on="2027-01-01", actor="dev"),
            AuthorizationError,
            r"^R10: the developer 'dev' cannot validate its own project",
            id="validation by the developer",
        ),
        pytest.param(
            bound,
            lambda p: p._measured(on="2027-01-01", tonnes=Decimal(-5), actor="verifier"),
            InvalidInputError,
            r"^measured removals must be a positive exact number, got Decimal\('-5'\)",
            id="negative removals",
        ),
        pytest.param(
            issued,
            lambda p: p._measured(on="2028-10-01", tonnes=Decimal(10), actor="verifier"),
            RuleViolationError,
            r"^R7: project .* measured at 10 t is below the 60 t already issued",
            id="a re-measurement below the issued removals",
        ),
        pytest.param(
            issued,
            lambda p: p._removals_issued(batch=B1, tonnes=Decimal(61), actor="registry"),
            RuleViolationError,
            r"^R7: issuing 61 t from project .* would exceed its measured removals",
            id="removals beyond those measured",
        ),
    ],
)
def test_a_forged_event_is_refused_with_the_rule_named(
    build: Callable[[], SinkProject],
    forge: Callable[[SinkProject], None],
    error: type[Exception],
    message: str,
) -> None:
    sink = build()
    forge(sink)
    with pytest.raises(error, match=message):
        walk(sink.collect_events())


def test_the_same_removals_batch_recorded_twice_is_refused() -> None:
    sink = issued()
    (batch,) = sink.batches
    sink._removals_issued(batch=str(batch), tonnes=Decimal(1), actor="registry")
    with pytest.raises(RuleViolationError, match=r"^R7: batch .* of project .* already recorded"):
        walk(sink.collect_events())


def test_a_second_registration_and_an_event_before_registration_are_refused() -> None:
    first, binding = bound().collect_events()
    with pytest.raises(RuleViolationError, match=r"^R9: sink project .* is registered twice"):
        walk([first, first])
    with pytest.raises(RuleViolationError, match=r"^R9: .*bound.v1 comes before the project"):
        walk([binding])


def test_a_registration_signed_by_someone_other_than_the_developer_is_refused() -> None:
    sink = registered()
    (created,) = sink.collect_events()
    forged = type(created)(**{**vars(created), "actor": "mallory"})
    with pytest.raises(AuthorizationError, match=r"^R9: only the developer 'dev' registers"):
        walk([forged])


@pytest.mark.parametrize(
    ("build", "field", "value", "message"),
    [
        (bound, "event_name", "Expo", r"^R9: a sink project bound to event \S+ names it by its"),
        (
            bound,
            "event_name",
            "Expo [event 00000000-0000-4000-8000-0000000000e0]",
            r"^R9: a sink project bound to event \S+f0 names it by its label .* not 'Expo \[event",
        ),
        (bound, "event_id", "f0", r"^event must be an event id \(a UUID\), not 'f0'"),
        (issued, "batch", "b", r"^batch must be a batch id \(a UUID\), got 'b'"),
    ],
)
def test_a_forged_field_that_names_nothing_is_refused(
    build: Callable[[], SinkProject], field: str, value: str, message: str
) -> None:
    events = build().collect_events()
    at = next(i for i, e in enumerate(events) if field in vars(e))
    forged = type(events[at])(**{**vars(events[at]), field: value})
    with pytest.raises(InvalidInputError, match=message):
        walk([*events[:at], forged])


def _v1_binding(label: str) -> tuple[Any, Any]:
    """The registration and a version 1 Bound event (signed before the id had a field)."""
    from ledger.domain.replay import domain_event
    from ledger.domain.sink_project import BOUND

    created, binding = bound().collect_events()
    fields = {k: v for k, v in vars(binding).items() if k != "event_id"}
    fields = {**fields, "event_name": label}
    del fields["originator_id"], fields["originator_version"]
    return created, domain_event(BOUND, created.originator_id, 2, fields)


def test_a_version_1_binding_is_upcast_with_the_id_its_label_names_and_replays() -> None:
    created, binding = _v1_binding(FORUM)
    assert binding.event_id == FORUM_ID
    sink = walk([created, binding])
    assert (sink.event_id, sink.event_name, sink.event_ends) == (FORUM_ID, FORUM, D(2026, 6, 30))


def test_a_version_1_binding_whose_label_names_no_event_id_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^R9: a sink project is bound to an event by"):
        _v1_binding("Jinan Forum")
