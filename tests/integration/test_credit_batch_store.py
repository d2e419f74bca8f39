"""Issuance and retirement through the store, on SQLite and PostgreSQL (issue 2, R11)."""

from __future__ import annotations

import pytest

from ledger import (
    AuthorizationError,
    KeyDirectory,
    Ledger,
    NotFoundError,
    RuleViolationError,
    SerialRange,
    Signer,
    verify_proof,
)
from ledger.audit.trust import TrustRoot
from ledger.domain import UnitState

from conftest import Backend, checkpointed, issue


def retire(ledger: Ledger, holder: Signer, batch, start: int, end: int):
    return ledger.retire(
        holder,
        batch,
        SerialRange(start, end),
        event_name="Jinan Forum",
        beneficiary="Forum organiser",
        reason="neutralization",
    )


def test_an_issued_and_retired_batch_reads_back_the_same_after_reopening(
    backend: Backend, keys: KeyDirectory, registry: Signer, organiser: Signer
) -> None:
    with backend.open(keys) as ledger:
        batch = issue(ledger, registry, organiser)
        certificate = retire(ledger, organiser, batch, 1, 100)
        before = ledger.batch(batch).lots()
    with backend.open(keys) as reopened:
        assert reopened.batch(batch).lots() == before
        assert reopened.certificate(batch, 2) == certificate
        assert [entry.version for entry in reopened.history(batch)] == [1, 2]


def test_a_retirement_certificate_traces_to_the_signed_issuance(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    batch = issue(ledger, registry, organiser)
    certificate = retire(ledger, organiser, batch, 11, 20)
    issuance, retirement = ledger.history(batch)
    assert certificate.quantity == 10
    assert certificate.registry == registry.actor
    assert certificate.retired_by == organiser.actor
    assert certificate.issuance_entry == issuance.hash
    assert certificate.retirement_entry == retirement.hash
    assert retirement.prev == issuance.hash


def test_the_proof_of_a_stored_retirement_verifies(
    ledger: Ledger,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser)
    retire(ledger, organiser, batch, 1, 10)
    certificate = retire(ledger, organiser, batch, 11, 30)
    checkpointed(ledger, log_signer, witness)
    proof = ledger.proof(batch, certificate.retirement_version)
    assert verify_proof(proof, root) is None
    assert len(proof["entries"]) == 3


def test_retiring_a_unit_twice_is_refused_and_writes_nothing(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    batch = issue(ledger, registry, organiser)
    retire(ledger, organiser, batch, 1, 100)
    with pytest.raises(RuleViolationError, match=r"R11: cannot retire units 50-100 .* retired"):
        retire(ledger, organiser, batch, 50, 150)
    assert len(ledger.history(batch)) == 2
    assert ledger.batch(batch).units.total(UnitState.RETIRED) == 100


def test_retiring_units_outside_the_block_is_refused_and_writes_nothing(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    batch = issue(ledger, registry, organiser)
    with pytest.raises(RuleViolationError, match=r"R11: units 990-1010 are not all in batch"):
        retire(ledger, organiser, batch, 990, 1010)
    assert len(ledger.history(batch)) == 1


def test_only_the_holder_may_retire_its_units(
    ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser)
    with pytest.raises(AuthorizationError, match=r"held by 'jinan-forum-organiser'"):
        retire(ledger, stranger, batch, 1, 10)
    assert len(ledger.history(batch)) == 1


def test_an_account_key_cannot_issue_a_batch(
    backend: Backend, ledger: Ledger, organiser: Signer
) -> None:
    with pytest.raises(AuthorizationError, match=r"needs a 'registry' key"):
        issue(ledger, organiser, organiser)
    assert backend.execute("SELECT count(*) FROM {table}")[0][0] == 0


def test_an_unknown_batch_is_not_found(ledger: Ledger) -> None:
    import uuid

    with pytest.raises(NotFoundError, match="no credit batch"):
        ledger.batch(uuid.uuid4())


def test_a_schema_name_that_is_not_a_plain_identifier_is_refused(
    keys: KeyDirectory, tmp_path
) -> None:
    from ledger import InvalidInputError

    with pytest.raises(InvalidInputError, match="is not a plain SQL identifier"):
        Ledger(tmp_path / "x.db", keys, schema='x"; DROP TABLE y; --')
