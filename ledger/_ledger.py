"""The public facade: open a ledger, issue, retire, read certificates and proofs.

Rules:
- Every command takes the acting :class:`Signer`; its events are signed by that key and the
  key's actor must be allowed to act (:mod:`ledger.audit.policy`, and the domain's rules).
- A command either saves all its events or raises a LedgerError and saves nothing.
- A database is a path (a SQLite file, created if missing) or a URL: ``sqlite:///...`` or
  ``postgresql://...`` (run with psycopg 3).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger._app import LedgerApplication
from ledger.audit._mapper import signing_as
from ledger.audit.envelope import Entry
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.proof import build_proof
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.values import SerialRange
from ledger.errors import NotFoundError
from ledger.projections.certificates import Certificate, certificates

__all__ = ["Ledger", "database_url"]


def database_url(database: str | Path) -> str:
    """The SQLAlchemy URL for a SQLite file path or a database URL."""
    text = str(database)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


class Ledger:
    """An event-sourced, signed ledger of credit batches and their retirements.

    Args:
        database: a SQLite file path, or a ``sqlite:///`` or ``postgresql://`` URL.
        keys: the public keys whose signatures the ledger accepts.
        schema: a PostgreSQL schema to keep the tables in (default: the search path).
    """

    def __init__(
        self, database: str | Path, keys: KeyDirectory, *, schema: str | None = None
    ) -> None:
        self.keys = keys
        self._app = LedgerApplication(database_url(database), keys, schema=schema)

    def issue_batch(
        self,
        signer: Signer,
        *,
        instrument: str,
        vintage: int,
        project: str,
        serials: SerialRange,
        holder: str,
    ) -> UUID:
        """Issue a block of serial units; ``signer`` is the issuing registry's key.

        Returns:
            The new batch's id.
        """
        batch = CreditBatch.issue(
            registry=signer.actor,
            instrument=instrument,
            vintage=vintage,
            project=project,
            serials=serials,
            holder=holder,
        )
        self._save(signer, batch)
        return batch.id

    def retire(
        self,
        signer: Signer,
        batch_id: UUID,
        serials: SerialRange,
        *,
        event_name: str,
        beneficiary: str,
        reason: str,
    ) -> Certificate:
        """Retire ``serials`` of a batch for a named event (R11); ``signer`` is the holder.

        Returns:
            The retirement certificate.
        """
        batch = self.batch(batch_id)
        batch.retire(
            serials, by=signer.actor, event_name=event_name, beneficiary=beneficiary, reason=reason
        )
        self._save(signer, batch)
        return self.certificate(batch_id, batch.version)

    def batch(self, batch_id: UUID) -> CreditBatch:
        """The current state of a batch, rebuilt from its verified events."""
        try:
            batch: object = self._app.repository.get(batch_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"no credit batch {batch_id}") from None
        if not isinstance(batch, CreditBatch):
            raise NotFoundError(f"{batch_id} is not a credit batch")
        return batch

    def history(self, batch_id: UUID, *, upto: int | None = None) -> list[Entry]:
        """The verified signed entries of a batch, from issuance (up to version ``upto``)."""
        entries = [entry for _, entry in self._app.store.entries(batch_id, lte=upto)]
        if not entries:
            raise NotFoundError(f"no credit batch {batch_id}")
        return entries

    def certificate(self, batch_id: UUID, version: int) -> Certificate:
        """The certificate of the retirement saved as version ``version`` of the batch."""
        for found in certificates(self.history(batch_id, upto=version)):
            if found.retirement_version == version:
                return found
        raise NotFoundError(f"version {version} of batch {batch_id} is not a retirement")

    def proof(self, batch_id: UUID, version: int) -> dict[str, Any]:
        """The offline-verifiable proof of a retirement (see :func:`ledger.verify_proof`)."""
        certificate = self.certificate(batch_id, version)
        return build_proof(certificate, self.history(batch_id, upto=version))

    def close(self) -> None:
        """Release the database connections."""
        self._app.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _save(self, signer: Signer, *aggregates: CreditBatch) -> None:
        with signing_as(signer):
            self._app.save(*aggregates)
