"""Writers of one aggregate take turns; a waiting writer catches up while it waits (issue 13).

On PostgreSQL a writer waits for a busy aggregate's advisory lock in slices and, after each,
reads and verifies the events committed meanwhile, so its own turn checks only what is new.
What it reads while waiting is verified as any read is; its write still chains to the last
event stored.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from ledger import KeyDirectory, Ledger, SerialRange, Signer, TrustRoot, database_url
from ledger.domain.credit_batch import CreditBatch

from conftest import Backend, issue


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """PostgreSQL only: advisory locks and the lock-read call are PostgreSQL's (SQLite's write
    lock is the whole database, so no writer slips in between a turn's read and its write)."""
    schema = f"t_{secrets.token_hex(6)}"
    created = Backend("postgres", request.getfixturevalue("postgres_url"), schema)
    created.execute(f"CREATE SCHEMA {schema}")
    return created


def test_a_writer_waiting_for_a_busy_batch_verifies_what_lands_meanwhile_and_chains_after_it(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.retire(organiser, batch, SerialRange(1, 5), beneficiary="b", reason="r")
    events = ledger.store._app.store
    caught_up = threading.Event()
    extend = events._extend

    def watched(aggregate: Any) -> Any:
        if events._local.read is not None and events._local.read[2]:
            caught_up.set()
        return extend(aggregate)

    from ledger.store import _event_store as event_store

    key = int.from_bytes(batch.bytes[:8], "big", signed=True)
    engine = sa.create_engine(database_url(backend.url))
    done: list[Any] = []
    with engine.connect() as holder, backend.open(keys) as other:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        monkeypatch.setattr(events, "_extend", watched)
        monkeypatch.setattr(event_store, "_WAIT_SLICE", "20ms")
        waiting = threading.Thread(
            target=lambda: done.append(
                ledger.retire(organiser, batch, SerialRange(6, 9), beneficiary="b", reason="r")
            )
        )
        waiting.start()
        # a write that does not take turns (Store.save) lands while the lock is held
        found = other.store.load(batch, CreditBatch)
        found.retire(SerialRange(10, 12), by=organiser.actor, beneficiary="b", reason="r")
        other.store.save(organiser, found)
        assert caught_up.wait(60), "the waiting writer never read the new event"
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        holder.commit()
        waiting.join(60)
    engine.dispose()
    assert len(done) == 1
    history = ledger.history(batch)
    assert [entry.version for entry in history] == [1, 2, 3, 4]
    assert history[3].prev == history[2].hash
    assert ledger.audit(root).events == 4


def test_a_turn_whose_version_was_taken_meanwhile_is_re_run_and_chains_after_it(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    runs: list[int] = []
    with backend.open(keys) as other:

        def slip_in() -> None:  # another thread: its own transaction (another process's)
            stale = other.store.load(batch, CreditBatch)
            stale.retire(SerialRange(50, 59), by=organiser.actor, beneficiary="b", reason="r")
            other.store.save(organiser, stale)

        def retire(found: CreditBatch) -> None:
            runs.append(found.version)
            if len(runs) == 1:  # a writer that does not take turns stores version 2 first
                writer = threading.Thread(target=slip_in)
                writer.start()
                writer.join(60)
            found.retire(SerialRange(1, 9), by=organiser.actor, beneficiary="b", reason="r")

        version = ledger.store.update(organiser, batch, CreditBatch, retire)
    assert runs == [1, 2]
    assert version == 3
    history = ledger.history(batch)
    assert [entry.version for entry in history] == [1, 2, 3]
    assert history[2].prev == history[1].hash
    assert ledger.audit(root).events == 3
