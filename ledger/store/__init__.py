"""The store: signed, hash-chained events, the Merkle log and the claims in one SQL database.

Everything that touches the database goes through :class:`Store`; the command groups
(:mod:`ledger.commands`) take a store and the acting signer, the projections read from it.

Rules:
- One code path for both backends (eventsourcing-sqlalchemy): a SQLite file path or URL, or a
  PostgreSQL URL (run with psycopg 3). The process environment is never read.
- Every write is signed by the signer passed to :meth:`Store.save`; there is no ambient signer.
  The events of one save, their claims (serial blocks, parcels, bindings) and their Merkle log
  leaves are written in one transaction, or nothing is.
- Every read verifies signatures and chain links (:mod:`ledger.audit`); a failed save writes
  nothing and raises a :class:`~ledger.errors.LedgerError`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import Notification, StoredEvent

from ledger.audit.envelope import Entry
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.note import Checkpoint, SignedNote
from ledger.audit.trust import TrustRoot
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.sink_project import SinkProject
from ledger.errors import ConcurrencyError, NotFoundError, StorageError
from ledger.store._application import IMPORT_PAGE, LedgerApplication
from ledger.store._audit import AuditReport, LogItem, audit_store, log_items
from ledger.store._bulk import BulkWrite
from ledger.store._claims import ClaimIndex
from ledger.store._fork import check_extends
from ledger.store._merkle_log import LogStore
from ledger.store._replay import Replay
from ledger.store._retry import retrying
from ledger.store._rows import compare_rows, row_order
from ledger.store._transcoder import transcoder

__all__ = [
    "IMPORT_PAGE",
    "AuditReport",
    "BulkWrite",
    "LogItem",
    "Replay",
    "Store",
    "compare_rows",
    "database_url",
    "holds_ledger",
    "retrying",
    "row_order",
    "transcoder",
]

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
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


def holds_ledger(database: str | Path, *, schema: str | None = None) -> bool:
    """True if ``database`` exists and holds a ledger's event table; creates and writes nothing.

    A SQLite path that is not a file is no ledger (it is not created); a server database is
    inspected read-only for ``ledger_events`` (in ``schema``, if given).

    Raises:
        StorageError: the database server cannot be reached.
    """
    text = str(database)
    if "://" not in text and not Path(text).expanduser().is_file():
        return False
    url = database_url(database)
    if url.startswith("sqlite") and "mode=" not in url:
        url = url.replace("?uri=true", "?mode=ro&uri=true", 1)
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).has_table("ledger_events", schema=schema)
    except sa.exc.OperationalError as e:
        if url.startswith("sqlite"):
            return False  # a file that is not a SQLite database holds no ledger
        reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        raise StorageError(f"cannot open the ledger database: {reason}") from e
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


class Store:
    """One ledger database, opened with the keys whose signatures it accepts.

    Args:
        database: a SQLite file path, or a ``sqlite:///`` or ``postgresql://`` URL.
        keys: the key directory that writes are checked against and reads verified with.
        schema: a PostgreSQL schema to keep the tables in (default: the search path).
    """

    def __init__(
        self, database: str | Path, keys: KeyDirectory, *, schema: str | None = None
    ) -> None:
        self.keys = keys
        self.schema = schema
        self._app = LedgerApplication(database_url(database), keys, schema=schema)
        self._verified: tuple[int, str] | None = None

    @property
    def log(self) -> LogStore:
        """The Merkle log: leaves, checkpoints and trust-root documents."""
        return self._app.merkle_log

    @property
    def claims(self) -> ClaimIndex:
        """The database-enforced claims: serial blocks, parcels and bindings."""
        return self._app.claims

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for read models kept in the same database)."""
        return self._app._engine()

    # Writing --------------------------------------------------------------------------------

    def save(self, signer: Signer, *aggregates: Aggregate) -> None:
        """Sign the pending events of ``aggregates`` with ``signer`` and store them at once.

        Raises:
            LogForkError: (on the first write) the log does not extend its latest checkpoint.
        """
        self.check_log()
        self._app.save(*aggregates, signer=signer)

    def check_log(self) -> None:
        """Refuse to go on unless the log extends its latest signed checkpoint.

        The checkpoint must verify under a ``log`` key this store accepts, and the root of the
        log's first ``size`` leaves must be the checkpoint's root. The leaves are read again
        on this store's first write and whenever the latest checkpoint has changed since; in
        between, each write checks that the log has not shrunk below it.

        Raises:
            LogForkError: naming the checkpoint the log no longer extends.
        """
        with self.read() as connection:
            found = self.log.latest_checkpoint_and_size(connection)
            if found is None:
                return
            size, text, size_now = found
            latest = (size, text)
            if self._verified == latest and size_now >= size:
                return
            hashes = self.log.hashes(connection, size)
        check_extends(text, size, hashes, self.keys)
        self._verified = latest

    def update(
        self, signer: Signer, aggregate_id: UUID, kind: type[A], action: Callable[[A], Any]
    ) -> int:
        """Load, act and save in one transaction; the new version.

        Other writers of the aggregate wait for this one (an advisory lock on PostgreSQL,
        SQLite's write lock), so contended writers take turns instead of losing races; a race
        still lost (e.g. to a writer of another ledger version) is re-read and re-run. The
        log is checked (:meth:`check_log`) in the same transaction, on PostgreSQL before the
        turn is taken (the advisory lock does not guard the log: nothing is lost).
        """

        def attempt() -> int:
            with self._app.unit(lock=aggregate_id, check=self.check_log, one_save=True):
                aggregate = self.load(aggregate_id, kind)
                action(aggregate)
                self._app.save(aggregate, signer=signer)
            return aggregate.version

        return retrying(attempt)

    def importing(self) -> AbstractContextManager[BulkWrite]:
        """One import transaction (``with store.importing() as bulk``): all pages, or none.

        The log must extend its latest signed checkpoint (:meth:`check_log`), as for
        :meth:`save`; the claim lock is held until the block ends. See
        :mod:`ledger.store._bulk`.
        """
        self.check_log()
        return self._app.importing()

    # Reading --------------------------------------------------------------------------------

    def load(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The current state of an aggregate of ``kind``, rebuilt from its verified events."""
        noun = _NOUNS.get(kind, kind.__name__)
        try:
            found: object = self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"no {noun} {aggregate_id}") from None
        if not isinstance(found, kind):
            raise NotFoundError(f"{aggregate_id} is not a {noun}")
        return found

    def events(self, aggregate_id: UUID) -> list[DomainEventProtocol[UUID]]:
        """The verified domain events of one aggregate, oldest first."""
        return list(self._app.store.get(aggregate_id))

    def stored_entries(
        self, aggregate_id: UUID, *, upto: int | None = None
    ) -> list[tuple[StoredEvent, Entry]]:
        """The stored events of one aggregate (up to version ``upto``) with their entries."""
        return self._app.store.entries(aggregate_id, lte=upto)

    def kept_entries(self, aggregate_id: UUID, upto: int, *, after: int = 0) -> list[Entry]:
        """Versions after ``after`` up to ``upto`` of one aggregate, verified; no read if held.

        Held: read and verified, or written and committed, by this store (stored events never
        change); otherwise they are read as by :meth:`entries`.
        """
        pairs = self._app.store.kept_entries(aggregate_id, upto, gt=after)
        return [entry for _, entry in pairs]

    def entries(self, aggregate_id: UUID, *, upto: int | None = None) -> list[Entry]:
        """The verified signed entries of one aggregate (up to version ``upto``)."""
        return [entry for _, entry in self.stored_entries(aggregate_id, upto=upto)]

    def aggregates(self, topics: Sequence[str]) -> dict[UUID, Any]:
        """Every aggregate with events of ``topics``, folded from verified events."""
        return self._app.aggregates(topics)

    def notifications(
        self, topics: Sequence[str] = (), *, after: int = 0, limit: int | None = None
    ) -> Iterator[Notification]:
        """Stored events in log order after position ``after`` (of ``topics``, if given)."""
        return self._app.notifications(topics, after=after, limit=limit)

    def open(
        self,
        stored: StoredEvent,
        keys: KeyDirectory | None = None,
        verified: bytes | None = None,
    ) -> Entry:
        """Verify one stored event on its own (signature, key, role, columns): its entry.

        ``keys`` replaces the store's key directory for this check (the audit's keys in force);
        ``verified``: the raw public key a verifier pool already checked its signature with.
        """
        return self._app.store.mapper.open(stored, keys, verified)

    def event_of(self, stored: StoredEvent, entry: Entry) -> DomainEventProtocol[UUID]:
        """The domain event of a stored event already verified as ``entry``."""
        return self._app.store.mapper.event_of(stored, entry)

    def is_empty(self) -> bool:
        """True when the store holds no event and no trust root."""
        with self.read() as connection:
            if self.log.root_documents(connection):
                return False
        return next(iter(self.notifications(limit=1)), None) is None

    def bound_projects(self, event_id: UUID) -> list[UUID]:
        """The sink projects bound to the event ``event_id`` (R9)."""
        with self.read() as connection:
            return [UUID(p) for p in self.claims.bound_projects(connection, event_id)]

    def read(self) -> AbstractContextManager[sa.Connection]:
        """A read-only connection context (``with store.read() as connection``)."""
        return self._app.read()

    def transact(self, action: Callable[[sa.Connection], T]) -> T:
        """Run ``action`` in one write transaction; a write that lost a lock race is run again.

        Raises:
            ConcurrencyError: still losing after a few tries (SQLite busy, PostgreSQL
                deadlock or a unique key taken by another writer).
            StorageError: the database refused the write for another reason.
        """

        def attempt() -> T:
            try:
                with self.write() as connection:
                    return action(connection)
            except (sa.exc.OperationalError, sa.exc.IntegrityError) as e:
                text = str(e)
                if isinstance(e, sa.exc.IntegrityError) or "locked" in text or "deadlock" in text:
                    raise ConcurrencyError(f"another writer came first; retrying ({e.orig})") from e
                raise StorageError(f"the database refused the write: {e.orig}") from e

        return retrying(attempt)

    def write(self) -> AbstractContextManager[sa.Connection]:
        """A connection context that commits (``with store.write() as connection``)."""
        return self._app.write()

    def max_notification_id(self) -> int:
        """The log position of the newest stored event (0 when empty)."""
        return int(self._app.recorder.max_notification_id() or 0)

    @property
    def channel(self) -> str:
        """The PostgreSQL LISTEN channel that announces new events."""
        return str(getattr(self._app.recorder, "channel_name", "ledger_events"))

    def audit(
        self,
        trusted: TrustRoot,
        held: SignedNote | Checkpoint | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditReport:
        """Re-verify everything stored against ``trusted`` (and the checkpoint ``held``).

        See :mod:`ledger.store._audit`.
        """
        return audit_store(self, trusted, held, progress)

    def log_items(self) -> Iterator[LogItem]:
        """The log in order, each leaf with its trust root or stored event (for export)."""
        return log_items(self)

    def close(self) -> None:
        """Release every database connection."""
        self._app.close()
