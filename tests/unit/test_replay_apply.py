"""The replay applies events to exactly the state the aggregate's own commands made (SPEC 5a)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import LedgerError, SerialRange
from ledger.domain import CreditBatch
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.event_values import Organiser
from ledger.domain.parcels import Parcel
from ledger.domain.replay import replay_event
from ledger.domain.sink_project import SinkProject

ACCOUNTS = ("org", "alice", "bob")
SQUARE = (
    '{"type":"Polygon","coordinates":'
    "[[[117.0,36.6],[117.01,36.6],[117.01,36.61],[117.0,36.61],[117.0,36.6]]]}"
)
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=datetime.UTC)


def _state(aggregate: Any) -> dict[str, Any]:
    """Every attribute but the events a command has not yet handed over."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def _replayed(events: list[Any]) -> Any:
    state = None
    for event in events:
        state = replay_event(state, event)
    return state


def _mutated(events: list[Any]) -> Any:
    state = None
    for event in events:
        state = event.mutate(state)
    return state


_step = st.tuples(
    st.sampled_from(("transfer", "retire", "split", "donate")),
    st.integers(1, 60),
    st.integers(0, 20),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
)


def _command(batch: CreditBatch, step: tuple[str, int, int, str, str]) -> None:
    verb, start, length, by, to = step
    serials = SerialRange(start, start + length)
    if verb == "split":
        batch.split(start, by=by)
    elif verb == "retire":
        batch.retire(serials, by=by, event_name="Forum", beneficiary="Org", reason="neutral")
    else:
        getattr(batch, verb)(serials, by=by, to=to)


@settings(max_examples=60, deadline=None)
@given(
    end=st.integers(1, 80),
    kind=st.sampled_from((("ccer", 1), ("inclusion-forest", Decimal("0.1")), ("other", 1))),
    steps=st.lists(_step, max_size=8),
)
def test_a_replayed_credit_batch_history_is_the_state_its_commands_made(
    end: int, kind: tuple[str, Decimal | int], steps: list[tuple[str, int, int, str, str]]
) -> None:
    batch = CreditBatch.issue(
        registry="ccer-registry",
        instrument=kind[0],
        vintage=2024,
        project="CCER-37-0001",
        province="Shandong",
        methodology="CM-001",
        serials=SerialRange(1, end),
        holder="org",
        today=datetime.date(2026, 11, 25),
        unit=kind[1],
    )
    for step in steps:
        try:
            _command(batch, step)
        except LedgerError:
            continue  # refused: no event
    events = batch.collect_events()
    replayed = _replayed(events)
    assert type(replayed) is CreditBatch
    assert _state(replayed) == _state(batch)
    assert vars(replayed) == vars(_mutated(events))


def test_a_replayed_event_neutralization_and_sink_project_are_made_as_mutate_makes_them() -> None:
    event = EventNeutralization.register(
        kind="forum",
        name="Forum",
        organisers=[Organiser("Org", "enterprise")],
        venue="Jinan",
        starts=STARTS,
        ends=STARTS + datetime.timedelta(days=2),
        participants=100,
        by="org",
    )
    project = SinkProject.register(
        name="Forest",
        ecosystem="forest",
        developer="dev",
        parcels=[Parcel.of("p1", SQUARE)],
        area_hectares=10,
        expected_removals=100,
        crediting_start=datetime.date(2025, 1, 1),
        crediting_end=datetime.date(2035, 1, 1),
    )
    for aggregate in (event, project):
        events = aggregate.collect_events()
        replayed = _replayed(events)
        assert type(replayed) is type(aggregate)
        assert _state(replayed) == _state(aggregate)
        assert vars(replayed) == vars(_mutated(events))
