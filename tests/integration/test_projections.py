"""Read models: exactly-once, resumable, rebuildable; on SQLite and PostgreSQL (issue 7)."""

from __future__ import annotations

import multiprocessing
import random
import time
from typing import Any

import pytest

from ledger import Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot
from ledger.projections.runner import ProjectionRunner
from ledger.projections.views import DisclosureRegister, SerialUnits

from conftest import Backend, issue


def busy_store(
    ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer, rounds: int
) -> list[Any]:
    batches = []
    for n in range(rounds):
        base = n * 1000 + 1
        batch = issue(ledger, registry, organiser, base, base + 499)
        ledger.transfer(organiser, batch, SerialRange(base, base + 99), to=stranger.actor)
        ledger.reserve(stranger, batch, SerialRange(base, base + 9), event_name="Forum")
        ledger.retire(
            stranger,
            batch,
            SerialRange(base, base + 4),
            beneficiary="b",
            reason="r",
            event_name="Forum",
        )
        ledger.release(stranger, batch, SerialRange(base + 5, base + 9), event_name="Forum")
        ledger.split(organiser, batch, base + 300)
        ledger.export(
            organiser,
            batch,
            SerialRange(base + 400, base + 449),
            target_registry="verra",
            reason="r",
        )
        batches.append(batch)
    return batches


@pytest.fixture
def store(ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer) -> list[Any]:
    return busy_store(ledger, registry, organiser, stranger, 3)


def lots_of(runner: ProjectionRunner, batch: Any) -> list[tuple[Any, ...]]:
    return [row[1:] for row in runner.snapshot()["ledger_view_lots"] if row[0] == str(batch)]


def test_the_serial_unit_registry_equals_the_aggregates_and_survives_a_rebuild(
    backend: Backend, ledger: Ledger, store: list[Any], stranger: Signer
) -> None:
    runner = ProjectionRunner(ledger.store, SerialUnits(), backend.schema)
    assert runner.catch_up(page=7) == 21
    for batch in store:
        expected = [
            (lot.serials.start, lot.serials.end, lot.state.value, lot.account, lot.purpose)
            for lot in ledger.batch(batch).lots()
        ]
        assert lots_of(runner, batch) == expected
    live = runner.snapshot()
    assert runner.catch_up() == 0
    assert runner.rebuild() == 21
    assert runner.snapshot() == live
    with ledger.store.read() as connection:
        holdings = runner.projection.holdings(connection, stranger.actor)  # type: ignore[attr-defined]
    assert holdings[(str(store[0]), "held")] == 95
    assert holdings[(str(store[0]), "retired")] == 5
    with ledger.store.read() as connection:
        steps = runner.projection.unit_history(connection, str(store[0]), 3)  # type: ignore[attr-defined]
    expected = [(s.version, s.kind, s.account, s.entry) for s in ledger.provenance(store[0], 3)]
    assert steps == expected


def test_the_disclosure_register_lists_retirements_and_exports_with_tonnes_and_instrument(
    backend: Backend, ledger: Ledger, store: list[Any]
) -> None:
    runner = ProjectionRunner(ledger.store, DisclosureRegister(), backend.schema)
    runner.catch_up()
    with ledger.store.read() as connection:
        listing = runner.projection.listing(connection)  # type: ignore[attr-defined]
    kinds = [row["kind"] for row in listing]
    assert kinds == ["retirement", "export"] * 3
    assert listing[1]["detail"]["targetRegistry"] == "verra"
    retired = listing[0]["detail"]
    assert {"instrument", "serialStart", "serialEnd", "units", "tonnes"} <= set(retired)
    assert retired["units"] == retired["serialEnd"] - retired["serialStart"] + 1
    live = runner.snapshot()
    runner.rebuild()
    assert runner.snapshot() == live


def _project(url: str, schema: str | None, keys: dict[str, Any], done: Any) -> None:
    from ledger import KeyDirectory

    def count(applied: int) -> None:
        done.value = applied

    with Ledger(url, KeyDirectory.from_json(keys), schema=schema) as ledger:
        ProjectionRunner(ledger.store, SerialUnits(), schema).catch_up(page=1, progress=count)


def test_a_projector_killed_mid_run_resumes_to_the_same_state(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
) -> None:
    batches = busy_store(ledger, registry, organiser, stranger, 12)
    total = 12 * 7
    context = multiprocessing.get_context("spawn")
    keys = root.directory().to_json()
    runner = ProjectionRunner(ledger.store, SerialUnits(), backend.schema)
    killed_at = []
    for target in sorted(random.sample(range(5, total - 20), 3)):
        done = context.Value("i", 0)
        process = context.Process(target=_project, args=(backend.url, backend.schema, keys, done))
        process.start()
        deadline = time.monotonic() + 60
        while done.value < target and process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.001)
        process.kill()
        process.join()
        killed_at.append(runner.position())
    assert any(position < total for position in killed_at), killed_at
    runner.catch_up()
    resumed = runner.snapshot()
    for batch in batches:
        expected = [
            (lot.serials.start, lot.serials.end, lot.state.value, lot.account, lot.purpose)
            for lot in ledger.batch(batch).lots()
        ]
        assert lots_of(runner, batch) == expected
    runner.rebuild()
    assert runner.snapshot() == resumed


def test_a_following_projection_keeps_up_with_new_writes(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    import threading

    runner = ProjectionRunner(ledger.store, DisclosureRegister(), backend.schema)
    stop = threading.Event()
    follower = threading.Thread(target=runner.follow, args=(stop,), kwargs={"idle": 0.2})
    follower.start()
    try:
        busy_store(ledger, registry, organiser, stranger, 2)
        target = ledger.store.max_notification_id()
        deadline = time.monotonic() + 20
        while runner.position() < (target or 0) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        follower.join(timeout=20)
    assert runner.position() == target
    live = runner.snapshot()
    runner.rebuild()
    assert runner.snapshot() == live
    assert len(live["ledger_view_disclosures"]) == 4


def _catch_up_all(url: str, schema: str | None, keys: Any, page: int, failures: Any) -> None:
    """A projector process: catch every read model up, a few events per transaction."""
    from ledger import KeyDirectory
    from ledger.projections.check import READ_MODELS

    try:
        with Ledger(url, KeyDirectory.from_json(keys), schema=schema) as opened:
            for make in READ_MODELS:
                ProjectionRunner(opened.store, make(), schema).catch_up(page=page)
    except BaseException as e:
        failures.put(f"{type(e).__name__}: {e}")
        raise


def test_two_projectors_at_once_converge_to_a_rebuild_with_no_duplicate_rows(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
) -> None:
    from ledger.projections.check import READ_MODELS, fresh

    busy_store(ledger, registry, organiser, stranger, 6)
    context = multiprocessing.get_context("spawn")
    keys = root.directory().to_json()
    failures = context.Queue()
    projectors = [
        context.Process(
            target=_catch_up_all, args=(backend.url, backend.schema, keys, page, failures)
        )
        for page in (1, 3)
    ]
    for process in projectors:
        process.start()
    for process in projectors:
        process.join(timeout=300)
    errors = [failures.get() for _ in range(failures.qsize())] if not failures.empty() else []
    assert errors == [] and [p.exitcode for p in projectors] == [0, 0]
    for make in READ_MODELS:
        runner = ProjectionRunner(ledger.store, make(), backend.schema)
        assert runner.position() == ledger.store.max_notification_id()
        live = runner.snapshot()
        assert live == fresh(ledger.store, make()).snapshot(), make.__name__
        for table, rows in live.items():
            assert len(rows) == len(set(rows)), f"duplicate rows in {table}"
