"""`Ledger.audit` names the first bad event of a store changed with plain SQL (issue 6)."""

from __future__ import annotations

import pytest

from ledger import AuditError, KeyDirectory, Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot

from conftest import Backend, checkpointed, issue


@pytest.fixture
def store(
    backend: Backend,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> Backend:
    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        batch = issue(ledger, registry, organiser, 1, 300)
        other = issue(ledger, registry, organiser, 301, 600)
        for start in (1, 101, 201):
            ledger.retire(
                organiser, batch, SerialRange(start, start + 9), beneficiary="b", reason="r"
            )
        ledger.transfer(organiser, other, SerialRange(301, 310), to="someone-else")
        checkpointed(ledger, log_signer, witness)
    return backend


def audit(backend: Backend, trusted: TrustRoot, held: object = None) -> object:
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as ledger:
        return ledger.audit(trusted, held)  # type: ignore[arg-type]


def rows(backend: Backend, table: str = "{table}") -> list[tuple[int, int, bytes]]:
    return [
        (r[0], r[1], bytes(r[2]))
        for r in backend.execute(f"SELECT id, originator_version, state FROM {table} ORDER BY id")
    ]


def log_table(backend: Backend) -> str:
    return f"{backend.schema}.ledger_log" if backend.schema else "ledger_log"


def test_an_untouched_store_passes_the_audit(store: Backend, root: TrustRoot) -> None:
    report = audit(store, root)
    assert (report.events, report.aggregates, report.checkpoints) == (6, 2, 1)  # type: ignore[attr-defined]


def test_a_flipped_byte_is_named_by_log_position_aggregate_and_version(
    store: Backend, root: TrustRoot
) -> None:
    row_id, version, state = rows(store)[3]
    changed = bytearray(state)
    changed[50] ^= 0x04
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=bytes(changed), id=row_id)
    with pytest.raises(AuditError, match=rf"^log leaf 4, aggregate .* version {version}: "):
        audit(store, root)


def test_a_deleted_middle_event_is_named(store: Backend, root: TrustRoot) -> None:
    row_id, _, _ = rows(store)[2]
    store.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    with pytest.raises(AuditError, match=r"^log leaf 3 is aggregate .* version 2, which does not"):
        audit(store, root)


def test_a_deleted_last_event_is_missing_from_the_store(store: Backend, root: TrustRoot) -> None:
    row_id, _, _ = rows(store)[-1]
    store.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    with pytest.raises(
        AuditError, match=r"^log leaf 6: aggregate .* version 2 is missing from the store"
    ):
        audit(store, root)


def test_a_deleted_last_event_and_leaf_break_the_signed_checkpoint(
    store: Backend, root: TrustRoot
) -> None:
    row_id, _, _ = rows(store)[-1]
    store.execute("DELETE FROM {table} WHERE id = :id", id=row_id)
    store.execute(f"DELETE FROM {log_table(store)} WHERE leaf_index = 6")
    with pytest.raises(AuditError, match=r"^checkpoint 7: covers 7 leaves but the log has 6"):
        audit(store, root)


def test_a_changed_log_leaf_is_named(store: Backend, root: TrustRoot) -> None:
    store.execute(
        f"UPDATE {log_table(store)} SET leaf_hash = :h WHERE leaf_index = 5", h=b"\x00" * 32
    )
    with pytest.raises(AuditError, match=r"^log leaf 5 is aggregate .* does not match"):
        audit(store, root)
