"""The audit's verifier pool changes no verdict and no first failure named (issue 13)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import pytest

from ledger import AuditError, KeyDirectory, Ledger, SerialRange, Signer
from ledger.audit._sigpool import VerifierPool
from ledger.audit.trust import TrustRoot
from ledger.store import _audit
from ledger.store._audit import audit_store

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
        issue(ledger, registry, organiser, 301, 600)
        for start in (1, 101, 201):
            ledger.retire(
                organiser, batch, SerialRange(start, start + 9), beneficiary="b", reason="r"
            )
        checkpointed(ledger, log_signer, witness)
    return backend


class ReadyPool(VerifierPool):
    """The audit's pool, its workers started before the walk (so they check every event)."""

    def __init__(self, keys: Mapping[str, bytes], workers: int = 2) -> None:
        super().__init__(keys, workers)
        self.wait_ready()


def audit(backend: Backend, trusted: TrustRoot, workers: int) -> object:
    with (
        Ledger(backend.url, KeyDirectory(), schema=backend.schema) as ledger,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(_audit, "VerifierPool", ReadyPool)
        return audit_store(ledger.store, trusted, workers=workers)


def failure(backend: Backend, trusted: TrustRoot, workers: int) -> str:
    with pytest.raises(AuditError) as caught:
        audit(backend, trusted, workers)
    return str(caught.value)


def stored(backend: Backend) -> list[tuple[int, bytes]]:
    return [
        (r[0], bytes(r[1])) for r in backend.execute("SELECT id, state FROM {table} ORDER BY id")
    ]


def test_an_untouched_store_gets_the_same_report_with_the_pool_as_without(
    store: Backend, root: TrustRoot
) -> None:
    assert audit(store, root, 2) == audit(store, root, 0)


def test_a_signature_that_does_not_verify_is_named_the_same_with_the_pool(
    store: Backend, root: TrustRoot
) -> None:
    (first_id, first), (_, second) = stored(store)[:2]
    envelope = json.loads(first)
    envelope["signatures"][0]["sig"] = json.loads(second)["signatures"][0]["sig"]
    forged = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=forged, id=first_id)
    named = failure(store, root, 0)
    assert "does not verify" in named
    assert failure(store, root, 2) == named


def test_a_changed_payload_is_named_the_same_with_the_pool(store: Backend, root: TrustRoot) -> None:
    row_id, state = stored(store)[3]
    envelope = json.loads(state)
    payload = base64.b64decode(envelope["payload"]).replace(b'"b"', b'"c"', 1)
    envelope["payload"] = base64.b64encode(payload).decode()
    forged = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=forged, id=row_id)
    named = failure(store, root, 0)
    assert named.startswith("log leaf 4, aggregate ")
    assert failure(store, root, 2) == named


def test_an_edited_serial_claim_row_is_named_the_same_with_the_pool(
    store: Backend, root: TrustRoot
) -> None:
    table = f"{store.schema}.ledger_serial_blocks" if store.schema else "ledger_serial_blocks"
    store.execute(f"UPDATE {table} SET serial_end = serial_end + 1 WHERE serial_start = 301")
    named = failure(store, root, 0)
    assert "ledger_serial_blocks" in named
    assert failure(store, root, 2) == named
