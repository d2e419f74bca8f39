"""Serial blocks: one registry's blocks never overlap, across batches (SPEC 4, R11).

The database guards it: PostgreSQL with an exclusion constraint (btree_gist), SQLite with a
trigger. The check before the insert names the earlier batch.

The SQLite trigger looks at one block, the registry's block with the greatest start at or
before the new block's end: blocks never overlap (the trigger keeps it so), so it is the only
one that can overlap, and it is one index seek however many blocks there are (the first
trigger scanned every block below the new end, which made an import quadratic). A file with
the first trigger gets the second when it is opened.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import sqlalchemy as sa

from ledger.domain.values import SerialRange
from ledger.errors import RuleViolationError

__all__ = ["SerialBlocks", "SerialClaim", "serial_overlap"]

_TABLE = "ledger_serial_blocks"
_SQLITE_TRIGGER = f"{_TABLE}_no_overlap_nearest"
_SQLITE_OLD_TRIGGER = f"{_TABLE}_no_overlap"
_SQLITE_GUARD = f"""
CREATE TRIGGER IF NOT EXISTS {_SQLITE_TRIGGER} BEFORE INSERT ON {_TABLE}
WHEN EXISTS (SELECT 1 FROM (SELECT b.serial_end FROM {_TABLE} AS b
                            WHERE b.registry = NEW.registry AND b.serial_start <= NEW.serial_end
                            ORDER BY b.serial_start DESC LIMIT 1) AS nearest
             WHERE nearest.serial_end >= NEW.serial_start)
BEGIN SELECT RAISE(ABORT, '{_TABLE}: overlapping serial block'); END
"""
_POSTGRES_GUARD = """
ALTER TABLE {table} ADD CONSTRAINT {name}_no_overlap EXCLUDE USING gist
(registry WITH =, int8range(serial_start, serial_end, '[]') WITH &&)
"""


@attrs.frozen
class SerialClaim:
    """A registry's claim on a block of serial numbers for one batch."""

    registry: str
    serials: SerialRange
    batch: str


class SerialBlocks:
    """The table of claimed serial blocks."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.table = sa.Table(
            _TABLE,
            metadata,
            sa.Column("registry", sa.Text, primary_key=True),
            sa.Column("serial_start", sa.BigInteger, primary_key=True),
            sa.Column("serial_end", sa.BigInteger, nullable=False),
            sa.Column("batch", sa.Text, nullable=False),
        )

    def install_guard(self, connection: sa.Connection) -> None:
        """Create the trigger or exclusion constraint, if it is not there yet."""
        if connection.dialect.name == "sqlite":
            found = connection.execute(
                sa.text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
                {"name": _SQLITE_TRIGGER},
            ).first()
            if found is None:
                connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {_SQLITE_OLD_TRIGGER}"))
                connection.execute(sa.text(_SQLITE_GUARD))
            return
        table = _qualified(self.table)
        exists = connection.execute(
            sa.text(
                "SELECT 1 FROM pg_constraint"
                " WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
            ),
            {"name": f"{_TABLE}_no_overlap", "table": table},
        ).first()
        if exists is None:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            connection.execute(sa.text(_POSTGRES_GUARD.format(table=table, name=_TABLE)))

    def claim(self, connection: sa.Connection, claim: SerialClaim) -> None:
        """Insert ``claim`` or raise RuleViolationError naming the overlapping batch."""
        earlier = self.overlapping(connection, claim.registry, claim.serials)
        if earlier is not None:
            raise serial_overlap(claim, earlier)
        values: dict[str, object] = {"registry": claim.registry, "batch": claim.batch}
        values |= {"serial_start": claim.serials.start, "serial_end": claim.serials.end}
        try:
            connection.execute(self.table.insert().values(**values))
        except sa.exc.IntegrityError as e:
            raise serial_overlap(claim, "a block written concurrently by another writer") from e

    def overlapping(
        self, connection: sa.Connection, registry: str, serials: SerialRange
    ) -> str | None:
        """The batch whose block of ``registry`` overlaps ``serials``, if any.

        Only the block with the greatest start at or before ``serials.end`` can overlap, as
        blocks never overlap: one index seek, however many blocks the registry has.
        """
        c = self.table.c
        found = connection.execute(
            sa.select(c.batch, c.serial_start, c.serial_end)
            .where(c.registry == registry)
            .where(c.serial_start <= serials.end)
            .order_by(c.serial_start.desc())
            .limit(1)
        ).first()
        if found is None or found[2] < serials.start:
            return None
        return f"batch {found[0]} ({found[1]}-{found[2]})"

    def overlaps(
        self, connection: sa.Connection, registry: str, spans: Sequence[tuple[int, SerialRange]]
    ) -> dict[int, str]:
        """Bulk :meth:`overlapping`: for each (key, serials) that overlaps a block, its batch.

        One set-based query, whatever the number of spans or blocks: the spans go into a
        temporary table and each is joined to the block of ``registry`` with the greatest start
        at or before its end (an index seek), which is the only block that can overlap it
        because blocks never overlap (the guard). Spans are not checked against each other.
        """
        found: dict[int, str] = {}
        if not spans:
            return found
        temporary = sa.Table(
            "ledger_import_spans",
            sa.MetaData(),
            sa.Column("key", sa.BigInteger, nullable=False),
            sa.Column("lo", sa.BigInteger, nullable=False),
            sa.Column("hi", sa.BigInteger, nullable=False),
            prefixes=["TEMPORARY"],
        )
        temporary.create(connection)
        try:
            connection.execute(
                temporary.insert(), [{"key": k, "lo": s.start, "hi": s.end} for k, s in spans]
            )
            c, t = self.table.c, temporary.c
            inner = self.table.alias("nearest")
            nearest = (
                sa.select(inner.c.serial_start)
                .where(inner.c.registry == registry, inner.c.serial_start <= t.hi)
                .order_by(inner.c.serial_start.desc())
                .limit(1)
                .scalar_subquery()
            )
            query = (
                sa.select(t.key, c.batch, c.serial_start, c.serial_end)
                .select_from(temporary)
                .join(self.table, sa.and_(c.registry == registry, c.serial_start == nearest))
                .where(c.serial_end >= t.lo)
            )
            for key, batch, start, end in connection.execute(query):
                found[int(key)] = f"batch {batch} ({start}-{end})"
        finally:
            temporary.drop(connection)
        return found

    def insert_many(self, connection: sa.Connection, claims: Sequence[SerialClaim]) -> None:
        """Insert ``claims`` (already checked, e.g. by :meth:`overlaps`) in one statement.

        The guard (trigger or exclusion constraint) still refuses any overlap, as a
        RuleViolationError that cannot name the block.
        """
        rows = [
            {
                "registry": claim.registry,
                "serial_start": claim.serials.start,
                "serial_end": claim.serials.end,
                "batch": claim.batch,
            }
            for claim in claims
        ]
        if not rows:
            return
        try:
            connection.execute(self.table.insert(), rows)
        except sa.exc.IntegrityError as e:
            raise RuleViolationError(
                f"serial blocks of this write overlap each other or a block written"
                f" concurrently ({e.orig}); serial blocks of one registry never overlap",
                rule="R11",
            ) from e


def _qualified(table: sa.Table) -> str:
    return f'"{table.schema}".{table.name}' if table.schema else table.name


def serial_overlap(claim: SerialClaim, earlier: str) -> RuleViolationError:
    """The refusal of ``claim``, which overlaps ``earlier`` (a block, named)."""
    return RuleViolationError(
        f"serials {claim.serials} of registry {claim.registry!r} overlap {earlier};"
        " serial blocks of one registry never overlap",
        rule="R11",
    )
