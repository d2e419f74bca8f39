"""Attacks the insider review of the page-batched rebuild found (SPEC 5a); each is refused.

An SQL insider without any key reorders or copies signed events where no checkpoint covers
them; and a verifier pool whose worker died must not stop later rebuilds.
"""

from __future__ import annotations

import datetime
import os
import signal
from typing import Any

import attrs
import pytest

from ledger import Ledger, SerialRange, Signer, TrustRoot
from ledger.errors import ChainError, SignatureError, TamperError
from ledger.projections import _signatures
from ledger.projections.check import fresh_all

from conftest import Backend, issue


def test_a_batch_issuance_moved_after_its_retirement_is_refused_by_a_rebuild(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.transfer(organiser, batch, SerialRange(1, 5), to=stranger.actor)
    ledger.retire(organiser, batch, SerialRange(6, 10), beneficiary="b", reason="r")
    ((first,),) = backend.execute("SELECT min(id) FROM {table}")
    ((last,),) = backend.execute("SELECT max(id) FROM {table}")
    backend.execute("UPDATE {table} SET id = :new WHERE id = :old", new=last + 1, old=first)
    with pytest.raises(TamperError, match=r"log leaf 1 is not aggregate .* version 2"):
        fresh_all(ledger.store)
    _move_leaf(backend, 1, 3)  # the log's leaves edited to match
    with pytest.raises(ChainError, match=r"after version 0 .* not the next link"):
        fresh_all(ledger.store)


def _move_leaf(backend: Backend, leaf: int, to: int | None) -> None:
    """Move log leaf ``leaf`` to index ``to`` (or delete it), renumbering the others."""
    log = backend.table.replace("ledger_events", "ledger_log")
    rows = [tuple(r)[1:] for r in backend.execute(f"SELECT * FROM {log} ORDER BY leaf_index")]
    moved = rows.pop(leaf)
    if to is not None:
        rows.insert(to, moved)
    backend.execute(f"DELETE FROM {log}")
    for index, (hashed, aggregate, version) in enumerate(rows):
        backend.execute(
            f"INSERT INTO {log} (leaf_index, leaf_hash, aggregate, version)"
            " VALUES (:i, :h, :a, :v)",
            i=index,
            h=hashed,
            a=aggregate,
            v=version,
        )


def test_a_deleted_transfer_no_checkpoint_covers_is_refused_by_a_rebuild(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.transfer(organiser, batch, SerialRange(1, 5), to=stranger.actor)
    ledger.retire(organiser, batch, SerialRange(6, 10), beneficiary="b", reason="r")
    backend.execute("DELETE FROM {table} WHERE originator_version = 2")
    with pytest.raises(TamperError, match=r"log leaf 2 is not aggregate .* version 3"):
        fresh_all(ledger.store)
    _move_leaf(backend, 2, None)  # the log's leaves edited to match
    with pytest.raises(ChainError, match=r"after version 1 .* not the next link"):
        fresh_all(ledger.store)


def test_a_rebuild_after_a_pool_worker_died_checks_every_signature_itself(
    backend: Backend,
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    for n in range(1, 12):
        ledger.transfer(organiser, batch, SerialRange(n, n), to=stranger.actor)
    monkeypatch.setattr(_signatures, "POOL_FROM", 1)
    monkeypatch.setattr(_signatures, "START_FROM", 1)
    monkeypatch.setattr(_signatures, "_shared", None)
    before = fresh_all(ledger.store)
    pool = _signatures._pool(start=False)
    assert pool is not None
    pool.wait_ready()
    executor: Any = pool._executor
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    again = fresh_all(ledger.store)  # checks here, and forgets the broken pool
    assert _snapshot(again) == _snapshot(before)
    replaced = _signatures._pool(start=True)
    assert replaced is not pool
    replaced.close()
    monkeypatch.setattr(_signatures, "_shared", None)


def _snapshot(runners: list[Any]) -> dict[str, Any]:
    return {runner.projection.name: runner.snapshot() for runner in runners}


def test_a_retirement_signed_with_a_key_revoked_earlier_in_the_log_is_not_certified(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    keys = [
        attrs.evolve(k, valid_until=tomorrow) if k.keyid == organiser.public.keyid else k
        for k in root.keys
    ]
    revoking = attrs.evolve(root, version=2, keys=tuple(keys), signatures=())
    ledger.adopt_root(revoking.signed_by(*operators))
    with backend.open(root.directory()) as forger:  # still trusting the old directory
        forger.retire(organiser, batch, SerialRange(1, 10), beneficiary="LATE", reason="r")
    with pytest.raises(
        SignatureError, match=r"revoked by trust root version 2 at log leaf 2 \(whatever its date"
    ):
        fresh_all(ledger.store)


def test_an_event_whose_log_leaf_was_deleted_is_refused_by_a_rebuild(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    _move_leaf(backend, 2, None)  # the retirement's leaf, the log's last
    with pytest.raises(TamperError, match=r"stored but not in the log: no log leaf after leaf 1"):
        fresh_all(ledger.store)
