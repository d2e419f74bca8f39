"""Resumable, exactly-once read models over the verified event stream (SPEC section 6).

Rules:
- A projection reads events in notification order, each verified like any read, and applies
  them to its own tables a page at a time (:meth:`PageProjection.apply_page`): it reads the rows
  the page's events touch in one query per table, folds the page in memory and writes the rows
  that changed set-based (one statement per table and kind of change). Catching up and
  rebuilding run this same code. Its position (the last notification id applied) is written
  in the same transaction as the changes it made, so a crash between the two is impossible:
  after a crash the projection resumes from its last committed position and applies nothing
  twice.
- Two projectors of one read model may run at once: each page's transaction first claims the
  position it read (a conditional write of the position row, which also holds its lock); the
  one that finds the position moved on rolls back and reads again, so no event is applied
  twice and no row collides (issue 15).
- :meth:`ProjectionRunner.catch_up` reads the notification log on both backends;
  :meth:`ProjectionRunner.follow` keeps a projection current: on PostgreSQL it sleeps on
  LISTEN/NOTIFY (the channel eventsourcing-sqlalchemy notifies on every write), on SQLite it
  polls.
- A projection can be dropped and rebuilt from zero; the rebuilt tables must equal the live
  ones (tested). It can also be built in another engine (an in-memory SQLite database), from
  the verified history alone: read commands and the audit do that, so rows edited in the
  store's own tables are never printed as true (:mod:`ledger.projections.check`).
- :func:`rebuild` builds any number of projections in another engine in ONE pass over the
  notifications: each event is read, checked and decoded once and handed to every projection
  whose target position it is within. Every event's signature is verified (on the verifier
  pool's processes for a big rebuild, :mod:`ledger.projections._signatures`) and, inside the
  latest witnessed checkpoint, its hash against the signed root
  (:mod:`ledger.projections._hashed`); a failure anywhere raises before the caller sees any
  table.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from ledger.audit.envelope import Entry
from ledger.errors import ConcurrencyError, StorageError
from ledger.store import Store, row_order

__all__ = ["PageProjection", "Projection", "ProjectionRunner", "apply_page", "rebuild"]


class Projection(Protocol):
    """A read model: its tables, and how one verified entry changes them.

    A projection may also define ``apply_page(connection, page)`` (see :class:`PageProjection`):
    the runner then hands it each page at once instead of one entry at a time.
    """

    name: str

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """Define the projection's tables on ``metadata`` and return them."""
        ...

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Apply one verified entry (at notification ``position``)."""
        ...


class PageProjection(Projection, Protocol):
    """A read model that applies a page of entries at once (every built-in one does)."""

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Apply a page of verified entries, each with its notification position, in order.

        A projection folds the page in memory and writes the rows it changed with a few
        set-based statements; the caller writes the position in the same transaction.
        """
        ...


def apply_page(
    projection: Projection, connection: sa.Connection, page: Sequence[tuple[int, Entry]]
) -> None:
    """Apply ``page`` to ``projection``: at once if it can, else entry by entry."""
    at_once = getattr(projection, "apply_page", None)
    if at_once is not None:
        at_once(connection, page)
        return
    for position, entry in page:
        projection.apply(connection, position, entry)


def _create(metadata: sa.MetaData, engine: sa.Engine) -> None:
    """Create the tables if missing; a writer holding the lock, or creating them, is waited for."""
    for attempt in range(100):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as e:
            text = str(e)  # a lock held, or another projector creating the same tables
            raced = "locked" in text or "already exists" in text or "duplicate key" in text
            if not raced or attempt == 99:
                raise StorageError(f"cannot create the read model's tables: {e.orig}") from e
            time.sleep(0.1)


class _OvertakenError(Exception):
    """Another projector advanced the position this page started from."""


class ProjectionRunner:
    """Runs one projection over one ledger store."""

    def __init__(
        self,
        store: Store,
        projection: Projection,
        schema: str | None = None,
        *,
        engine: sa.Engine | None = None,
    ):
        self.store = store
        self.projection = projection
        metadata = sa.MetaData(schema=schema if engine is None else None)
        self.positions = sa.Table(
            "ledger_projection_positions",
            metadata,
            sa.Column("projection", sa.Text, primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
        )
        self.tables = projection.define(metadata)
        self._engine = store.engine if engine is None else engine
        _create(metadata, self._engine)

    @property
    def engine(self) -> sa.Engine:
        """The engine the projection's tables live in."""
        return self._engine

    def position(self) -> int:
        """The last notification id applied (0 before the first)."""
        with self._engine.connect() as connection:
            found = connection.execute(
                sa.select(self.positions.c.position).where(
                    self.positions.c.projection == self.projection.name
                )
            ).scalar()
        return int(found or 0)

    def catch_up(
        self,
        page: int = 100,
        progress: Callable[[int], None] | None = None,
        *,
        until: int | None = None,
    ) -> int:
        """Apply every event after the position (up to ``until``), ``page`` per transaction.

        Returns how many were applied.
        """
        done = lost = 0
        while True:
            start = self.position()
            notifications = [
                n
                for n in self.store.notifications(after=start, limit=page)
                if until is None or n.id <= until
            ]
            if not notifications:
                return done
            entries = [(n.id, self.store.open(n)) for n in notifications]
            try:
                with self._engine.begin() as connection:
                    self._claim(connection, start)
                    apply_page(self.projection, connection, entries)
                    self._advance(connection, notifications[-1].id)
            except _OvertakenError:
                lost += 1
                if lost > 200:
                    raise ConcurrencyError(
                        f"read model {self.projection.name}: another projector keeps moving its"
                        " position; try again"
                    ) from None
                continue
            done += len(notifications)
            if progress is not None:
                progress(done)

    def follow(self, stop: threading.Event, *, idle: float = 0.5, page: int = 100) -> int:
        """Keep the projection current until ``stop`` is set; return how many were applied."""
        applied = self.catch_up(page)
        if self._engine.dialect.name != "postgresql":
            while not stop.wait(idle):
                applied += self.catch_up(page)
            return applied
        import psycopg

        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        channel = self.store.channel
        with psycopg.connect(url, autocommit=True) as listener:
            listener.execute(f"LISTEN {channel}")
            applied += self.catch_up(page)  # what was written before LISTEN took effect
            while not stop.is_set():
                for _ in listener.notifies(timeout=idle, stop_after=1):
                    pass
                applied += self.catch_up(page)
        return applied

    def _claim(self, connection: sa.Connection, start: int) -> None:
        """Hold the position row at ``start``, or raise _OvertakenError if it moved on."""
        c = self.positions.c
        held = connection.execute(
            self.positions.update()
            .where(c.projection == self.projection.name, c.position == start)
            .values(position=start)
        )
        if held.rowcount == 1:
            return
        if start != 0:
            raise _OvertakenError
        try:  # the first page: another projector inserting the row first wins
            connection.execute(
                self.positions.insert().values(projection=self.projection.name, position=0)
            )
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as e:
            if isinstance(e, sa.exc.OperationalError) and "locked" not in str(e):
                raise
            raise _OvertakenError from e

    def _advance(self, connection: sa.Connection, position: int) -> None:
        c = self.positions.c
        updated = connection.execute(
            self.positions.update()
            .where(c.projection == self.projection.name)
            .values(position=position)
        )
        if updated.rowcount == 0:
            connection.execute(
                self.positions.insert().values(projection=self.projection.name, position=position)
            )

    def rebuild(self) -> int:
        """Drop everything the projection holds and replay it from zero."""
        with self._engine.begin() as connection:
            for table in self.tables:
                connection.execute(table.delete())
            connection.execute(
                self.positions.delete().where(self.positions.c.projection == self.projection.name)
            )
        return self.catch_up()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the projection, sorted: for comparing two states."""
        with self._engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(row) for row in connection.execute(sa.select(table))), key=row_order
                )
                for table in self.tables
            }


def rebuild(
    store: Store,
    projections: Sequence[Projection],
    engine: sa.Engine,
    until: Mapping[str, int] | None = None,
    page: int = 500,
) -> list[ProjectionRunner]:
    """Build ``projections`` from zero in ``engine`` in one pass over the verified history.

    Args:
        store: the store whose notifications are read.
        projections: the read models to build (their tables must not exist in ``engine``).
        engine: where to build them (e.g. an in-memory SQLite database).
        until: the last notification id to apply, per projection name (default: all).
        page: events applied per transaction.

    Returns:
        A runner per projection, in order, over its rebuilt tables.

    Raises:
        TamperError, LogForkError: an event or the log fails its check (nothing is usable).
    """
    from ledger.projections._hashed import hashed_entries

    runners = [ProjectionRunner(store, projection, engine=engine) for projection in projections]
    limits = [None if until is None else until.get(p.name, 0) for p in projections]
    last = None if until is None or None in limits else max([0, *limits])  # type: ignore[type-var]
    stream = hashed_entries(store, last)
    while True:
        chunk = list(itertools.islice(stream, page))
        if not chunk:
            return runners
        with engine.begin() as connection:
            for runner, limit in zip(runners, limits, strict=True):
                wanted = [(n.id, e) for n, e in chunk if limit is None or n.id <= limit]
                if wanted:
                    apply_page(runner.projection, connection, wanted)
                    runner._advance(connection, wanted[-1][0])
