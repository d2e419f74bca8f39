"""The claims a replay makes again, kept on disk so an audit's memory stays flat (SPEC 5a).

Rules:
- The replayed claims live in a private SQLite file of their own (a temporary directory,
  removed on :meth:`ReplayClaims.close`), made by the same :class:`ClaimIndex` as the store's
  tables, so R9 and R11 are re-checked from the signed history, never from the claim tables.
- A claim of serial blocks only (every batch issuance) is checked and written with two
  prepared statements: the same overlap rule as :class:`ClaimIndex` (the same earlier batch
  is named) and the same insert; any other claim goes through :class:`ClaimIndex` whole.
  The serials each registry has claimed are also kept as runs of consecutive serials (up to
  4,096 runs per registry; beyond that, every block of it is looked up): a block that meets
  no run overlaps no claimed block, so it is not looked up. The inserts are made in pages
  (before another reader), and a look-up also searches the rows not yet inserted.
- :meth:`ReplayClaims.compare` finds the rows that differ between the store's claim tables and
  the replayed ones. The serial blocks (one row per batch: the table that grows with the
  ledger) are streamed into the private file and compared there by SQL, so memory does not
  grow with them (the scratch file's page cache, its temporary tables' and its sorts' memory
  are capped at 256 KB each); parcels and bindings are compared in memory. Either way the first
  row that differs is named exactly as :func:`~ledger.store._rows.compare_rows` names it.
"""

from __future__ import annotations

import bisect
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ledger.domain.values import SerialRange
from ledger.store._claims import ClaimIndex, Claims
from ledger.store._claims._serials import serial_overlap
from ledger.store._rows import compare_rows, row_order

__all__ = ["ReplayClaims"]

_SERIALS = "ledger_serial_blocks"
_COLUMNS = ("registry", "serial_start", "serial_end", "batch")
# The replayed blocks of a registry never overlap (each was checked before it was written), so
# only the block with the greatest start at or before the new block's end can overlap it: one
# index lookup, whatever the number of blocks, and the same block the store's own check names
# (:meth:`SerialBlocks.overlapping`).
_NEAREST = (
    f"SELECT batch, serial_start, serial_end FROM {_SERIALS} WHERE registry = ?"
    " AND serial_start <= ? ORDER BY serial_start DESC LIMIT 1"
)
_INSERT = f"INSERT INTO {_SERIALS} (registry, serial_start, serial_end, batch) VALUES (?, ?, ?, ?)"
_PAGE = 5000
_RUNS = 4096  # runs of claimed serials kept per registry


def _quiet(connection: Any, _: object = None) -> None:
    """No fsync, no rollback journal: the file is scratch, thrown away after the replay."""
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA journal_mode = MEMORY")
    connection.execute("PRAGMA cache_size = -256")  # at most 256 KB of pages in memory
    connection.execute("PRAGMA temp_store = FILE")  # the comparison's temporary tables too
    connection.execute("PRAGMA temp.cache_size = -256")


class ReplayClaims:
    """A claim index of a replay's own, in a temporary SQLite file."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="ledger-replay-")
        path = Path(self._folder.name) / "claims.db"
        self.engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.StaticPool)
        sa.event.listen(self.engine, "connect", _quiet)
        self.index = ClaimIndex(self.engine, None)
        self._raw = sqlite3.connect(path, isolation_level=None)
        _quiet(self._raw)
        # the checks here replace the guard trigger (one fewer lookup per insert)
        for trigger in (f"{_SERIALS}_no_overlap", f"{_SERIALS}_no_overlap_nearest"):
            self._raw.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        self._rows: list[tuple[str, int, int, str]] = []  # checked, not yet inserted
        self._unwritten: dict[str, list[tuple[int, int, str]]] = {}  # the same, sorted
        self._covered: dict[str, _Covered | None] = {}  # None: too many runs, not kept

    def claim(self, claims: Claims) -> None:
        """Make ``claims`` again, or raise the RuleViolationError the store would."""
        if claims.parcels or claims.bindings or claims.sources:
            self._commit()
            with self.engine.begin() as connection:
                self.index.claim(connection, claims)
            for serial in claims.serials:
                self._claimed(serial.registry, serial.serials)
            return
        for serial in claims.serials:
            span = serial.serials
            covered = self._covered.get(serial.registry, _EMPTY)
            if covered is None or covered.meets(span):  # a block may overlap: find it
                found = self._nearest(serial.registry, span.end)
                if found is not None and found[2] >= span.start:
                    raise serial_overlap(serial, f"batch {found[0]} ({found[1]}-{found[2]})")
            row = (serial.registry, span.start, span.end, serial.batch)
            self._rows.append(row)
            bisect.insort(self._unwritten.setdefault(serial.registry, []), row[1:])
            self._claimed(serial.registry, span)
        if len(self._rows) >= _PAGE:
            self._commit()

    def _nearest(self, registry: str, end: int) -> tuple[str, int, int] | None:
        """(batch, start, end) of the block of ``registry`` with the greatest start <= ``end``.

        Looked up in the file and among the rows not yet written; the greater start wins.
        """
        found = self._raw.execute(_NEAREST, (registry, end)).fetchone()
        unwritten = self._unwritten.get(registry, [])
        at = bisect.bisect_right(unwritten, end, key=_start) - 1
        if at >= 0 and (found is None or unwritten[at][0] > found[1]):
            start, stop, batch = unwritten[at]
            return batch, start, stop
        return None if found is None else (str(found[0]), int(found[1]), int(found[2]))

    def _claimed(self, registry: str, span: SerialRange) -> None:
        if registry not in self._covered:
            self._covered[registry] = _Covered()
        covered = self._covered[registry]
        if covered is not None and not covered.add(span):
            self._covered[registry] = None  # too scattered to keep: every block is looked up

    def _flush(self) -> None:
        """Insert the checked rows (one statement per page of them)."""
        if self._rows:
            if not self._raw.in_transaction:
                self._raw.execute("BEGIN")  # committed in pages, or before another reader
            self._raw.executemany(_INSERT, self._rows)
            self._rows.clear()
            self._unwritten.clear()

    def _commit(self) -> None:
        self._flush()
        if self._raw.in_transaction:
            self._raw.execute("COMMIT")

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every replayed claim row, sorted, by table (all in memory: for small histories)."""
        self._commit()
        with self.engine.connect() as connection:
            return self.index.rows(connection)

    def compare(self, kept: sa.Connection, index: ClaimIndex) -> None:
        """Raise AuditError naming the first row that differs from the store's claim tables.

        ``kept``: a connection to the store; ``index``: the store's claim tables.
        """
        self._commit()
        self._compare_serials(kept, index.serials.table)
        mine = (self.index.parcels.table, self.index.parcels.bindings)
        theirs = (index.parcels.table, index.parcels.bindings)
        with self.engine.connect() as connection:
            for table, kept_table in zip(mine, theirs, strict=True):
                made = sorted(
                    (tuple(row) for row in connection.execute(sa.select(table))), key=row_order
                )
                stored = sorted(
                    (tuple(row) for row in kept.execute(sa.select(kept_table))), key=row_order
                )
                compare_rows("claim", {table.name: stored}, {table.name: made})

    def _compare_serials(self, kept: sa.Connection, table: sa.Table) -> None:
        raw = self._raw
        raw.execute(f"CREATE TEMP TABLE kept ({', '.join(_COLUMNS)})")
        result = kept.execution_options(stream_results=True, yield_per=_PAGE).execute(
            sa.select(*(table.c[name] for name in _COLUMNS))
        )
        for page in result.partitions(_PAGE):
            raw.executemany("INSERT INTO kept VALUES (?, ?, ?, ?)", [tuple(r) for r in page])
        columns = ", ".join(_COLUMNS)
        # each row counted +1 per copy kept in the store, -1 per copy replayed: one sort of
        # both tables finds every row whose counts differ (positive: kept more often)
        query = (
            f"SELECT {columns}, SUM(side) AS n FROM (SELECT {columns}, 1 AS side FROM kept"
            f" UNION ALL SELECT {columns}, -1 AS side FROM {_SERIALS})"
            f" GROUP BY {columns} HAVING n <> 0"
        )
        found = raw.execute(query).fetchall()
        raw.execute("DROP TABLE kept")
        extra = [row for row in found if row[4] > 0]
        missing = [(*row[:4], -row[4]) for row in found if row[4] < 0]
        if extra:
            compare_rows("claim", {_SERIALS: _rows(extra)}, {_SERIALS: []})
        if missing:
            compare_rows("claim", {_SERIALS: []}, {_SERIALS: _rows(missing)})

    def close(self) -> None:
        """Remove the temporary file."""
        self._raw.close()
        self.engine.dispose()
        self._folder.cleanup()


class _Covered:
    """The serials a registry has claimed, as runs of consecutive serials.

    At most :data:`_RUNS` of them, so memory stays flat: a block that meets none of them
    overlaps no claimed block and needs no look-up.
    """

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def meets(self, span: SerialRange) -> bool:
        """True if a claimed serial lies in ``span``."""
        at = bisect.bisect_right(self.starts, span.end) - 1
        return at >= 0 and self.ends[at] >= span.start

    def add(self, span: SerialRange) -> bool:
        """Add ``span`` (which meets no run); False if that makes too many runs."""
        at = bisect.bisect_right(self.starts, span.start)  # the first run after it
        joins_left = at > 0 and self.ends[at - 1] == span.start - 1
        joins_right = at < len(self.starts) and self.starts[at] == span.end + 1
        if joins_left and joins_right:
            self.ends[at - 1] = self.ends.pop(at)
            del self.starts[at]
        elif joins_left:
            self.ends[at - 1] = span.end
        elif joins_right:
            self.starts[at] = span.start
        else:
            self.starts.insert(at, span.start)
            self.ends.insert(at, span.end)
        return len(self.starts) <= _RUNS


_EMPTY = _Covered()


def _start(row: tuple[int, int, str]) -> int:
    return row[0]


def _rows(found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Differing rows (each ``count`` times over), sorted as the store's rows are."""
    rows = [tuple(row[:4]) for row in found for _ in range(int(row[4]))]
    return sorted(rows, key=row_order)
