"""Tamper detection on stored events, on SQLite and PostgreSQL (issue 2, SPEC 5).

Each test changes the store with plain SQL, as an attacker with database access would, and
expects the next read to name the aggregate and version that fail.
"""

from __future__ import annotations

import pytest

from ledger import (
    ChainError,
    KeyDirectory,
    SerialRange,
    Signer,
    TamperError,
    UnknownSignerError,
)

from conftest import Backend, issue


@pytest.fixture
def batch(backend: Backend, keys: KeyDirectory, registry: Signer, organiser: Signer):
    with backend.open(keys) as ledger:
        batch = issue(ledger, registry, organiser, 1, 500, instrument="ccer")
        for start in (1, 101, 201):
            ledger.retire(
                organiser,
                batch,
                SerialRange(start, start + 99),
                event_name="Forum",
                beneficiary="Organiser",
                reason="neutralization",
            )
    return batch


def rows(backend: Backend) -> list[tuple[int, int, bytes]]:
    return [
        (row[0], row[1], bytes(row[2]))
        for row in backend.execute("SELECT id, originator_version, state FROM {table} ORDER BY id")
    ]


def set_state(backend: Backend, row_id: int, state: bytes) -> None:
    backend.execute("UPDATE {table} SET state = :state WHERE id = :id", state=state, id=row_id)


def read(backend: Backend, keys: KeyDirectory, batch) -> None:
    with backend.open(keys) as ledger:
        ledger.batch(batch)


@pytest.mark.parametrize("offset", [0, 40, 120, -30, -2])
def test_a_flipped_byte_in_a_stored_event_is_detected(
    backend: Backend, keys: KeyDirectory, batch, offset: int
) -> None:
    row_id, version, state = rows(backend)[2]
    changed = bytearray(state)
    changed[offset] ^= 0x01
    set_state(backend, row_id, bytes(changed))
    with pytest.raises(TamperError, match=rf"aggregate {batch} version {version}: "):
        read(backend, keys, batch)


def test_a_deleted_event_breaks_the_chain(backend: Backend, keys: KeyDirectory, batch) -> None:
    row_id, _, _ = rows(backend)[1]
    backend.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    with pytest.raises(ChainError, match=r"version 3: follows version 1: version 2 is missing"):
        read(backend, keys, batch)


def test_a_deleted_first_event_is_detected(backend: Backend, keys: KeyDirectory, batch) -> None:
    row_id, _, _ = rows(backend)[0]
    backend.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    with pytest.raises(ChainError, match=r"version 2: history starts at version 2"):
        read(backend, keys, batch)


def test_two_swapped_events_are_detected(backend: Backend, keys: KeyDirectory, batch) -> None:
    (id2, _, state2), (id3, _, state3) = rows(backend)[1:3]
    set_state(backend, id2, state3)
    set_state(backend, id3, state2)
    with pytest.raises(ChainError, match=r"version 2: stored here, but signed as .* version 3"):
        read(backend, keys, batch)


def test_an_event_signed_by_an_unknown_key_is_rejected(
    backend: Backend, registry: Signer, batch
) -> None:
    without_organiser = KeyDirectory([registry.public])
    with pytest.raises(UnknownSignerError, match=rf"{batch} version 2: signed by unknown key"):
        read(backend, without_organiser, batch)


def test_a_re_signed_event_by_another_known_account_is_rejected(
    backend: Backend, keys: KeyDirectory, stranger: Signer, batch
) -> None:
    from ledger.audit.envelope import Envelope

    row_id, version, state = rows(backend)[1]
    original = Envelope.from_bytes(state)
    forged = Envelope.seal(original.payload_type, original.payload, stranger)
    set_state(backend, row_id, forged.to_bytes())
    with pytest.raises(TamperError, match=rf"version {version}: event names actor"):
        read(backend, keys, batch)
