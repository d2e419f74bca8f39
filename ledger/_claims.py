"""Database-enforced claims: facts that must stay unique across aggregates and writers.

Rules:
- Serial blocks of one registry never overlap, across batches too (SPEC section 4, R11). Each
  issuance claims its block in ``ledger_serial_blocks`` in the same transaction as its events.
- The database is the final guard: PostgreSQL with an exclusion constraint (btree_gist), SQLite
  with a trigger (SQLite runs one writer at a time). A check inside the same transaction names
  the earlier batch first; a lost race still fails on the constraint. Either way nothing is
  written and a RuleViolationError is raised.
- On PostgreSQL, claim writers first lock the claim table (SHARE ROW EXCLUSIVE, which only
  claim writers take): concurrent inserts into an exclusion constraint otherwise deadlock, and
  with the lock the loser's check sees the winner and names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from eventsourcing.utils import get_topic
from sqlalchemy.orm import Session

from ledger.domain.credit_batch import ISSUED
from ledger.domain.values import SerialRange
from ledger.errors import RuleViolationError

__all__ = ["ClaimIndex", "SerialClaim", "serial_claims"]

_TABLE = "ledger_serial_blocks"
_SQLITE_GUARD = f"""
CREATE TRIGGER IF NOT EXISTS {_TABLE}_no_overlap BEFORE INSERT ON {_TABLE}
WHEN EXISTS (SELECT 1 FROM {_TABLE} AS b WHERE b.registry = NEW.registry
             AND b.serial_start <= NEW.serial_end AND NEW.serial_start <= b.serial_end)
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


def serial_claims(events: Iterable[Any]) -> list[SerialClaim]:
    """The serial blocks that ``events`` (pending domain events) claim."""
    return [
        SerialClaim(e.registry, SerialRange(e.serial_start, e.serial_end), str(e.originator_id))
        for e in events
        if get_topic(type(e)) == ISSUED
    ]


class ClaimIndex:
    """The claim tables of one ledger database (and PostgreSQL schema)."""

    def __init__(self, engine: sa.Engine, schema: str | None) -> None:
        metadata = sa.MetaData(schema=schema)
        self.blocks = sa.Table(
            _TABLE,
            metadata,
            sa.Column("registry", sa.Text, primary_key=True),
            sa.Column("serial_start", sa.BigInteger, primary_key=True),
            sa.Column("serial_end", sa.BigInteger, nullable=False),
            sa.Column("batch", sa.Text, nullable=False),
        )
        self._install(engine, metadata)

    def _install(self, engine: sa.Engine, metadata: sa.MetaData) -> None:
        with engine.begin() as connection:
            metadata.create_all(connection, checkfirst=True)
            if engine.dialect.name == "sqlite":
                connection.execute(sa.text(_SQLITE_GUARD))
            elif engine.dialect.name == "postgresql":
                self._install_postgres(connection)

    def _install_postgres(self, connection: sa.Connection) -> None:
        exists = connection.execute(
            sa.text(
                "SELECT 1 FROM pg_constraint"
                " WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
            ),
            {"name": f"{_TABLE}_no_overlap", "table": self._qualified()},
        ).first()
        if exists is None:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
            connection.execute(
                sa.text(_POSTGRES_GUARD.format(table=self._qualified(), name=_TABLE))
            )

    def _qualified(self) -> str:
        schema = self.blocks.schema
        return f'"{schema}".{_TABLE}' if schema else _TABLE

    def claim(self, session: Session, claims: Sequence[SerialClaim]) -> None:
        """Record ``claims`` in the session's transaction, or raise RuleViolationError."""
        if claims and session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text(f"LOCK TABLE {self._qualified()} IN SHARE ROW EXCLUSIVE MODE"))
        for claim in claims:
            earlier = self.overlapping(session, claim.registry, claim.serials)
            if earlier is not None:
                raise _overlap(claim, earlier)
            try:
                session.execute(
                    self.blocks.insert().values(
                        registry=claim.registry,
                        serial_start=claim.serials.start,
                        serial_end=claim.serials.end,
                        batch=claim.batch,
                    )
                )
            except sa.exc.IntegrityError as e:
                raise _overlap(claim, "written concurrently by another writer") from e

    def overlapping(
        self, session: Session | sa.Connection, registry: str, serials: SerialRange
    ) -> str | None:
        """The batch whose block of ``registry`` overlaps ``serials``, if any."""
        blocks = self.blocks.c
        found = session.execute(
            sa.select(blocks.batch, blocks.serial_start, blocks.serial_end)
            .where(blocks.registry == registry)
            .where(blocks.serial_start <= serials.end)
            .where(blocks.serial_end >= serials.start)
            .limit(1)
        ).first()
        return None if found is None else f"batch {found[0]} ({found[1]}-{found[2]})"


def _overlap(claim: SerialClaim, earlier: str) -> RuleViolationError:
    return RuleViolationError(
        f"serials {claim.serials} of registry {claim.registry!r} overlap {earlier};"
        " serial blocks of one registry never overlap",
        rule="R11",
    )
