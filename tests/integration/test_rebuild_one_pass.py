"""All read models rebuilt in one pass, proven by hashes against the signed checkpoint."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import sqlalchemy as sa
from test_projections import busy_store

from ledger import Ledger, LedgerError, Signer
from ledger.audit.merkle import EMPTY_ROOT, leaf_hash
from ledger.audit.note import cosign
from ledger.audit.trust import TrustRoot
from ledger.errors import SignatureError, TamperError
from ledger.projections._hashed import _checkpoint
from ledger.projections.check import READ_MODELS, fresh_all
from ledger.projections.runner import ProjectionRunner

from conftest import Backend, checkpointed, issue


@pytest.fixture
def store(
    backend: Backend,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
) -> Backend:
    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        busy_store(ledger, registry, organiser, stranger, 2)
        checkpointed(ledger, log_signer, witness)
        busy_store_tail(ledger, registry, organiser, stranger)
    return backend


def busy_store_tail(ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer) -> None:
    """An event past the checkpoint: proven by its signature."""
    issue(ledger, registry, organiser, 90001, 90100)


def resigned(state: bytes, other: bytes) -> bytes:
    """``state`` carrying the signature of ``other``: canonical, but not what was signed."""
    envelope = json.loads(state)
    envelope["signatures"][0]["sig"] = json.loads(other)["signatures"][0]["sig"]
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def opened(backend: Backend) -> Ledger:
    return Ledger(backend.url, schema=backend.schema)


def one_by_one(ledger: Ledger) -> dict[str, Any]:
    """Each read model folded on its own, verifying every signature (the old way)."""
    found = {}
    for make in READ_MODELS:
        runner = ProjectionRunner(ledger.store, make(), engine=sa.create_engine("sqlite://"))
        runner.catch_up()
        found[runner.projection.name] = runner.snapshot()
    return found


def test_one_pass_over_the_history_builds_every_read_model_as_one_pass_per_model_does(
    store: Backend,
) -> None:
    with opened(store) as ledger:
        together = {r.projection.name: r.snapshot() for r in fresh_all(ledger.store)}
        assert together == one_by_one(ledger)
        assert any(rows for tables in together.values() for rows in tables.values())


def test_an_event_changed_inside_the_checkpoint_is_refused_by_its_hash(store: Backend) -> None:
    row_id, state = store.execute("SELECT id, state FROM {table} ORDER BY id")[2]
    changed = resigned(bytes(state), bytes(store.execute("SELECT state FROM {table}")[0][0]))
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=changed, id=row_id)
    with opened(store) as ledger, pytest.raises(TamperError, match=r"does not hash to the leaf"):
        fresh_all(ledger.store)


def test_an_event_and_its_leaf_changed_together_are_refused_by_its_signature(
    store: Backend,
) -> None:
    row_id, state = store.execute("SELECT id, state FROM {table} ORDER BY id")[2]
    changed = resigned(bytes(state), bytes(store.execute("SELECT state FROM {table}")[0][0]))
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=changed, id=row_id)
    import hashlib

    log = f"{store.schema}.ledger_log" if store.schema else "ledger_log"
    store.execute(
        f"UPDATE {log} SET leaf_hash = :h WHERE leaf_index = 3",
        h=hashlib.sha256(b"\x00" + changed).digest(),
    )
    with opened(store) as ledger, pytest.raises(SignatureError, match=r"does not verify"):
        fresh_all(ledger.store)


def test_an_event_past_the_checkpoint_is_still_proven_by_its_signature(store: Backend) -> None:
    row_id, state = store.execute("SELECT id, state FROM {table} ORDER BY id")[-1]
    changed = resigned(bytes(state), bytes(store.execute("SELECT state FROM {table}")[0][0]))
    store.execute("UPDATE {table} SET state = :s WHERE id = :id", s=changed, id=row_id)
    log = store.table.replace("ledger_events", "ledger_log")
    last = f"(SELECT max(leaf_index) FROM {log})"  # the leaf re-hashed too: no checkpoint has it
    store.execute(
        f"UPDATE {log} SET leaf_hash = :h WHERE leaf_index = {last}", h=leaf_hash(changed)
    )
    with opened(store) as ledger, pytest.raises(LedgerError, match=r"does not verify"):
        fresh_all(ledger.store)


def test_a_checkpoint_signed_by_the_log_key_alone_vouches_for_no_event(
    backend: Backend,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    """SPEC 5a: the log key without its witnesses cannot stand in for the events' signatures."""
    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        busy_store(ledger, registry, organiser, stranger, 2)
        note = ledger.sign_checkpoint(log_signer)
        assert root.witnesses == 1
        assert _checkpoint(ledger.store) == (0, EMPTY_ROOT)
        moment = int(datetime.datetime.now(datetime.UTC).timestamp())
        ledger.add_cosignature(cosign(note, witness, moment))
        assert _checkpoint(ledger.store) == (note.checkpoint.size, note.checkpoint.root)
