"""Every refusal of a public command names its rule first, or else the field and the reason.

Walks the public commands of :class:`ledger.Ledger` with bad input, on SQLite and PostgreSQL
(issue 14): a refusal that enforces one of R1-R12 starts with that rule (``R7: ...``) and has
it in ``error.rule``; one that enforces no rule names the field and the reason, and starts
with no rule id. Nothing is written by a refused command.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ledger import Ledger, LedgerError, Line, Organiser, SerialRange, Signer
from ledger.domain.parcels import Parcel

from conftest import Backend, issue, new_event

UTC = datetime.UTC
NOWHERE = UUID("00000000-0000-4000-8000-000000000000")


class Actors:
    """The signers and the facts the cases act on."""

    def __init__(self, ledger: Ledger, **signers: Signer) -> None:
        self.ledger = ledger
        self.registry, self.organiser = signers["registry"], signers["organiser"]
        self.developer, self.verifier = signers["developer"], signers["verifier"]
        self.batch = issue(ledger, self.registry, self.organiser, 1, 100)
        self.event = new_event(ledger, self.organiser, "Walk Forum", datetime.date(2099, 6, 30))


def batch_facts(a: Actors, **changes: Any) -> dict[str, Any]:
    return {
        "instrument": "ccer",
        "vintage": 2025,
        "project": "p",
        "province": "Shandong",
        "methodology": "m",
        "serials": SerialRange(5001, 5010),
        "holder": a.organiser.actor,
        **changes,
    }


def sink(a: Actors, **changes: Any) -> UUID:
    facts: dict[str, Any] = {
        "name": "Walk forest",
        "ecosystem": "forest",
        "parcels": [Parcel.of("W-1")],
        "area_hectares": 10,
        "expected_removals": 40,
        "crediting_start": datetime.date(2026, 1, 1),
        "crediting_end": datetime.date(2046, 1, 1),
        **changes,
    }
    return a.ledger.register_sink_project(a.developer, **facts)


CASES: list[tuple[str, Callable[[Actors], object], str]] = [
    (
        "unknown instrument",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, instrument="vcs")),
        "R7",
    ),
    (
        "vintage too old",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, vintage=1899)),
        "R7",
    ),
    (
        "vintage in the future",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, vintage=2999)),
        "R7",
    ),
    (
        "fractional CCER unit",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, unit=Decimal("0.1"))),
        "R7",
    ),
    ("float unit", lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, unit=0.1)), "R7"),
    (
        "unknown holder",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, holder="nobody")),
        "R11",
    ),
    (
        "holder of the wrong role",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, holder=a.verifier.actor)),
        "R11: is not an account (its keys have role verifier)",
    ),
    (
        "overlapping serial block",
        lambda a: a.ledger.issue_batch(a.registry, **batch_facts(a, serials=SerialRange(50, 150))),
        "R11",
    ),
    (
        "transfer to nobody",
        lambda a: a.ledger.transfer(a.organiser, a.batch, SerialRange(1, 5), to="nobody"),
        "R11",
    ),
    (
        "transfer beyond the batch",
        lambda a: a.ledger.transfer(
            a.organiser, a.batch, SerialRange(90, 120), to=a.registry.actor
        ),
        "R11",
    ),
    (
        "retire another's units",
        lambda a: a.ledger.retire(
            a.registry, a.batch, SerialRange(1, 5), beneficiary="b", reason="r"
        ),
        "R11",
    ),
    (
        "retire with no reason",
        lambda a: a.ledger.retire(
            a.organiser, a.batch, SerialRange(1, 5), beneficiary="b", reason=" "
        ),
        "reason must be",
    ),
    (
        "event of no kind",
        lambda a: a.ledger.register_event(
            a.organiser,
            kind="party",
            name="n",
            organisers=[Organiser("O", "enterprise")],
            venue="v",
            starts=datetime.datetime(2026, 5, 1, tzinfo=UTC),
            ends=datetime.datetime(2026, 5, 2, tzinfo=UTC),
            participants=10,
        ),
        "R1",
    ),
    (
        "event of no participants",
        lambda a: a.ledger.register_event(
            a.organiser,
            kind="forum",
            name="n",
            organisers=[Organiser("O", "enterprise")],
            venue="v",
            starts=datetime.datetime(2026, 5, 1, tzinfo=UTC),
            ends=datetime.datetime(2026, 5, 2, tzinfo=UTC),
            participants=0,
        ),
        "R1",
    ),
    (
        "plan outside the boundary",
        lambda a: a.ledger.publish_plan(
            a.organiser,
            a.event,
            boundary=["fireworks"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "cea", "province": "x"}],
        ),
        "R6",
    ),
    (
        "negative measure",
        lambda a: a.ledger.record_measure(
            a.organiser, a.event, kind="other", description="d", expected_tonnes=-1
        ),
        "expected effect must be",
    ),
    (
        "commitment before accounting",
        lambda a: a.ledger.commit_neutrality(a.organiser, a.event),
        "R3",
    ),
    ("confirmation before a plan", lambda a: a.ledger.confirm_event(a.organiser, a.event), "R4"),
    (
        "evaluation before accounting",
        lambda a: a.ledger.evaluate_event(
            a.verifier, a.event, conclusion="neutral", verified_tonnes=1, report="r"
        ),
        "R2",
    ),
    (
        "measure by someone else",
        lambda a: a.ledger.record_measure(
            a.registry, a.event, kind="other", description="d", expected_tonnes=1
        ),
        "R1",
    ),
    ("sink without parcels", lambda a: sink(a, parcels=[]), "R9"),
    ("sink of no ecosystem", lambda a: sink(a, ecosystem="desert"), "ecosystem must be"),
    (
        "binding to no event",
        lambda a: a.ledger.bind_sink_project(a.developer, sink(a), event_id=NOWHERE),
        "no event",
    ),
    (
        "removals of an unbound project",
        lambda a: a.ledger.issue_sink_removals(
            a.registry,
            sink(a),
            serials=SerialRange(7001, 7010),
            holder=a.organiser.actor,
            methodology="m",
        ),
        "R10",
    ),
    (
        "negative removals",
        lambda a: a.ledger.measure_sink_removals(a.verifier, sink(a), tonnes=-1),
        "measured removals must be",
    ),
    (
        "CSV serial with a superscript digit",
        lambda a: a.ledger.import_batches_csv(
            a.registry, io.StringIO(CSV.format(end="10²", holder=a.organiser.actor))
        ),
        "row 2: serial_end '10²' is not an integer",
    ),
    (
        "CSV holder of the wrong role",
        lambda a: a.ledger.import_batches_csv(
            a.registry, io.StringIO(CSV.format(end="10", holder=a.verifier.actor))
        ),
        "row 2: R11: ",
    ),
]

CSV = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
    "ccer,2024,P-1,Shandong,CM-001,9001,{end},{holder},1,\n"
)

FAR = '{"type":"Polygon","coordinates":[[[200,95],[201,95],[201,96],[200,95]]]}'

VALUES: list[tuple[str, Callable[[], object], str]] = [
    ("serials out of bounds", lambda: SerialRange(0, 5), "R11"),
    ("serials reversed", lambda: SerialRange(9, 5), "R11"),
    ("float activity", lambda: Line("lodging", 3.0, "night", Decimal(1), "s", 2025), "R6"),  # type: ignore[arg-type]
    ("negative activity", lambda: Line("lodging", -3, "night", Decimal(1), "s", 2025), "R6"),
    ("NaN activity", lambda: Line("lodging", Decimal("NaN"), "night", Decimal(1), "s", 2025), "R6"),
    ("float factor", lambda: Line("lodging", 3, "night", 53.5, "s", 2025), "R6"),  # type: ignore[arg-type]
    ("parcel out of range", lambda: Parcel("P", FAR), "R9"),
]


def assert_names(error: LedgerError, expected: str) -> None:
    text = str(error)
    assert "\n" not in text
    rule, _, detail = expected.partition(": ")
    if re.fullmatch(r"R\d+", rule):
        assert error.rule == rule, text
        assert text.startswith(f"{rule}: "), text
        assert detail in text, text
    else:
        assert expected in text, text
        if not expected.startswith("row "):
            assert error.rule is None and not re.match(r"R\d+: ", text), text


def count_events(backend: Backend) -> int:
    return backend.execute("SELECT count(*) FROM {table}")[0][0]


@pytest.mark.parametrize(("case", "act", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_command_is_refused_naming_its_rule_or_its_field(
    backend: Backend,
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    developer: Signer,
    verifier: Signer,
    case: str,
    act: Callable[[Actors], object],
    expected: str,
) -> None:
    actors = Actors(
        ledger, registry=registry, organiser=organiser, developer=developer, verifier=verifier
    )
    before = count_events(backend)
    with pytest.raises(LedgerError) as caught:
        act(actors)
    assert_names(caught.value, expected)
    assert count_events(backend) - before <= 1  # at most the sink project the case registered


@pytest.mark.parametrize(("case", "make", "expected"), VALUES, ids=[v[0] for v in VALUES])
def test_a_bad_value_is_refused_on_construction_naming_its_rule(
    case: str, make: Callable[[], object], expected: str
) -> None:
    with pytest.raises(LedgerError) as caught:
        make()
    assert_names(caught.value, expected)
