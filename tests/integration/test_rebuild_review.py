"""Attacks the insider review of the page-batched rebuild found (SPEC 5a); each is refused.

An SQL insider without any key reorders or copies signed events where no checkpoint covers
them; and a verifier pool whose worker died must not stop later rebuilds.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from ledger import Ledger, SerialRange, Signer
from ledger.errors import ChainError
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
    with pytest.raises(ChainError, match=r"version 0 .* not the next link"):
        fresh_all(ledger.store)


def test_a_deleted_transfer_no_checkpoint_covers_is_refused_by_a_rebuild(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.transfer(organiser, batch, SerialRange(1, 5), to=stranger.actor)
    ledger.retire(organiser, batch, SerialRange(6, 10), beneficiary="b", reason="r")
    backend.execute("DELETE FROM {table} WHERE originator_version = 2")
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
