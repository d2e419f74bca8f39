"""The public facade: open a ledger, run credit-batch commands, read certificates and proofs.

Rules:
- Every command takes the acting :class:`Signer`; its events are signed by that key, whose
  role must allow them (:mod:`ledger.audit.policy`) and whose actor the domain rules must allow.
- Accounts are the actors with an ``account`` key in the key directory; units only go to
  known accounts.
- A command either saves all its events or raises a LedgerError and saves nothing. When another
  writer saved the same aggregate first, the command is re-read and re-run (a few times).
- A database is a path (a SQLite file, created if missing) or a URL: ``sqlite:///...`` or
  ``postgresql://...`` (run with psycopg 3).
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger._app import LedgerApplication
from ledger._events import EventCommands
from ledger._interchange import InterchangeCommands
from ledger._retry import retrying as _retrying
from ledger._sinks import SinkCommands
from ledger._transparency import TransparencyCommands
from ledger.audit._mapper import signing_as
from ledger.audit.envelope import Entry
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.trust import TrustRoot
from ledger.domain import credit_batch
from ledger.domain._units import UnitState
from ledger.domain.credit_batch import CreditBatch, replay_checked
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.parcels import Parcel
from ledger.domain.sink_project import SinkProject
from ledger.domain.values import SerialRange
from ledger.errors import NotFoundError
from ledger.projections.certificates import Certificate, certificates
from ledger.projections.provenance import Step, provenance

__all__ = ["Ledger", "database_url"]

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
_NOUNS: dict[type[Aggregate], str] = {
    CreditBatch: "credit batch",
    SinkProject: "sink project",
    EventNeutralization: "event",
}


def database_url(database: str | Path) -> str:
    """The SQLAlchemy URL for a SQLite file path or a database URL.

    A path is never parsed as URL options: it becomes a percent-encoded SQLite ``file:`` URI, so
    ``a?mode=ro.db`` opens (or creates) exactly the file of that name. SQLite files wait up to
    30 s for another process's write lock (pysqlite's default is 5 s).
    """
    text = str(database)
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    if "://" in text:
        return text
    path = urllib.parse.quote(str(Path(text).expanduser().resolve()), safe="/")
    return f"sqlite:///file:{path}?uri=true&timeout=30"


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Ledger(SinkCommands, EventCommands, TransparencyCommands, InterchangeCommands):
    """An event-sourced, signed ledger of credit batches, sink projects and retirements.

    Args:
        database: a SQLite file path, or a ``sqlite:///`` or ``postgresql://`` URL.
        keys: the trust root to adopt (if the ledger does not have it yet) and whose keys it
            accepts; or ``None`` to use the latest adopted root; or a plain key directory
            (no proofs until a root is adopted). The ``account`` actors are the accounts that
            may hold units.
        schema: a PostgreSQL schema to keep the tables in (default: the search path).
        clock: returns the current time (UTC); inject one to test dates.
    """

    def __init__(
        self,
        database: str | Path,
        keys: KeyDirectory | TrustRoot | None = None,
        *,
        schema: str | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.keys = keys if isinstance(keys, KeyDirectory) else KeyDirectory()
        self.clock = clock
        self._app = LedgerApplication(database_url(database), self.keys, schema=schema)
        if not isinstance(keys, KeyDirectory):
            self._trust(keys)

    def _trust(self, root: TrustRoot | None) -> None:
        adopted = self.trust_roots()
        if root is not None and not any(r.to_json() == root.to_json() for r in adopted):
            self.adopt_root(root)
        elif adopted:
            self.keys.replace(adopted[-1].keys)
        else:
            raise NotFoundError("this ledger has no trust root yet; open it with one")

    # Commands -------------------------------------------------------------------------------

    def issue_batch(
        self,
        signer: Signer,
        *,
        instrument: str,
        vintage: int,
        project: str,
        province: str,
        methodology: str,
        serials: SerialRange,
        holder: str,
        unit: Decimal | int = 1,
        parcels: Sequence[Parcel] = (),
    ) -> UUID:
        """Issue a block of serial units to ``holder``; ``signer`` is the registry's key (R7).

        ``parcels`` are the land or sea areas the credits come from (for forestry and marine
        projects, also when imported from another registry): none may be an area already used
        (R9).

        Returns:
            The new batch's id.
        """
        self._account(holder)

        def attempt() -> UUID:
            batch = CreditBatch.issue(
                registry=signer.actor,
                instrument=instrument,
                vintage=vintage,
                project=project,
                province=province,
                methodology=methodology,
                serials=serials,
                holder=holder,
                today=self.clock().date(),
                unit=unit,
                parcels=parcels,
            )
            self._save(signer, batch)
            return batch.id

        return _retrying(attempt)

    def transfer(self, signer: Signer, batch_id: UUID, serials: SerialRange, *, to: str) -> None:
        """Move held units of a batch to the account ``to``."""
        self._account(to)
        self._command(signer, batch_id, lambda b: b.transfer(serials, by=signer.actor, to=to))

    def donate(self, signer: Signer, batch_id: UUID, serials: SerialRange, *, to: str) -> None:
        """Give held units to the account ``to``; the donor appears on certificates (R7)."""
        self._account(to)
        self._command(signer, batch_id, lambda b: b.donate(serials, by=signer.actor, to=to))

    def split(self, signer: Signer, batch_id: UUID, at: int) -> None:
        """Divide the holding that contains serial ``at`` into two, the second from ``at``."""
        self._command(signer, batch_id, lambda b: b.split(at, by=signer.actor))

    def reserve(
        self, signer: Signer, batch_id: UUID, serials: SerialRange, *, event_name: str
    ) -> None:
        """Set held units aside for an event's neutralization."""
        self._command(
            signer, batch_id, lambda b: b.reserve(serials, by=signer.actor, event_name=event_name)
        )

    def release(
        self, signer: Signer, batch_id: UUID, serials: SerialRange, *, event_name: str
    ) -> None:
        """Release units reserved for ``event_name`` back to the holder."""
        self._command(
            signer, batch_id, lambda b: b.release(serials, by=signer.actor, event_name=event_name)
        )

    def retire(
        self,
        signer: Signer,
        batch_id: UUID,
        serials: SerialRange,
        *,
        beneficiary: str,
        reason: str,
        event_name: str | None = None,
    ) -> Certificate:
        """Retire units for good, for an event and/or a beneficiary (R11).

        Returns:
            The retirement certificate.
        """
        version = self._command(
            signer,
            batch_id,
            lambda b: b.retire(
                serials,
                by=signer.actor,
                beneficiary=beneficiary,
                reason=reason,
                event_name=event_name,
            ),
        )
        return self.certificate(batch_id, version)

    def export(
        self,
        signer: Signer,
        batch_id: UUID,
        serials: SerialRange,
        *,
        target_registry: str,
        reason: str,
    ) -> None:
        """Cancel held units here for export to another registry (R11)."""
        self._command(
            signer,
            batch_id,
            lambda b: b.export(
                serials, by=signer.actor, target_registry=target_registry, reason=reason
            ),
        )

    # Queries --------------------------------------------------------------------------------

    def batch(self, batch_id: UUID) -> CreditBatch:
        """The current state of a batch, rebuilt from its verified events."""
        return self._load(batch_id, CreditBatch)

    def recheck(self, batch_id: UUID) -> CreditBatch:
        """Rebuild a batch from its verified events, re-checking every domain rule on the way.

        Raises:
            LedgerError: the first event that breaks a signature, the chain or a rule.
        """
        events = list(self._app.store.get(batch_id))
        if not events:
            raise NotFoundError(f"no credit batch {batch_id}")
        return replay_checked(events)

    def held_ranks(self, account: str) -> dict[UUID, int]:
        """Batches in which ``account`` holds free units, with each batch's R8 rank."""
        batches = self._app.aggregates(credit_batch.TOPICS)
        return {
            batch_id: batch.priority_rank
            for batch_id, batch in batches.items()
            if any(lot.state is UnitState.HELD and lot.account == account for lot in batch.lots())
        }

    def bound_projects(self, event_label: str) -> list[UUID]:
        """The sink projects bound to the event named ``event_label`` (R9)."""
        bindings = self._app.claims.parcels.bindings
        with self._app.read() as connection:
            rows = connection.execute(
                sa.select(bindings.c.project).where(bindings.c.event == event_label)
            )
            return [UUID(row[0]) for row in rows]

    def history(self, batch_id: UUID, *, upto: int | None = None) -> list[Entry]:
        """The verified signed entries of a batch, from issuance (up to version ``upto``)."""
        entries = [entry for _, entry in self._app.store.entries(batch_id, lte=upto)]
        if not entries:
            raise NotFoundError(f"no credit batch {batch_id}")
        return entries

    def provenance(self, batch_id: UUID, serial: int) -> list[Step]:
        """Every event in the life of one serial unit, from issuance (R11)."""
        steps = provenance(self.history(batch_id), serial)
        if not steps:
            raise NotFoundError(f"serial {serial} is not in batch {batch_id}")
        return steps

    def certificate(self, batch_id: UUID, version: int) -> Certificate:
        """The certificate of the retirement saved as version ``version`` of the batch."""
        found = certificates(self.history(batch_id, upto=version), version=version)
        if found:
            return found[0]
        raise NotFoundError(f"version {version} of batch {batch_id} is not a retirement")

    # Plumbing -------------------------------------------------------------------------------

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

    def _account(self, name: str) -> str:
        if not any(key.actor == name and key.role == "account" for key in self.keys):
            raise NotFoundError(f"unknown account {name!r}: no account key for it")
        return name

    def _command(self, signer: Signer, batch_id: UUID, action: Callable[[CreditBatch], T]) -> int:
        return self._update(signer, batch_id, CreditBatch, action)

    def _update(
        self, signer: Signer, aggregate_id: UUID, kind: type[A], action: Callable[[A], Any]
    ) -> int:
        def attempt() -> int:
            aggregate = self._load(aggregate_id, kind)
            action(aggregate)
            self._save(signer, aggregate)
            return aggregate.version

        return _retrying(attempt)

    def _load(self, aggregate_id: UUID, kind: type[A]) -> A:
        noun = _NOUNS.get(kind, kind.__name__)
        try:
            found: object = self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"no {noun} {aggregate_id}") from None
        if not isinstance(found, kind):
            raise NotFoundError(f"{aggregate_id} is not a {noun}")
        return found

    def _save(self, signer: Signer, *aggregates: Aggregate) -> None:
        with signing_as(signer):
            self._app.save(*aggregates)
