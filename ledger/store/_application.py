"""The eventsourcing application behind :class:`ledger.store.Store`: storage, signing, chaining.

Rules:
- One code path for both backends: eventsourcing-sqlalchemy with a SQLite file URL by default or
  a PostgreSQL URL (``postgresql+psycopg://``). Configuration is explicit: the process
  environment is not read, so a stray variable cannot point the ledger at another database.
- Events are stored as signed envelopes (:class:`SigningMapper`) and read through a verifying,
  chain-checking store (:class:`ChainedEventStore`).
- Claims that must be unique across aggregates (:mod:`ledger.store._claims`) and the Merkle
  log leaves (:mod:`ledger.store._merkle_log`) are written in the same transaction as the events.
- A failed save writes nothing, forgets the chain heads it advanced, and raises a LedgerError.
- :meth:`LedgerApplication.unit` is one write transaction that saves (and reads) nest in. Given
  an aggregate, it first makes every other writer of that aggregate wait: PostgreSQL with a
  transaction-scoped advisory lock keyed by the aggregate id, SQLite by taking the database's
  write lock up front (``BEGIN IMMEDIATE``, waiting out the busy timeout), so a load-act-save
  inside it cannot lose a race to another writer of the same aggregate.
- What a unit signed is kept as verified only once it has committed (``settle``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    PersistenceError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder

from ledger.audit.chain import ChainHeads
from ledger.audit.keys import KeyDirectory
from ledger.errors import ConcurrencyError, InvalidInputError, LedgerError, StorageError
from ledger.store._bulk import BulkWrite
from ledger.store._claims import ClaimIndex, claims_for
from ledger.store._event_store import ChainedEventStore
from ledger.store._mapper import SigningMapper
from ledger.store._merkle_log import LogStore
from ledger.store._transcoder import CanonicalTranscoder, transcoder

__all__ = ["IMPORT_PAGE", "LedgerApplication"]

_PAGE = 500
#: Events written per set-based page of an import (one transaction holds every page).
IMPORT_PAGE = 2000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # matched whole (fullmatch)


class LedgerApplication(Application[UUID]):
    """Stores signed, hash-chained events in one SQL database."""

    name = "Ledger"

    def __init__(self, url: str, keys: KeyDirectory, *, schema: str | None = None) -> None:
        if schema is not None and not _IDENTIFIER.fullmatch(schema):
            raise InvalidInputError(f"schema {schema!r} is not a plain SQL identifier")
        self._keys = keys
        self.schema = schema
        self._units = threading.local()
        env = {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url,
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
        if schema is not None:
            env["SQLALCHEMY_SCHEMA"] = schema
        try:
            _create_schema(url, schema)
            super().__init__(env=env)
            self._init_wal()
            self.claims = ClaimIndex(self._engine(), schema)
            self.merkle_log = LogStore(self._engine(), schema)
            self._install_append()
        except (PersistenceError, OSError, sa.exc.SQLAlchemyError) as e:
            raise StorageError(f"cannot open the ledger database: {e}") from e

    def notifications(
        self, topics: Sequence[str] = (), *, after: int = 0, limit: int | None = None
    ) -> Iterator[Notification]:
        """Stored events in log order after ``after`` (of ``topics``), read page by page."""
        start: int | None = after or None
        left = limit
        while left is None or left > 0:
            size = _PAGE if left is None else min(_PAGE, left)
            page = self.recorder.select_notifications(
                start, size, topics=topics, inclusive_of_start=False
            )
            yield from page
            if len(page) < size:
                return
            start = page[-1].id
            left = None if left is None else left - len(page)

    def aggregates(self, topics: Sequence[str]) -> dict[UUID, Any]:
        """Every aggregate with events of ``topics``, folded from verified events."""
        found: dict[UUID, Any] = {}
        for notification in self.notifications(topics):
            event: Any = self.mapper.to_domain_event(notification)
            found[event.originator_id] = event.mutate(found.get(event.originator_id))
        return found

    def read(self) -> AbstractContextManager[sa.Connection]:
        """A read connection context (``with app.read() as connection``).

        Inside a :meth:`unit` of this thread, the unit's own connection (it sees the unit's
        writes and holds its locks); else a fresh connection.
        """
        if getattr(self._units, "depth", 0):
            return self.unit()
        return self._engine().connect()

    @contextmanager
    def unit(
        self,
        lock: UUID | None = None,
        check: Callable[[], None] | None = None,
        *,
        one_save: bool = False,
    ) -> Iterator[sa.Connection]:
        """One write transaction that saves and reads of this thread nest in; commits on exit.

        ``lock``: an aggregate whose other writers wait until this unit ends (see the module
        rules). ``check``: run in the transaction, before the lock on PostgreSQL (so it is not
        in the turn the aggregate's writers wait for) and after it on SQLite (whose lock is
        the transaction's start). A failed unit writes nothing, forgets the chain heads it
        advanced and raises a LedgerError (a lost race is a ConcurrencyError). ``one_save``:
        the block's one save is its last statement, so on PostgreSQL its insert carries the
        COMMIT (:meth:`LogStore.append_events`); nothing may be written after it.
        """
        depth = getattr(self._units, "depth", 0)
        if depth:
            with self._sql_recorder().transaction(commit=True) as session:
                yield session.connection()
            return
        self._units.depth = 1
        committed = False
        try:
            with self._sql_recorder().transaction(commit=True) as session:
                connection = session.connection()
                if lock is not None:
                    _serialize(connection, lock, self.store, check)
                elif check is not None:
                    check()
                self.store.end_with_next_write(one_save)
                yield connection
            committed = True
        except BaseException as e:
            error = _storage_error(e)
            if error is None:
                raise
            raise error from e
        finally:
            self._units.depth = 0
            written = self.store.settle(committed)
            if not committed:
                self.store.mapper.chain.forget(written)

    def write(self) -> AbstractContextManager[sa.Connection]:
        """A connection context that commits (``with app.write() as connection``)."""
        return self._engine().begin()

    def _install_append(self) -> None:
        """Let the event store insert events and their log leaves in one call (PostgreSQL)."""
        recorder = self._sql_recorder()
        events = recorder.events_table_name
        if recorder.schema_name is not None:
            events = f"{recorder.schema_name}.{events}"
        self.merkle_log.install_append(self._engine(), events, recorder.channel_name)
        self.store.log = self.merkle_log

    def _sql_recorder(self) -> SQLAlchemyApplicationRecorder:
        if not isinstance(self.recorder, SQLAlchemyApplicationRecorder):
            raise StorageError("the ledger needs the SQLAlchemy recorder")
        return self.recorder

    def _init_wal(self) -> None:
        """Put a SQLite file in WAL mode now, where a busy database can be waited for.

        eventsourcing-sqlalchemy does it on the first transaction, where a concurrent writer's
        lock would surface as a raw driver error. The mode is stored in the file, so when
        another process holds the lock the file is already in WAL mode and waiting is enough.
        """
        datastore = getattr(self.factory, "datastore", None)
        if datastore is None or not getattr(datastore, "is_sqlite_filedb", False):
            return
        for _ in range(50):
            try:
                datastore.init_sqlite_wal_mode()
                return
            except sa.exc.OperationalError as e:
                if "locked" not in str(e):
                    raise
                time.sleep(0.1)

    def _engine(self) -> sa.Engine:
        engine = getattr(getattr(self.factory, "datastore", None), "engine", None)
        if not isinstance(engine, sa.Engine):
            raise StorageError("the ledger needs a SQLAlchemy engine")
        return engine

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given configuration, never the process environment."""
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> CanonicalTranscoder:
        """The canonical (RFC 8785) transcoder with the standard transcodings."""
        return transcoder()

    def construct_mapper(self) -> SigningMapper:
        """The signing, verifying mapper."""
        return SigningMapper(self.construct_transcoder(), self._keys, ChainHeads(self._stored))

    def construct_event_store(self) -> ChainedEventStore:
        """The chain-verifying event store."""
        return ChainedEventStore(mapper=self.mapper, recorder=self.recorder)

    @property
    def store(self) -> ChainedEventStore:
        """The event store, typed."""
        events = self.events
        if not isinstance(events, ChainedEventStore):
            raise TypeError("the ledger's event store must be a ChainedEventStore")
        return events

    def _stored(self, aggregate: UUID, version: int) -> bytes | None:
        found = self.recorder.select_events(aggregate, gt=version - 1, lte=version)
        return found[0].state if found else None

    @contextmanager
    def importing(self) -> Iterator[BulkWrite]:
        """One import transaction (:class:`BulkWrite`): commits if the block ends, else nothing.

        Raises:
            ConcurrencyError: another writer held a lock or took a unique key first.
            StorageError: the database refused the write for another reason.
        """
        try:
            with self._sql_recorder().transaction(commit=True) as session:
                yield BulkWrite(self, session)
        except BaseException as e:
            error = _storage_error(e)
            if error is None:
                raise
            raise error from e

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings: list[Recording[UUID]] = []

        def insert() -> list[StoredEvent]:
            recordings.extend(super(LedgerApplication, self)._record(processing_event))
            return [r.notification for r in recordings]

        try:
            with self.unit() as connection:
                self._write(connection, processing_event.events, insert)
                return recordings
        except BaseException as e:
            chain = self.store.mapper.chain
            chain.forget(event.originator_id for event in processing_event.events)
            error = _storage_error(e)
            if error is None:
                raise
            raise error from e

    def _write(
        self,
        connection: sa.Connection,
        events: Sequence[Any],
        insert: Callable[[], list[StoredEvent]],
    ) -> None:
        """Claims, then the events, then their Merkle log leaves, on one connection."""
        claims = claims_for(events)
        if claims:
            self.claims.claim(connection, claims)
        self.store.logged()  # forget any earlier insert's mark
        stored = insert()
        if not self.store.logged():  # PostgreSQL appends the leaves with the events
            self.merkle_log.append(
                connection, [(s.originator_id, s.originator_version, s.state) for s in stored]
            )

    def close(self) -> None:
        """Release every database connection (eventsourcing-sqlalchemy keeps its engine open)."""
        super().close()
        self._engine().dispose()

    def __enter__(self) -> LedgerApplication:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _storage_error(error: BaseException) -> LedgerError | None:
    """The LedgerError a failed write raises, or None to re-raise it as it is."""
    taken = isinstance(error, IntegrityError | sa.exc.IntegrityError)  # a key another took
    if taken or _lost_a_lock(error):
        return ConcurrencyError(f"another writer saved first; re-read and retry ({error})")
    if isinstance(error, PersistenceError | sa.exc.SQLAlchemyError):
        return StorageError(f"the database refused the write: {error}")
    return None


def _serialize(
    connection: sa.Connection,
    aggregate: UUID,
    store: ChainedEventStore,
    check: Callable[[], None] | None,
) -> None:
    """Make every other writer of ``aggregate`` wait until this transaction ends.

    PostgreSQL: ``check`` runs first, then the lock and the read of the aggregate's new events
    are one round trip. SQLite: the write lock first (``BEGIN IMMEDIATE`` starts the
    transaction), then ``check``.
    """
    if connection.dialect.name == "postgresql":
        if check is not None:
            check()
        key = int.from_bytes(aggregate.bytes[:8], "big", signed=True)
        if not store.lock_and_read(connection, aggregate, key):
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        return
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    if check is not None:
        check()


def _lost_a_lock(error: BaseException) -> bool:
    """True for a write that lost a race for a lock (SQLite busy, PostgreSQL deadlock)."""
    text = str(error)
    return isinstance(error, OperationalError | sa.exc.OperationalError) and (
        "database is locked" in text or "deadlock detected" in text
    )


def _create_schema(url: str, schema: str | None) -> None:
    """Create the PostgreSQL schema the ledger's tables go in, if it is missing."""
    if schema is None or not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        engine.dispose()
