"""What a write keeps as verified cannot poison a read or an audit (issue 13, SPEC 5a).

A writer keeps the entries it signed and committed instead of reading them back. These tests
edit the store with plain SQL after such writes, as an insider would, and expect the next read
by another opener (a new process) and the audit to name the event; and a write that rolls back
must leave nothing kept.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ledger import (
    ChainError,
    KeyDirectory,
    Ledger,
    LedgerError,
    SerialRange,
    Signer,
    TamperError,
    TrustRoot,
)

from conftest import Backend, issue


def _retire(ledger: Ledger, signer: Signer, batch: Any, start: int) -> None:
    units = SerialRange(start, start + 9)
    ledger.retire(signer, batch, units, beneficiary="b", reason="r")


def _rows(backend: Backend) -> list[tuple[int, int, bytes]]:
    found = backend.execute("SELECT id, originator_version, state FROM {table} ORDER BY id")
    return [(row[0], row[1], bytes(row[2])) for row in found]


def _retired_three_times(ledger: Ledger, registry: Signer, organiser: Signer) -> uuid.UUID:
    """A batch with three retirements, each kept by the writer as it signed it."""
    batch = issue(ledger, registry, organiser, 1, 100)
    for start in (1, 11, 21):
        _retire(ledger, organiser, batch, start)
    return batch


def test_an_event_edited_after_the_writer_kept_it_fails_a_new_reader_and_the_audit(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = _retired_three_times(ledger, registry, organiser)
    row_id, version, state = _rows(backend)[-1]
    flipped = bytearray(state)
    flipped[-30] ^= 0x01  # inside the signature
    changed = bytes(flipped)
    backend.execute("UPDATE {table} SET state = :s WHERE id = :id", s=changed, id=row_id)
    with (
        backend.open(keys) as reader,
        pytest.raises(TamperError, match=rf"aggregate {batch} version {version}: "),
    ):
        reader.batch(batch)
    with pytest.raises(LedgerError, match=rf"leaf \d+, aggregate {batch} version {version}: "):
        ledger.audit(root)


def test_an_event_deleted_after_the_writer_kept_it_fails_a_new_reader_and_the_audit(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = _retired_three_times(ledger, registry, organiser)
    row_id, _, _ = _rows(backend)[-2]
    backend.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    with backend.open(keys) as reader, pytest.raises(ChainError, match=r"version 3 is missing"):
        reader.batch(batch)
    with pytest.raises(LedgerError):
        ledger.audit(root)


def test_a_write_that_rolls_back_leaves_nothing_kept_and_the_next_write_chains_to_the_store(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    _retire(ledger, organiser, batch, 1)
    log = ledger.store.log

    def refuse(*_: Any) -> None:
        raise RuntimeError("the log refused the leaf")

    append_events = log.append_events

    def write_then_refuse(*args: Any, **kwargs: Any) -> None:
        # PostgreSQL: the events and leaves are in, then the write fails before its commit
        if append_events(*args, **{**kwargs, "commit": False}) is not None:
            refuse()

    with monkeypatch.context() as patched:
        patched.setattr(log, "append", refuse)
        patched.setattr(log, "append_events", write_then_refuse)
        with pytest.raises(RuntimeError, match="refused the leaf"):
            _retire(ledger, organiser, batch, 11)
    assert [entry.version for entry in ledger.history(batch)] == [1, 2]
    _retire(ledger, organiser, batch, 11)
    assert len(_rows(backend)) == 3
    with backend.open(keys) as reader:
        history = reader.history(batch)
    assert [entry.version for entry in history] == [1, 2, 3]
    assert history[2].prev == history[1].hash
    assert ledger.history(batch) == history
    assert ledger.audit(root).events == 3


def test_the_certificate_of_a_fresh_write_equals_the_one_a_new_reader_derives(
    backend: Backend,
    ledger: Ledger,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.transfer(organiser, batch, SerialRange(1, 50), to=stranger.actor)
    first = ledger.retire(stranger, batch, SerialRange(1, 5), beneficiary="b", reason="r")
    ledger.donate(stranger, batch, SerialRange(6, 20), to=organiser.actor)
    second = ledger.retire(organiser, batch, SerialRange(6, 9), beneficiary="b", reason="r")
    with backend.open(keys) as reader:
        assert reader.certificate(batch, first.retirement_version) == first
        assert reader.certificate(batch, second.retirement_version) == second
    assert second.donors == [stranger.actor]
    assert ledger.certificate(batch, first.retirement_version) == first
