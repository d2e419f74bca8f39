"""Two processes race for the same units, serials or land: the database lets exactly one win.

Issues 3 (units, serial blocks) and 4 (parcels, R9).

Each round starts two fresh processes that open the same store and wait at a barrier, then both
try the same retirement (or overlapping issuances). The loser gets a LedgerError; the store
holds the winner's events only.
"""

from __future__ import annotations

import datetime
import multiprocessing
from typing import Any
from uuid import UUID

import pytest

from ledger import KeyDirectory, Ledger, LedgerError, SerialRange, Signer, TrustRoot
from ledger.domain._units import UnitState
from ledger.domain.parcels import Parcel

from conftest import Backend, issue, new_event

ROUNDS = 5


def _retire(ledger: Ledger, signer: Signer, job: dict[str, Any]) -> None:
    serials = SerialRange(*job["serials"])
    ledger.retire(signer, job["batch"], serials, beneficiary="b", reason=job["name"])


def _issue(ledger: Ledger, signer: Signer, job: dict[str, Any]) -> None:
    ledger.issue_batch(
        signer,
        instrument="ccer",
        vintage=2024,
        project=f"p-{job['name']}",
        province="Shandong",
        methodology="m",
        serials=SerialRange(*job["serials"]),
        holder=job["holder"],
    )


def _sink(ledger: Ledger, signer: Signer, job: dict[str, Any]) -> None:
    project = ledger.register_sink_project(
        signer,
        name=f"project {job['name']}",
        ecosystem="forest",
        parcels=[Parcel.of(job["parcel"], job["geometry"])],
        area_hectares=10,
        expected_removals=100,
        crediting_start=datetime.date(2026, 1, 1),
        crediting_end=datetime.date(2040, 1, 1),
    )
    ledger.bind_sink_project(signer, project, event_id=UUID(job["event"]))


ACTIONS = {"retire": _retire, "issue": _issue, "sink": _sink}


def _contender(job: dict[str, Any], barrier: Any, results: Any) -> None:
    try:
        signer = Signer.from_json(job["signer"])
        keys = KeyDirectory.from_json(job["keys"])
        with Ledger(job["url"], keys, schema=job["schema"]) as ledger:
            barrier.wait(timeout=60)
            try:
                ACTIONS[job["action"]](ledger, signer, job)
            except LedgerError as e:
                results.put((job["name"], f"refused: {type(e).__name__}: {e}"))
            else:
                results.put((job["name"], "won"))
    except BaseException as e:  # report, so that the test fails with the reason
        results.put((job["name"], f"crashed: {type(e).__name__}: {e}"))
        barrier.abort()


def race(jobs: list[dict[str, Any]]) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [context.Process(target=_contender, args=(job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in jobs]
    for process in processes:
        process.join(timeout=30)
    return [outcome for _, outcome in sorted(outcomes)]


def job(backend: Backend, keys: KeyDirectory, signer: Signer, **fields: Any) -> dict[str, Any]:
    return {
        "url": backend.url,
        "schema": backend.schema,
        "keys": keys.to_json(),
        "signer": signer.to_json(),
        **fields,
    }


def test_two_processes_retiring_the_same_units_leave_exactly_one_winner(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    for round_ in range(ROUNDS):
        batch = issue(ledger, registry, organiser, round_ * 100 + 1, round_ * 100 + 100)
        start = round_ * 100 + 1
        jobs = [
            job(
                backend,
                keys,
                organiser,
                action="retire",
                batch=batch,
                name=name,
                serials=(start, start + 9 + offset),
            )
            for name, offset in (("a", 0), ("b", 5))
        ]
        outcomes = race(jobs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
        assert "R11" in "".join(outcomes) or "ConcurrencyError" in "".join(outcomes)
        assert len(ledger.history(batch)) == 2
    report = ledger.audit(root)  # the Merkle log kept pace with every concurrent writer
    assert report.events == 2 * ROUNDS


def _retire_each(ledger: Ledger, signer: Signer, job: dict[str, Any]) -> None:
    for serial in job["each"]:
        units = SerialRange(serial, serial)
        ledger.retire(signer, job["batch"], units, beneficiary="b", reason="r")


ACTIONS["retire-each"] = _retire_each


def test_eight_processes_retiring_distinct_units_of_one_batch_all_succeed_in_turn(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    """Issue 13: writers of one batch wait for each other (a lock), none loses a race."""
    batch = issue(ledger, registry, organiser, 1, 100)
    jobs = [
        job(
            backend,
            keys,
            organiser,
            action="retire-each",
            batch=batch,
            name=f"w{n}",
            each=[n * 4 + k + 1 for k in range(4)],
        )
        for n in range(8)
    ]
    assert race(jobs) == ["won"] * 8
    history = ledger.history(batch)
    assert len(history) == 1 + 8 * 4
    assert [entry.version for entry in history] == list(range(1, 34))
    retired = sorted(entry.event["serial_start"] for entry in history[1:])
    assert retired == list(range(1, 33))
    assert ledger.batch(batch).units.total(UnitState.RETIRED) == 32
    assert ledger.audit(root).events == 1 + 8 * 4


def test_two_processes_issuing_overlapping_blocks_leave_exactly_one_winner(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    for round_ in range(ROUNDS):
        base = 100_000 + round_ * 1000
        jobs = [
            job(
                backend,
                keys,
                registry,
                action="issue",
                holder=organiser.actor,
                name=name,
                serials=(base + shift, base + shift + 499),
            )
            for name, shift in (("a", 0), ("b", 250))
        ]
        outcomes = race(jobs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
        assert "R11: serials" in "".join(outcomes)
    assert ledger.audit(root).events == ROUNDS
    blocks = backend.execute(
        "SELECT count(*) FROM "
        + (
            "ledger_serial_blocks"
            if backend.schema is None
            else f"{backend.schema}.ledger_serial_blocks"
        )
    )
    assert blocks[0][0] == ROUNDS


def square(x: float, size: float = 0.01) -> str:
    ring = [[x, 36.6], [x + size, 36.6], [x + size, 36.6 + size], [x, 36.6 + size], [x, 36.6]]
    return '{"type":"Polygon","coordinates":[' + str(ring) + "]}"


@pytest.mark.parametrize("same_id", [True, False], ids=["same-parcel-id", "overlapping-area"])
def test_two_processes_binding_the_same_land_to_two_events_leave_exactly_one_winner(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    developer: Signer,
    organiser: Signer,
    same_id: bool,
) -> None:
    events = {name: str(new_event(ledger, organiser, f"event {name}")) for name in ("a", "b")}
    for round_ in range(ROUNDS):
        x = 110 + round_
        jobs = [
            job(
                backend,
                keys,
                developer,
                action="sink",
                name=name,
                parcel=f"LAND-{round_}" if same_id else f"LAND-{round_}-{name}",
                geometry=square(x + shift),
                event=events[name],
            )
            for name, shift in (("a", 0.0), ("b", 0.005))
        ]
        outcomes = race(jobs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
        assert "R9: " in "".join(outcomes)
    parcels = backend.execute(
        "SELECT count(*) FROM "
        + ("ledger_parcels" if backend.schema is None else f"{backend.schema}.ledger_parcels")
    )
    assert parcels[0][0] == ROUNDS


@pytest.mark.postgres
def test_two_writers_saving_a_checkpoint_of_the_same_size_at_once_do_not_collide(
    postgres_url: str, root: TrustRoot
) -> None:
    """Found by ``python -m ledger.sim --hours``: a cosignature raced a checkpoint of its size.

    Saving was a delete and an insert; the second writer's insert hit the primary key and a raw
    IntegrityError left ``add_cosignature``. It is one upsert now.
    """
    import secrets
    import threading

    schema = f"t_{secrets.token_hex(6)}"
    with Ledger(postgres_url, root, schema=schema) as ledger:
        store = ledger.store
        first = store.engine.connect()
        transaction = first.begin()
        store.log.save_checkpoint(first, 7, "first note")
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with store.write() as connection:
                    store.log.save_checkpoint(connection, 7, "second note")
            except BaseException as e:
                errors.append(e)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)  # blocked on the first writer's row
        transaction.commit()
        first.close()
        thread.join(timeout=30)
        assert errors == []
        with store.read() as connection:
            assert store.log.checkpoint_notes(connection) == [(7, "second note")]
