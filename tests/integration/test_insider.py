"""Issue 11: an insider with SQL access and at most one key cannot make audit, verify or import lie.

Each test is named after the numbered case of issue 11 it shows refused (SPEC 5a), on SQLite and
PostgreSQL. The insider works as such a person would: plain SQL on any table, and the ledger's
own software opened with keys of their choosing (``insider``), so what they sign is signed for
real; trust comes from outside the store (the root and the checkpoint the auditor holds).
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from ledger import (
    AuditError,
    ImportRowsError,
    KeyDirectory,
    Ledger,
    LedgerError,
    LogForkError,
    ProofError,
    SerialRange,
    Signer,
    TrustRootError,
)
from ledger.audit import verify_proof
from ledger.audit.note import Checkpoint, cosign, sign_checkpoint
from ledger.audit.trust import TrustRoot
from ledger.domain import CreditBatch

from conftest import ORIGIN, Backend, checkpointed, issue


def table(backend: Backend, name: str) -> str:
    return f"{backend.schema}.{name}" if backend.schema else name


def insider(backend: Backend, keys: KeyDirectory) -> Ledger:
    """The ledger's software, opened by the insider with keys of their choosing."""
    return Ledger(backend.url, keys, schema=backend.schema)


def audit(backend: Backend, trusted: TrustRoot, held: Any = None) -> Any:
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as ledger:
        return ledger.audit(trusted, held)


def rotated(
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    *,
    close: tuple[Signer, ...] = (),
    add: tuple[Signer, ...] = (),
    at: datetime.datetime | None = None,
) -> TrustRoot:
    """The next version of ``root``: windows of ``close`` closed at ``at``, ``add`` added."""
    when = at or datetime.datetime.now(datetime.UTC)
    closing = {signer.public.keyid for signer in close}
    keys = [attrs.evolve(k, valid_until=when) if k.keyid in closing else k for k in root.keys]
    return attrs.evolve(
        root,
        version=root.version + 1,
        keys=(*keys, *(signer.public for signer in add)),
        signatures=(),
    ).signed_by(*operators)


@pytest.fixture
def history(
    backend: Backend,
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> Iterator[dict[str, Any]]:
    """A batch, two retirements, and the cosigned checkpoint the auditor holds."""
    batch = issue(ledger, registry, organiser, 1, 500)
    first = ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    checkpointed(ledger, log_signer, witness)
    held = ledger.latest_checkpoint()
    second = ledger.retire(organiser, batch, SerialRange(11, 20), beneficiary="b", reason="r")
    checkpointed(ledger, log_signer, witness)
    yield {"batch": batch, "first": first, "second": second, "held": held}


# 1. Trust roots inserted, dropped or replaced with SQL ----------------------------------------


def test_case_1_an_unsigned_root_inserted_with_sql_is_refused_by_audit_and_the_ledger(
    backend: Backend, root: TrustRoot, history: dict[str, Any], registry: Signer
) -> None:
    attacker = Signer.generate("attacker-registry", "registry")
    fake = attrs.evolve(root, version=2, keys=(*root.keys, attacker.public), signatures=())
    from ledger.audit import root_leaf
    from ledger.audit.merkle import leaf_hash

    size = backend.execute(f"SELECT count(*) FROM {table(backend, 'ledger_log')}")[0][0]
    backend.execute(
        f"INSERT INTO {table(backend, 'ledger_trust_roots')} VALUES (2, :d)",
        d=root_leaf(fake).decode(),
    )
    backend.execute(
        f"INSERT INTO {table(backend, 'ledger_log')} VALUES (:i, :h, 'trust-root', 2)",
        i=size,
        h=leaf_hash(root_leaf(fake)),
    )
    with pytest.raises(AuditError, match=rf"^log leaf {size}: root version 2 has 0 valid"):
        audit(backend, root)
    with pytest.raises(TrustRootError, match=r"do not descend from the root you gave"):
        Ledger(backend.url, root, schema=backend.schema)
    with pytest.raises(TrustRootError, match=r"root version 2 has 0 valid signatures"):
        Ledger(backend.url, schema=backend.schema)


def test_case_1_a_deleted_root_that_revoked_a_key_is_named_by_audit(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    issue(ledger, registry, organiser, 1, 100)
    v2 = rotated(root, operators, close=(organiser,))
    ledger.adopt_root(v2)
    checkpointed(ledger, log_signer, witness)
    held = ledger.latest_checkpoint()
    backend.execute(f"DELETE FROM {table(backend, 'ledger_trust_roots')} WHERE version = 2")
    log = table(backend, "ledger_log")
    backend.execute(f"DELETE FROM {log} WHERE aggregate = 'trust-root' AND version = 2")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_checkpoints')}")
    with pytest.raises(
        AuditError, match=r"latest trust root is version 1, but you trust version 2"
    ):
        audit(backend, v2)
    with pytest.raises(AuditError, match=r"^the checkpoint you hold \(size 3\) covers more"):
        audit(backend, root, held)


def test_case_1_a_store_rebuilt_under_a_replaced_root_fails_against_the_trusted_root(
    tmp_path: Any, backend: Backend, root: TrustRoot, organiser: Signer
) -> None:
    def twin(signer: Signer) -> Signer:
        return Signer.generate(signer.actor, signer.role)

    fake_ops = (
        Signer.generate("operator-1", "operator"),
        Signer.generate("operator-2", "operator"),
    )
    fake_log, fake_registry = Signer.generate(ORIGIN, "log"), twin(organiser)
    fake_registry = Signer.generate("shandong-carbon-inclusion-platform", "registry")
    fake_organiser = twin(organiser)
    fake_root = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=root.issued_at,
        threshold=2,
        keys=[s.public for s in (*fake_ops, fake_log, fake_registry, fake_organiser)],
    ).signed_by(*fake_ops)
    with Ledger(backend.url, fake_root, schema=backend.schema) as rebuilt:
        issue(rebuilt, fake_registry, fake_organiser, 1, 100)
        rebuilt.sign_checkpoint(fake_log)
    with pytest.raises(AuditError, match=r"^log leaf 0: trust root version 1 in the log is not"):
        audit(backend, root)
    with pytest.raises(TrustRootError, match=r"do not descend from the root you gave"):
        Ledger(backend.url, root, schema=backend.schema)


# 2. Deletion, truncation and reordering ---------------------------------------------------------


def test_case_2_the_newest_events_deleted_with_their_leaves_and_checkpoints_are_named(
    backend: Backend, root: TrustRoot, history: dict[str, Any]
) -> None:
    latest = audit(backend, root)
    note_size = latest.events + latest.roots
    backend.execute(f"DELETE FROM {backend.table} WHERE originator_version = 3")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_log')} WHERE leaf_index = 3")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_checkpoints')} WHERE tree_size = 4")
    assert audit(backend, root).events == 2  # the store alone looks whole
    held = Checkpoint(ORIGIN, note_size, bytes.fromhex(latest.log_root))
    with pytest.raises(AuditError, match=r"^the checkpoint you hold \(size 4\) covers more"):
        audit(backend, root, held)


def test_case_2_a_whole_aggregate_deleted_with_the_leaves_renumbered_is_named(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    gone = issue(ledger, registry, organiser, 1, 100)
    issue(ledger, registry, organiser, 101, 200)
    checkpointed(ledger, log_signer, witness)
    held = ledger.latest_checkpoint()
    backend.execute(f"DELETE FROM {backend.table} WHERE originator_version = 1 AND id = 1")
    log = table(backend, "ledger_log")
    backend.execute(f"DELETE FROM {log} WHERE aggregate = :a", a=str(gone))
    backend.execute(f"UPDATE {log} SET leaf_index = 1 WHERE leaf_index = 2")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_checkpoints')}")
    backend.execute(
        f"DELETE FROM {table(backend, 'ledger_serial_blocks')} WHERE batch = :a", a=str(gone)
    )
    with pytest.raises(AuditError, match=r"^the checkpoint you hold \(size 3\) covers more"):
        audit(backend, root, held)


def test_case_2_two_swapped_events_are_named(
    backend: Backend, root: TrustRoot, history: dict[str, Any]
) -> None:
    rows = backend.execute(f"SELECT id, state FROM {backend.table} ORDER BY id")
    (id2, state2), (id3, state3) = rows[1], rows[2]
    backend.execute(f"UPDATE {backend.table} SET state = :s WHERE id = :i", s=state3, i=id2)
    backend.execute(f"UPDATE {backend.table} SET state = :s WHERE id = :i", s=state2, i=id3)
    with pytest.raises(AuditError, match=r"^log leaf 2, aggregate .* version 2: stored here, but"):
        audit(backend, root)


def test_case_2_units_retired_in_deleted_events_cannot_be_retired_again(
    backend: Backend, ledger: Ledger, root: TrustRoot, history: dict[str, Any], organiser: Signer
) -> None:
    backend.execute(f"DELETE FROM {backend.table} WHERE originator_version = 3")
    backend.execute(f"DELETE FROM {table(backend, 'ledger_log')} WHERE leaf_index = 3")
    with (
        Ledger(backend.url, root, schema=backend.schema) as again,
        pytest.raises(LogForkError, match=r"no longer extends the latest signed checkpoint"),
    ):
        again.retire(organiser, history["batch"], SerialRange(11, 20), beneficiary="b", reason="r")
    assert backend.execute(f"SELECT count(*) FROM {backend.table}")[0][0] == 2


# 3. Rules re-run from the signed history, claims recomputed ------------------------------------


def test_case_3_serials_issued_again_after_their_claim_row_was_deleted_are_named(
    backend: Backend, ledger: Ledger, root: TrustRoot, registry: Signer, organiser: Signer
) -> None:
    issue(ledger, registry, organiser, 1, 100)
    backend.execute(f"DELETE FROM {table(backend, 'ledger_serial_blocks')}")
    issue(ledger, registry, organiser, 1, 100)  # the claim table no longer knows them
    with pytest.raises(
        AuditError, match=r"^log leaf 2, aggregate .* version 1: R11: serials 1-100"
    ):
        audit(backend, root)


def test_case_3_a_deleted_claim_row_is_named(
    backend: Backend, ledger: Ledger, root: TrustRoot, registry: Signer, organiser: Signer
) -> None:
    issue(ledger, registry, organiser, 1, 100)
    backend.execute(f"DELETE FROM {table(backend, 'ledger_serial_blocks')}")
    with pytest.raises(AuditError, match=r"^claim table ledger_serial_blocks: row .* missing"):
        audit(backend, root)


def test_case_3_a_parcel_credited_again_after_its_claim_row_was_deleted_is_named(
    backend: Backend, ledger: Ledger, root: TrustRoot, registry: Signer, organiser: Signer
) -> None:
    from ledger.domain.parcels import Parcel

    for start in (1, 101):
        if start == 101:
            backend.execute(f"DELETE FROM {table(backend, 'ledger_parcels')}")
        ledger.issue_batch(
            registry,
            instrument="inclusion-forest",
            vintage=2025,
            project="SD-FS-001",
            province="Shandong",
            methodology="m",
            serials=SerialRange(start, start + 99),
            holder=organiser.actor,
            parcels=[Parcel.of("LAND-7")],
        )
    with pytest.raises(AuditError, match=r"^log leaf 2, .* version 1: R9: parcel 'LAND-7'"):
        audit(backend, root)


def test_case_3_a_double_retirement_signed_by_the_holder_is_named_by_audit(
    backend: Backend,
    root: TrustRoot,
    keys: KeyDirectory,
    history: dict[str, Any],
    organiser: Signer,
) -> None:
    with insider(backend, keys) as forger:
        batch = forger.store.load(history["batch"], CreditBatch)
        batch._retired(  # the @event body, skipping the command's rule check
            serial_start=1,
            serial_end=10,
            actor=organiser.actor,
            event_name=None,
            beneficiary="b",
            reason="again",
        )
        forger.store.save(organiser, batch)
    with pytest.raises(AuditError, match=r"^log leaf 4, .* version 4: R11: cannot retire units"):
        audit(backend, root)


# 4. Revocation by log position, for every role; time goes forward -----------------------------


def test_case_4_an_event_signed_by_a_revoked_account_key_is_named_whatever_its_date(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    ledger.adopt_root(rotated(root, operators, close=(organiser,), at=tomorrow))
    with insider(backend, keys) as forger:  # dated inside the old window, placed after v2
        forger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    with pytest.raises(
        AuditError,
        match=r"^log leaf 3, .* version 2: key of 'jinan-forum-organiser' \(account\) was revoked"
        r" by trust root version 2 at log leaf 2",
    ):
        audit(backend, root)


def test_case_4_a_checkpoint_signed_by_a_revoked_log_key_is_named(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
) -> None:
    new_log = Signer.generate(ORIGIN, "log")
    issue(ledger, registry, organiser, 1, 100)
    ledger.adopt_root(rotated(root, operators, close=(log_signer,), add=(new_log,)))
    with pytest.raises(LedgerError, match=r"not a current \(unrevoked\) log key"):
        ledger.sign_checkpoint(log_signer)
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as raw:
        hashes = raw.store.log.hashes(raw.store.read().__enter__())
    from ledger.audit.merkle import root as tree_root

    forged = sign_checkpoint(Checkpoint(ORIGIN, len(hashes), tree_root(hashes), 2), log_signer)
    backend.execute(
        f"INSERT INTO {table(backend, 'ledger_checkpoints')} VALUES (:s, :n)",
        s=len(hashes),
        n=forged.text(),
    )
    with pytest.raises(AuditError, match=r"^checkpoint 3: no log key of trust root version 2"):
        audit(backend, root)
    ledger.sign_checkpoint(new_log)  # the new key signs
    assert audit(backend, root).checkpoints == 1


def test_case_4_a_revoked_witness_cosignature_does_not_count(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    issue(ledger, registry, organiser, 1, 100)
    ledger.adopt_root(rotated(root, operators, close=(witness,)))
    note = ledger.sign_checkpoint(log_signer)
    moment = int(datetime.datetime.now(datetime.UTC).timestamp()) - 3600
    with pytest.raises(LedgerError, match=r"not a current \(unrevoked\) witness"):
        ledger.add_cosignature(cosign(note, witness, moment))
    backdated = note.with_signature(cosign(note, witness, moment))
    with pytest.raises(
        AuditError, match=r"^the checkpoint you hold \(size 3\): .*revoked by trust"
    ):
        audit(backend, root, backdated)


def test_case_4_timestamps_going_backwards_in_log_order_are_named(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    with insider(backend, keys) as forger:
        loaded = forger.store.load(batch, CreditBatch)
        loaded.retire(SerialRange(1, 10), by=organiser.actor, beneficiary="b", reason="r")
        pending = loaded.collect_events()[-1]
        earlier = pending.timestamp - datetime.timedelta(hours=1)
        object.__setattr__(pending, "timestamp", earlier)
        loaded._pending_events.append(pending)  # type: ignore[attr-defined]
        forger.store.save(organiser, loaded)
    with pytest.raises(
        AuditError,
        match=r"^log leaf 2, .* version 2: dated .* of log leaf 1, .* timestamps go forward",
    ):
        audit(backend, root)


# 6. A proof made before a rotation verifies under the newer root -------------------------------


def test_case_6_an_older_proof_verifies_under_the_current_root_after_a_rotation(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    history: dict[str, Any],
    organiser: Signer,
) -> None:
    proof = ledger.proof(history["batch"], history["first"].retirement_version)
    v2 = rotated(root, operators, close=(organiser,))
    ledger.adopt_root(v2)
    assert verify_proof(proof, v2) is None
    reopened = attrs.evolve(v2, keys=v2.keys[:-1], signatures=()).signed_by(*operators)
    with pytest.raises(ProofError, match=r"^roots: the trusted root version 2 does not keep"):
        verify_proof(proof, reopened)


# 7. History files: cut short, or carrying a forged retirement ---------------------------------


def test_case_7_a_history_cut_short_is_refused_on_import(
    backend: Backend, tmp_path: Any, root: TrustRoot, history: dict[str, Any], ledger: Ledger
) -> None:
    out = io.StringIO()
    ledger.export_history(out)
    lines = out.getvalue().splitlines(keepends=True)
    for cut in (lines[:-1], lines[:3], [*lines[:3], lines[-1]]):
        with Ledger(tmp_path / f"copy-{len(cut)}.db", KeyDirectory()) as copy:
            with pytest.raises(LedgerError, match=r"checkpoint"):
                copy.import_history(io.StringIO("".join(cut)))
            assert copy.trust_roots() == []


def test_case_7_a_signed_double_retirement_in_a_history_is_refused_on_import(
    backend: Backend,
    tmp_path: Any,
    root: TrustRoot,
    keys: KeyDirectory,
    history: dict[str, Any],
    organiser: Signer,
    log_signer: Signer,
) -> None:
    with insider(backend, keys) as forger:
        batch = forger.store.load(history["batch"], CreditBatch)
        batch._retired(
            serial_start=1,
            serial_end=10,
            actor=organiser.actor,
            event_name=None,
            beneficiary="b",
            reason="again",
        )
        forger.store.save(organiser, batch)
        forger.sign_checkpoint(log_signer)  # the log signs whatever the store holds
        out = io.StringIO()
        forger.export_history(out)
    with Ledger(tmp_path / "copy.db", KeyDirectory()) as copy:
        with pytest.raises(ImportRowsError, match=r"version 4: R11: cannot retire units 1-10"):
            copy.import_history(io.StringIO(out.getvalue()), trusted=root)
        assert copy.trust_roots() == []


# 8. Read models edited with SQL ---------------------------------------------------------------


def test_case_8_an_edited_read_model_row_is_named_by_audit_and_never_printed(
    backend: Backend, ledger: Ledger, root: TrustRoot, history: dict[str, Any]
) -> None:
    from ledger.projections.reports import CertificateView
    from ledger.projections.runner import ProjectionRunner

    ProjectionRunner(ledger.store, CertificateView(), backend.schema).catch_up()
    assert audit(backend, root).read_models == 1
    certificates = table(backend, "ledger_view_certificates")
    body = backend.execute(f"SELECT body FROM {certificates}")[0][0]
    edited = body.replace('"quantity": 10', '"quantity": 1000')
    assert edited != body
    backend.execute(f"UPDATE {certificates} SET body = :b WHERE body = :o", b=edited, o=body)
    with pytest.raises(
        AuditError, match=r"^read model certificates: table ledger_view_certificates: row .* is in"
    ):
        audit(backend, root)
    assert [c["quantity"] for c in ledger.certificate_list()] == [10, 10]


# 5. The offline verifier re-runs the rules over the proof's signed history ---------------------


@pytest.mark.parametrize(
    ("before", "forged", "refusal"),
    [
        (None, (1, 10), r"R11: cannot retire units 1-10 .* already retired"),
        (None, (1, 1_000_000), r"R11: .*1-1000000"),
        ("export", (21, 30), r"R11: cannot retire units 21-30"),
        ("transfer", (31, 40), r"R11: cannot retire units 31-40"),
    ],
    ids=["retired-twice", "a-million-from-500", "exported-units", "units-not-held"],
)
def test_case_5_a_proof_of_a_retirement_the_rules_forbid_is_refused_offline(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    keys: KeyDirectory,
    history: dict[str, Any],
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
    before: str | None,
    forged: tuple[int, int],
    refusal: str,
) -> None:
    batch = history["batch"]
    if before == "export":
        ledger.export(organiser, batch, SerialRange(21, 30), target_registry="verra", reason="r")
    if before == "transfer":
        ledger.transfer(organiser, batch, SerialRange(31, 40), to=stranger.actor)
    with insider(backend, keys) as forger:
        loaded = forger.store.load(batch, CreditBatch)
        loaded._retired(  # the @event body, skipping the command's rule check
            serial_start=forged[0],
            serial_end=forged[1],
            actor=organiser.actor,
            event_name=None,
            beneficiary="b",
            reason="forged",
        )
        forger.store.save(organiser, loaded)
        version = loaded.version
    checkpointed(ledger, log_signer, witness)  # the log and the witness sign what is there
    proof = ledger.proof(batch, version)
    with pytest.raises(
        ProofError, match=rf"^entries\[{version - 1}\]: breaks the rules: {refusal}"
    ):
        verify_proof(proof, root)


def test_case_3_a_confirmation_without_the_verifiers_evaluation_is_named_by_audit_and_verify(
    backend: Backend,
    root: TrustRoot,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    from test_event_flow import Clock, batch, prepared_event

    from ledger.domain.event_neutralization import EventNeutralization

    clock = Clock()
    with Ledger(backend.url, root, schema=backend.schema, clock=clock) as ledger:
        event = prepared_event(ledger, organiser, clock, 1200)  # tier third_party (R2)
        forest = batch(ledger, registry, organiser, 1, "inclusion-forest")
        ledger.allocate_offsets(organiser, event, forest, SerialRange(1, 34))
        (certificate,) = ledger.retire_offsets(organiser, event)
        ledger.commit_neutrality(organiser, event)
    with insider(backend, keys) as forger:  # the organiser confirms with no evaluation
        record = forger.store.load(event, EventNeutralization)
        record._confirmed(on="2026-06-01", actor=organiser.actor)
        forger.store.save(organiser, record)
    with pytest.raises(AuditError, match=rf"aggregate {event} version \d+: R2: "):
        audit(backend, root)
    with Ledger(backend.url, root, schema=backend.schema, clock=clock) as ledger:
        checkpointed(ledger, log_signer, witness)
        proof = ledger.proof(certificate.batch_id, certificate.retirement_version)
    with pytest.raises(ProofError, match=r"^event.entries\[\d+\]: breaks the rules: R2: "):
        verify_proof(proof, root)


def test_an_honest_event_between_a_roots_signing_and_its_adoption_audits_under_either_root(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    v2 = rotated(root, operators, close=(organiser,))  # signed now, adopted later
    ledger.transfer(organiser, batch, SerialRange(1, 10), to=stranger.actor)  # still under v1
    ledger.adopt_root(v2)
    assert audit(backend, root).events == audit(backend, v2).events == 2


def test_a_rotation_may_not_reopen_a_revoked_key(
    root: TrustRoot, operators: tuple[Signer, Signer], organiser: Signer
) -> None:
    v2 = rotated(root, operators, close=(organiser,))
    reopened = attrs.evolve(
        v2,
        version=3,
        keys=tuple(attrs.evolve(k, valid_until=None) for k in v2.keys),
        signatures=(),
    ).signed_by(*operators)
    with pytest.raises(TrustRootError, match=r"reopens the window of the key of"):
        v2.verify_successor(reopened)


def test_case_1_a_root_document_inserted_without_its_log_leaf_is_named(
    backend: Backend, root: TrustRoot, operators: tuple[Signer, Signer], history: dict[str, Any]
) -> None:
    from ledger.audit import root_leaf

    v2 = rotated(root, operators)  # even a validly signed version: it is not in the log
    backend.execute(
        f"INSERT INTO {table(backend, 'ledger_trust_roots')} VALUES (2, :d)",
        d=root_leaf(v2).decode(),
    )
    with pytest.raises(AuditError, match=r"^trust root version 2 is stored but not in the log"):
        audit(backend, root)
