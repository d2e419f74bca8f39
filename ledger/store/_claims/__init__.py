"""Database-enforced claims: facts that must stay unique across aggregates and writers.

Rules:
- Claims are derived from the events being saved (:func:`claims_for`) and written in the same
  transaction as those events, so a refused claim writes no event and vice versa.
- Claim writers first take the claim lock (an update of the one row of ``ledger_claim_lock``),
  so on SQLite and PostgreSQL alike they run one at a time, and each check sees every earlier
  claim. Primary keys and constraints remain the final guard.
- Serial blocks: :mod:`ledger.store._claims._serials`; parcels and bindings (keyed on the
  event id; a pre-id binding table is adopted on opening): :mod:`ledger.store._claims._parcels`.
  A batch of a sink project's removals claims no parcel of its own: the project must be
  registered with every parcel the batch names and bound to the event the batch names (R9),
  checked the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import attrs
import sqlalchemy as sa
from eventsourcing.utils import get_topic

from ledger.domain import credit_batch as cb
from ledger.domain import sink_project as sp
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange
from ledger.store._claims._parcels import Binding, ParcelClaim, Parcels, SourceClaim
from ledger.store._claims._serials import SerialBlocks, SerialClaim, serial_overlap
from ledger.store._rows import row_order

__all__ = ["ClaimIndex", "Claims", "claims_for"]


@attrs.frozen
class Claims:
    """What one save claims."""

    serials: list[SerialClaim] = attrs.Factory(list)
    parcels: list[ParcelClaim] = attrs.Factory(list)
    bindings: list[Binding] = attrs.Factory(list)
    sources: list[SourceClaim] = attrs.Factory(list)

    def __bool__(self) -> bool:
        return bool(self.serials or self.parcels or self.bindings or self.sources)


def claims_for(events: Iterable[Any]) -> Claims:
    """The claims that ``events`` (pending domain events) make."""
    found = Claims()
    for e in events:
        topic, owner = get_topic(type(e)), str(e.originator_id)
        if topic == cb.ISSUED:
            span = SerialRange(e.serial_start, e.serial_end)
            found.serials.append(SerialClaim(e.registry, span, owner))
            if e.source_project is None:
                found.parcels.extend(_parcels(e.parcels, "credit batch", owner))
            else:
                named = [Parcel.from_json(parcel) for parcel in e.parcels]
                refs = tuple((parcel.id, parcel.digest) for parcel in named)
                found.sources.append(SourceClaim(str(e.source_project), e.bound_event, refs, owner))
        elif topic == sp.REGISTERED:
            found.parcels.extend(_parcels(e.parcels, "sink project", owner))
        elif topic == sp.BOUND:
            found.bindings.append(Binding(owner, str(e.event_id), e.event_name))
    return found


def _parcels(parcels: list[dict[str, Any]], kind: str, owner: str) -> list[ParcelClaim]:
    return [ParcelClaim(Parcel.from_json(parcel), kind, owner) for parcel in parcels]


class ClaimIndex:
    """The claim tables of one ledger database (and PostgreSQL schema)."""

    def __init__(self, engine: sa.Engine, schema: str | None) -> None:
        metadata = sa.MetaData(schema=schema)
        self.lock = sa.Table(
            "ledger_claim_lock", metadata, sa.Column("id", sa.Integer, primary_key=True)
        )
        self.serials = SerialBlocks(metadata)
        self.parcels = Parcels(metadata)
        with engine.begin() as connection:
            metadata.create_all(connection, checkfirst=True)
            self.serials.install_guard(connection)
        try:
            with engine.begin() as connection:
                if connection.execute(sa.select(self.lock.c.id)).first() is None:
                    connection.execute(self.lock.insert().values(id=1))
        except sa.exc.IntegrityError:
            pass  # another process made the lock row first
        if self.parcels.has_legacy_bindings(engine):
            with engine.begin() as connection:
                self.take_lock(connection)
                self.parcels.adopt_legacy_bindings(connection)

    def claim(self, connection: sa.Connection, claims: Claims) -> None:
        """Write ``claims`` in the connection's transaction, or raise RuleViolationError."""
        self.take_lock(connection)
        for serial in claims.serials:
            self.serials.claim(connection, serial)
        self._claim_parcels(connection, claims)

    def take_lock(self, connection: sa.Connection) -> None:
        """Take the claim lock for the rest of the connection's transaction."""
        connection.execute(self.lock.update().values(id=self.lock.c.id))

    def claim_many(self, connection: sa.Connection, claims: Claims) -> None:
        """Bulk :meth:`claim` for a write of many events (an import), same rules and errors.

        Serial blocks are checked against the store in one query per registry
        (:meth:`SerialBlocks.overlaps`) and inserted in one statement; parcels, bindings and
        sources are claimed one by one as :meth:`claim` does. Blocks of the same call are not
        checked against each other here (the caller did; the guard still refuses an overlap).
        """
        self.take_lock(connection)
        registries = sorted({serial.registry for serial in claims.serials})
        for registry in registries:
            mine = [(n, s) for n, s in enumerate(claims.serials) if s.registry == registry]
            found = self.serials.overlaps(connection, registry, [(n, s.serials) for n, s in mine])
            if found:
                first = min(found)
                raise serial_overlap(claims.serials[first], found[first])
        self.serials.insert_many(connection, claims.serials)
        self._claim_parcels(connection, claims)

    def _claim_parcels(self, connection: sa.Connection, claims: Claims) -> None:
        """The parcels, bindings and sources of ``claims``, one by one (R9)."""
        for parcel in claims.parcels:
            self.parcels.claim(connection, parcel)
        for binding in claims.bindings:
            self.parcels.bind(connection, binding)
        for source in claims.sources:
            self.parcels.check_source(connection, source)

    def rows(self, connection: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the claim tables, sorted, by table name (to compare two indexes)."""
        tables = (self.serials.table, self.parcels.table, self.parcels.bindings)
        return {
            table.name: sorted(
                (tuple(row) for row in connection.execute(sa.select(table))), key=row_order
            )
            for table in tables
        }

    def bound_projects(self, connection: sa.Connection, event_id: UUID) -> list[str]:
        """Ids of the sink projects bound to the event ``event_id`` (R9)."""
        bindings = self.parcels.bindings
        rows = connection.execute(
            sa.select(bindings.c.project).where(bindings.c.event_id == str(event_id))
        )
        return [str(row[0]) for row in rows]
