"""recheck of event neutralizations: each signed event is one a command could have made (R1-R8).

Forged events are made by calling the aggregate's ``@event`` methods directly, as a holder of
a leaked key with SQL access could: signed, but made by no command.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from ledger import AuthorizationError, LedgerError, RuleViolationError, SerialRange
from ledger.accounting import FactorTable
from ledger.domain.event_neutralization import EventNeutralization, Phase, recheck
from ledger.domain.event_values import Organiser

UTC = datetime.UTC
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=UTC)
ENDS = datetime.datetime(2026, 5, 22, 18, tzinfo=UTC)
BEFORE, AFTER = STARTS - datetime.timedelta(days=30), ENDS + datetime.timedelta(days=3)
BATCH = "00000000-0000-4000-8000-00000000000b"
CCER = "00000000-0000-4000-8000-0000000000cc"
COACH = FactorTable.default()["coach"]


def registered(participants: int) -> EventNeutralization:
    return EventNeutralization.register(
        kind="forum",
        name="Forum",
        organisers=[Organiser("Org", "enterprise")],
        venue="Jinan",
        starts=STARTS,
        ends=ENDS,
        participants=participants,
        by="org",
    )


def planned(participants: int) -> EventNeutralization:
    e = registered(participants)
    e.publish_plan(
        boundary=["transport-road", "lodging"],
        estimates={"transport-road": 3},
        measures=["coaches"],
        offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
        now=BEFORE,
        by="org",
    )
    return e


def allocate(e: EventNeutralization, batch: str, end: int, rank: int, reason: str | None) -> None:
    e.allocate(
        batch=batch,
        serials=SerialRange(1, end),
        tonnes=Decimal(end),
        rank=rank,
        best_available=None,
        reason=reason,
        by="org",
    )


def offset(participants: int) -> EventNeutralization:
    e = planned(participants)
    e.record_measure(kind="clean-plate", description="no buffet", expected_tonnes=1, by="org")
    e.report_measure(number=1, achieved_tonnes=Decimal("0.5"), by="org")
    e.account(lines=[COACH.line(100000)], now=AFTER, by="org")
    allocate(e, BATCH, 2, 1, None)
    allocate(e, CCER, 1, 4, "a sponsor donated these CCERs")
    e.record_retirement(batch=BATCH, serials=SerialRange(1, 2), certificate=f"{BATCH}:3", by="org")
    e.record_retirement(batch=CCER, serials=SerialRange(1, 1), certificate=f"{CCER}:4", by="org")
    return e


def commit(e: EventNeutralization) -> None:
    e.commit(statement=e.commitment_statement(AFTER.date()), by="org")


def walk(events: Sequence[Any]) -> EventNeutralization:
    """Recheck each event against the record before it, then apply it."""
    before: EventNeutralization | None = None
    for domain_event in events:
        recheck(before, domain_event)
        before = domain_event.mutate(before)
    assert before is not None
    return before


def self_committed() -> EventNeutralization:
    e = offset(300)
    commit(e)
    e.account(lines=[COACH.line(100100)], now=AFTER, by="org")
    commit(e)
    e.confirm(now=AFTER, by="org")
    return e


@pytest.mark.parametrize(
    "history",
    [
        pytest.param(self_committed, id="self-commitment re-accounted and recommitted"),
        pytest.param(
            lambda: _evaluated_and_confirmed(1200), id="third party evaluated and confirmed"
        ),
        pytest.param(lambda: offset(150), id="voluntary, offset, not yet confirmed"),
    ],
)
def test_every_lawful_history_passes_recheck_event_by_event(
    history: Callable[[], EventNeutralization],
) -> None:
    e = history()
    replayed = walk(e.collect_events())
    assert replayed.records() == e.records()


def _evaluated_and_confirmed(participants: int) -> EventNeutralization:
    e = planned(participants)
    e.account(lines=[COACH.line(100000)], now=AFTER, by="org")
    e.evaluate(conclusion="not-neutral", verified_tonnes=Decimal("2.776"), report="1", by="ver")
    allocate(e, BATCH, 3, 1, None)
    e.record_retirement(batch=BATCH, serials=SerialRange(1, 3), certificate=f"{BATCH}:3", by="org")
    e.evaluate(conclusion="neutral", verified_tonnes=Decimal("2.776"), report="2", by="ver")
    e.confirm(now=AFTER, by="org")
    return e


def test_recheck_never_changes_the_record_before_the_event() -> None:
    e = offset(300)
    *history, retired = e.collect_events()
    before = walk(history)
    version, records = before.version, before.records()
    recheck(before, retired)
    assert (before.version, before.records()) == (version, records)


def forged(e: EventNeutralization, forge: Callable[[EventNeutralization], None]) -> list[Any]:
    """The events of ``e``, then one made by ``forge`` without its command."""
    forge(e)
    return list(e.collect_events())


@pytest.mark.parametrize(
    ("build", "forge", "error", "message"),
    [
        pytest.param(
            lambda: offset(1200),
            lambda e: e._confirmed(on="2026-06-01", actor="org"),
            RuleViolationError,
            r"^R2: 'Forum' has 1200 participants \(tier third_party\): it needs a certified",
            id="confirmed without the verifier's evaluation",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._confirmed(on="2026-06-01", actor="org"),
            RuleViolationError,
            r"^R3: 'Forum' \(tier self_commitment\) needs the organiser's commitment",
            id="confirmed without a commitment",
        ),
        pytest.param(
            lambda: planned(300),
            lambda e: e._committed(statement=e.commitment_statement(AFTER.date()), actor="org"),
            RuleViolationError,
            r"^R3: cannot commit 'Forum': it is not accounted yet",
            id="commitment without accounting",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._committed(
                statement={
                    **e.commitment_statement(AFTER.date()),
                    "boundary_and_emissions": {"boundary": [], "accounted_tonnes": "1"},
                },
                actor="org",
            ),
            LedgerError,
            r"^R3: the commitment's boundary_and_emissions must state the record",
            id="commitment stating other emissions",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._evaluated(
                conclusion="neutral", verified_tonnes=Decimal(1), report="r", actor="org"
            ),
            AuthorizationError,
            r"^R2: the lead organiser 'org' cannot evaluate its own event",
            id="evaluation by the organiser",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._measure_recorded(
                number=2, kind="other", description="x", expected_tonnes=Decimal(1), actor="eve"
            ),
            AuthorizationError,
            r"^R1: only the lead organiser 'org' acts for 'Forum', not 'eve'",
            id="a measure by someone else",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._measure_recorded(
                number=5, kind="other", description="x", expected_tonnes=Decimal(1), actor="org"
            ),
            RuleViolationError,
            r"^R5: the .*measure-recorded.v1 event states number=5; the command .* number=2",
            id="a measure numbered out of turn",
        ),
        pytest.param(
            lambda: planned(300),
            lambda e: e._accounted(
                version=1,
                lines=[COACH.line(100000).to_json()],
                total=Decimal("0.001"),
                actor="org",
            ),
            RuleViolationError,
            r"^R6: the .*accounted.v1 event states total=Decimal\('0.001'\)",
            id="an accounting whose total is not its lines'",
        ),
        pytest.param(
            lambda: offset(300),
            lambda e: e._offset_retired(
                batch=BATCH,
                serial_start=1,
                serial_end=2,
                tonnes=Decimal(2),
                certificate=f"{BATCH}:9",
                actor="org",
            ),
            RuleViolationError,
            r"^R7: units 1-2 of batch .* are not an open allocation",
            id="an allocation retired twice",
        ),
        pytest.param(
            lambda: planned(300),
            lambda e: e._offset_allocated(
                batch=CCER,
                serial_start=1,
                serial_end=1,
                tonnes=Decimal(1),
                rank=4,
                deviation=False,
                reason=None,
                actor="org",
            ),
            RuleViolationError,
            r"^R8: an offset of priority rank 4 while rank 1 is planned .* needs a stated reason",
            id="a deviation without its reason",
        ),
        pytest.param(
            lambda: planned(300),
            lambda e: e._offset_allocated(
                batch=BATCH,
                serial_start=1,
                serial_end=1,
                tonnes=Decimal(1),
                rank=1,
                deviation=True,
                reason="none",
                actor="org",
            ),
            RuleViolationError,
            r"^R8: the .*offset-allocated.v1 event states deviation=True",
            id="a deviation that is none",
        ),
        pytest.param(
            self_committed,
            lambda e: e._accounted(
                version=3, lines=[COACH.line(900000).to_json()], total=Decimal(25), actor="org"
            ),
            RuleViolationError,
            r"^R7: cannot account 'Forum': it is already confirmed and its record is closed",
            id="an accounting after confirmation",
        ),
        pytest.param(
            self_committed,
            lambda e: e._evaluated(
                conclusion="not-neutral", verified_tonnes=Decimal(9), report="r", actor="ver"
            ),
            RuleViolationError,
            r"^R7: cannot evaluate 'Forum': it is already confirmed",
            id="an evaluation after confirmation",
        ),
        pytest.param(
            self_committed,
            lambda e: e._confirmed(on="2026-06-02", actor="org"),
            RuleViolationError,
            r"^R7: cannot confirm 'Forum': it is already confirmed",
            id="a second confirmation",
        ),
    ],
)
def test_a_forged_event_is_refused_with_the_rule_named(
    build: Callable[[], EventNeutralization],
    forge: Callable[[EventNeutralization], None],
    error: type[Exception],
    message: str,
) -> None:
    events = forged(build(), forge)
    with pytest.raises(error, match=message):
        walk(events)


def test_a_second_registration_and_an_event_before_registration_are_refused() -> None:
    first, plan, *_ = planned(300).collect_events()
    with pytest.raises(RuleViolationError, match=r"^R1: event .* is registered twice"):
        walk([first, first])
    with pytest.raises(RuleViolationError, match=r"^R1: .*plan-published.v1 comes before the"):
        walk([plan])


def test_a_confirmation_rests_on_the_latest_accounting_not_a_stale_commitment() -> None:
    e = offset(300)
    commit(e)
    e.account(lines=[COACH.line(100100)], now=AFTER, by="org")
    e._confirmed(on="2026-06-01", actor="org")
    with pytest.raises(RuleViolationError, match=r"^R3: 'Forum' \(tier self_commitment\) needs"):
        walk(e.collect_events())
    assert e.phase is Phase.CONFIRMED  # applied in memory; recheck is what refuses it
