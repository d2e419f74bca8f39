"""Attacks by SPEC 5a's insiders found in a review of issue 11's defences, each now refused.

Every test asserts the secure behaviour on both backends: a false history or proof named, and a
malformed signed event named with a LedgerError instead of a traceback (docs/security.md).
"""

from __future__ import annotations

import base64
import datetime
import io
import uuid
from typing import Any

import pytest
from test_insider import audit, insider, table

from ledger import (
    AuditError,
    KeyDirectory,
    Ledger,
    LedgerError,
    ProofError,
    SerialRange,
    Signer,
)
from ledger.audit import verify_proof
from ledger.audit.merkle import inclusion_proof
from ledger.audit.timeline import ROOT_LEAF
from ledger.audit.trust import TrustRoot
from ledger.domain import CreditBatch
from ledger.domain.parcels import Parcel

from conftest import Backend, checkpointed, issue


def _forge(backend: Backend, keys: KeyDirectory, signer: Signer, batch: uuid.UUID, change: Any):
    """The holder retires 1-10 through the ledger's software, with the pending event changed."""
    with insider(backend, keys) as forger:
        loaded = forger.store.load(batch, CreditBatch)
        loaded.retire(SerialRange(1, 10), by=signer.actor, beneficiary="b", reason="r")
        pending = loaded.collect_events()[-1]
        change(pending)
        loaded._pending_events.append(pending)  # type: ignore[attr-defined]
        forger.store.save(signer, loaded)


def _proof_from_store(ledger: Ledger, batch: uuid.UUID, version: int) -> dict[str, Any]:
    """A proof assembled with SQL-level access (the ledger's own ``proof`` may itself crash)."""

    def b64(path: list[bytes]) -> list[str]:
        return [base64.b64encode(h).decode() for h in path]

    note = ledger.latest_checkpoint()
    assert note is not None
    store = ledger.store
    with store.read() as connection:
        hashes = store.log.hashes(connection, note.checkpoint.size)
        entries = []
        for _, entry in store.stored_entries(batch, upto=version):
            index = store.log.index_of(connection, entry.aggregate, entry.version)
            entries.append(
                {
                    "envelope": entry.envelope.to_json(),
                    "leafIndex": index,
                    "inclusion": b64(inclusion_proof(index, hashes)),
                }
            )
        roots = []
        for root in ledger.trust_roots():
            index = store.log.index_of(connection, ROOT_LEAF, root.version)
            if index is not None and index < len(hashes):
                roots.append(
                    {
                        "document": root.to_json(),
                        "leafIndex": index,
                        "inclusion": b64(inclusion_proof(index, hashes)),
                    }
                )
    return {
        "format": "ledger.retirement-proof.v2",
        "certificate": {},
        "entries": entries,
        "checkpoint": note.text(),
        "roots": roots,
        "event": None,
    }


# A1. R9: a registry's batch naming a made-up sink project credits a parcel already used --------


def test_a1_a_batch_naming_a_made_up_sink_project_cannot_credit_a_parcel_already_used(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
) -> None:
    ledger.issue_batch(
        registry,
        instrument="inclusion-forest",
        vintage=2025,
        project="SD-FS-001",
        province="Shandong",
        methodology="m",
        serials=SerialRange(1, 100),
        holder=organiser.actor,
        parcels=[Parcel.of("LAND-7")],
    )
    # The registry's key alone: claims_for skips the parcels of a batch whose source_project is
    # set, and nothing checks that the project exists or owns those parcels.
    with pytest.raises(LedgerError, match=r"R9|LAND-7"):
        with insider(backend, keys) as forger:
            again = CreditBatch.issue(
                registry=registry.actor,
                instrument="inclusion-forest",
                vintage=2025,
                project="SD-FS-002",
                province="Shandong",
                methodology="m",
                serials=SerialRange(101, 200),
                holder=organiser.actor,
                today=datetime.date.today(),
                parcels=[Parcel.of("LAND-7")],
                source_project=str(uuid.uuid4()),
                bound_event="another event",
            )
            forger.store.save(registry, again)
        audit(backend, root)


# A2. Import takes checkpoints without the witness cosignatures the root asks for ---------------


def test_a2_import_refuses_a_history_whose_checkpoint_lacks_the_roots_witnesses(
    backend: Backend,
    ledger: Ledger,
    tmp_path: Any,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 500)
    ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    ledger.retire(organiser, batch, SerialRange(11, 20), beneficiary="b", reason="r")
    checkpointed(ledger, log_signer, witness)
    # The log key holder with SQL: drop the second retirement, re-sign without any witness.
    backend.execute(f"DELETE FROM {backend.table} WHERE originator_version = 3")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_log')} WHERE leaf_index = 3")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_checkpoints')}")
    with Ledger(backend.url, root, schema=backend.schema) as forger:
        forger.sign_checkpoint(log_signer)  # root.witnesses == 1; nobody cosigns
        out = io.StringIO()
        forger.export_history(out)
    with Ledger(tmp_path / "copy.db", KeyDirectory()) as copy:
        with pytest.raises(LedgerError, match=r"cosignature|witness"):
            copy.import_history(io.StringIO(out.getvalue()), trusted=root)
        assert copy.trust_roots() == []


# A3. A signed event missing a field crashes audit, verify, import and the ledger's reads -------


@pytest.mark.parametrize("where", ["audit", "verify", "import", "command"])
def test_a3_a_signed_retirement_missing_a_field_is_named_not_a_traceback(
    backend: Backend,
    ledger: Ledger,
    tmp_path: Any,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
    where: str,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    _forge(backend, keys, organiser, batch, lambda e: e.__dict__.pop("event_name"))
    checkpointed(ledger, log_signer, witness)
    if where == "audit":
        with pytest.raises(
            AuditError, match=r"version 2: .* wrong fields \(missing \['event_name'"
        ):
            audit(backend, root)
    elif where == "verify":
        with pytest.raises(ProofError, match=r"^entries\[1\]: breaks the rules: .* wrong fields"):
            verify_proof(_proof_from_store(ledger, batch, 2), root)
    elif where == "import":
        out = io.StringIO()
        ledger.export_history(out)
        with (
            Ledger(tmp_path / "copy.db", KeyDirectory()) as copy,
            pytest.raises(LedgerError, match=r"version 2"),
        ):
            copy.import_history(io.StringIO(out.getvalue()), trusted=root)
    else:
        with pytest.raises(LedgerError, match=r"wrong fields"):
            ledger.transfer(organiser, batch, SerialRange(50, 60), to=stranger.actor)


# A4. A timestamp without a UTC offset crashes audit and verify ---------------------------------


@pytest.mark.parametrize("where", ["audit", "verify"])
def test_a4_a_signed_timestamp_without_an_offset_is_named_not_a_traceback(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
    where: str,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)

    def naive(pending: Any) -> None:
        object.__setattr__(pending, "timestamp", pending.timestamp.replace(tzinfo=None))

    _forge(backend, keys, organiser, batch, naive)
    checkpointed(ledger, log_signer, witness)
    if where == "audit":
        with pytest.raises(AuditError, match=r"version 2"):
            audit(backend, root)
    else:
        with pytest.raises(LedgerError, match=r"version 2: .*datetime_iso .* needs its UTC offset"):
            ledger.proof(batch, 2)  # the ledger's reads (and the verifier's) decode it the same
        from ledger.audit import Envelope

        state = backend.execute(f"SELECT state FROM {backend.table} ORDER BY id")[-1][0]
        with pytest.raises(LedgerError, match=r"datetime_iso .* needs its UTC offset"):
            Envelope.from_bytes(bytes(state)).open(keys)  # as verify_proof opens entries[1]


# A5. One key dates an event in the future: later honest events are blamed; rules use its date --


def test_a5_a_future_dated_event_is_named_not_the_honest_event_after_it(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)

    def future(pending: Any) -> None:
        object.__setattr__(pending, "timestamp", pending.timestamp.replace(year=2100))

    _forge(backend, keys, organiser, batch, future)
    checkpointed(ledger, log_signer, witness)  # cosigned now, covering an event dated 2100
    held = ledger.latest_checkpoint()
    issue(ledger, registry, organiser, 101, 200)  # honest, dated now: the ledger writes on
    with pytest.raises(AuditError, match=rf"^log leaf 2, aggregate {batch} version 2"):
        audit(backend, root, held)


def test_a5_a_retirement_dated_after_its_checkpoint_was_cosigned_is_refused_offline(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)

    def future(pending: Any) -> None:
        object.__setattr__(pending, "timestamp", pending.timestamp.replace(year=2100))

    _forge(backend, keys, organiser, batch, future)
    checkpointed(ledger, log_signer, witness)
    with pytest.raises(ProofError, match=r"^entries\[1\]"):
        verify_proof(ledger.proof(batch, 2), root)


def test_a5_an_issuance_dated_in_the_future_cannot_issue_a_future_vintage(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    issue(ledger, registry, organiser, 1, 100)
    with insider(backend, keys) as forger:
        future = CreditBatch.issue(
            registry=registry.actor,
            instrument="inclusion-forest",
            vintage=2100,
            project="SD-FS-009",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1001, 1100),
            holder=organiser.actor,
            today=datetime.date(2100, 6, 1),
        )
        pending = future.collect_events()[-1]
        object.__setattr__(pending, "timestamp", pending.timestamp.replace(year=2100))
        future._pending_events.append(pending)  # type: ignore[attr-defined]
        forger.store.save(registry, future)
    checkpointed(ledger, log_signer, witness)  # cosigned now
    with pytest.raises(AuditError, match=r"version 1"):
        audit(backend, root, ledger.latest_checkpoint())


# A6. Deleting the projection position row hides an edited read model from audit -------------


def test_a6_an_edited_read_model_is_named_even_with_its_position_row_deleted(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
) -> None:
    from ledger.projections.reports import CertificateView
    from ledger.projections.runner import ProjectionRunner

    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    ProjectionRunner(ledger.store, CertificateView(), backend.schema).catch_up()
    assert audit(backend, root).read_models == 1
    certificates = table(backend, "ledger_view_certificates")
    body = backend.execute(f"SELECT body FROM {certificates}")[0][0]
    edited = body.replace('"quantity": 10', '"quantity": 1000')
    assert edited != body
    backend.execute(f"UPDATE {certificates} SET body = :b WHERE body = :o", b=edited, o=body)
    backend.execute(f"DELETE FROM {table(backend, 'ledger_projection_positions')}")
    with pytest.raises(AuditError, match=r"read model certificates"):
        audit(backend, root)
