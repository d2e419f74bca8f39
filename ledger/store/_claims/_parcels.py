"""Parcel claims: a land or sea area used once is used once, forever (R9).

Rules:
- Every parcel id is claimed once, by one sink project or one credited batch, ever: the primary
  key of ``ledger_parcels`` enforces it.
- A parcel whose area overlaps (shares interior with) a claimed area is refused, whatever its
  id. The check runs inside the writing transaction while the claim lock is held, so
  concurrent writers are serialized by the database and cannot both pass it.
- A sink project is bound to one event: the primary key of ``ledger_sink_event_bindings``,
  which holds the event's id (how bindings are looked up) and its label (how the project's
  removals batches name the event, compared when one is issued).
- A store written before bindings held the event id has ``ledger_sink_bindings`` (project,
  label) instead: :meth:`Parcels.adopt_legacy_bindings` moves its rows over once, reading the
  id from each label, and drops it. Claims are derived data: the audit re-derives them from the
  signed history and compares, so nothing is trusted from the old rows.
- Refusals name the earlier project (or batch) and the event it backs.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from ledger.domain.parcels import Parcel, geometry_digest
from ledger.domain.sink_project import event_id_of
from ledger.errors import RuleViolationError
from ledger.store._claims._geometry import area_of, bounds, interiors_overlap

__all__ = ["Binding", "ParcelClaim", "Parcels", "SourceClaim"]


@attrs.frozen
class ParcelClaim:
    """A claim on one parcel by a sink project or a credit batch."""

    parcel: Parcel
    owner_kind: str
    owner: str


@attrs.frozen
class SourceClaim:
    """A removals batch's claim that its sink project registered its parcels and backs its event."""

    project: str
    event: str | None
    parcels: tuple[tuple[str, str | None], ...]  # (id, digest of the registered geometry)
    batch: str


@attrs.frozen
class Binding:
    """A sink project bound to the one event it neutralizes: the event's id and label."""

    project: str
    event_id: str
    event_label: str


LEGACY_BINDINGS = "ledger_sink_bindings"
"""The binding table of stores written before bindings held the event id."""


class Parcels:
    """The tables of claimed parcels and of sink-project bindings."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.table = sa.Table(
            "ledger_parcels",
            metadata,
            sa.Column("parcel_id", sa.Text, primary_key=True),
            sa.Column("owner_kind", sa.Text, nullable=False),
            sa.Column("owner", sa.Text, nullable=False),
            sa.Column("geometry", sa.Text),
            *(sa.Column(name, sa.Float) for name in ("min_x", "min_y", "max_x", "max_y")),
        )
        self.bindings = sa.Table(
            "ledger_sink_event_bindings",
            metadata,
            sa.Column("project", sa.Text, primary_key=True),
            sa.Column("event_id", sa.Text, nullable=False, index=True),
            sa.Column("event_label", sa.Text, nullable=False),
        )
        self._schema = metadata.schema

    def has_legacy_bindings(self, engine: sa.Engine) -> bool:
        """Whether the store still has a pre-id ``ledger_sink_bindings`` table."""
        with engine.connect() as connection:
            return sa.inspect(connection).has_table(LEGACY_BINDINGS, schema=self._schema)

    def adopt_legacy_bindings(self, connection: sa.Connection) -> None:
        """Move the rows of a pre-id ``ledger_sink_bindings`` table over, once, and drop it.

        Call with the claim lock held, so two processes opening one old store do it once.
        """
        if not sa.inspect(connection).has_table(LEGACY_BINDINGS, schema=self._schema):
            return
        legacy = sa.Table(
            LEGACY_BINDINGS,
            sa.MetaData(schema=self._schema),
            sa.Column("project", sa.Text, primary_key=True),
            sa.Column("event", sa.Text, nullable=False),
        )
        rows = [
            {"project": project, "event_id": str(event_id_of(label)), "event_label": label}
            for project, label in connection.execute(sa.select(legacy.c.project, legacy.c.event))
        ]
        if rows:
            connection.execute(self.bindings.insert(), rows)
        legacy.drop(connection)

    def claim(self, connection: sa.Connection, claim: ParcelClaim) -> None:
        """Insert ``claim`` or raise RuleViolationError naming the earlier claim."""
        parcel = claim.parcel
        c = self.table.c
        found = connection.execute(
            sa.select(c.owner_kind, c.owner).where(c.parcel_id == parcel.id)
        ).first()
        if found is not None:
            raise self._refusal(connection, f"parcel {parcel.id!r} is already used", *found)
        box: tuple[float | None, ...] = (None,) * 4
        if parcel.geometry is not None:
            area = area_of(parcel.id, parcel.geometry)
            self._refuse_overlaps(connection, parcel.id, area)
            box = bounds(area)
        values = dict(zip(("min_x", "min_y", "max_x", "max_y"), box, strict=True))
        row = {"parcel_id": parcel.id, "owner_kind": claim.owner_kind, "owner": claim.owner}
        try:
            connection.execute(
                self.table.insert().values(**row, geometry=parcel.geometry, **values)
            )
        except sa.exc.IntegrityError as e:
            raise RuleViolationError(
                f"parcel {parcel.id!r} was claimed concurrently by another writer", rule="R9"
            ) from e

    def bind(self, connection: sa.Connection, binding: Binding) -> None:
        """Record that a project backs an event, once."""
        try:
            connection.execute(
                self.bindings.insert().values(
                    project=binding.project,
                    event_id=binding.event_id,
                    event_label=binding.event_label,
                )
            )
        except sa.exc.IntegrityError as e:
            raise RuleViolationError(
                f"sink project {binding.project} is already bound to an event", rule="R9"
            ) from e

    def check_source(self, connection: sa.Connection, source: SourceClaim) -> None:
        """Refuse a removals batch unless its project registered its parcels and backs its event."""
        bound = connection.execute(
            sa.select(self.bindings.c.event_label).where(self.bindings.c.project == source.project)
        ).scalar()
        if bound is None or bound != source.event:
            raise RuleViolationError(
                f"batch {source.batch} holds removals of sink project {source.project}, which"
                f" is not bound to {source.event!r}",
                rule="R9",
            )
        c = self.table.c
        for parcel_id, digest in source.parcels:
            found = connection.execute(
                sa.select(c.owner_kind, c.owner, c.geometry).where(c.parcel_id == parcel_id)
            ).first()
            if found is None or (found[0], found[1]) != ("sink project", source.project):
                raise RuleViolationError(
                    f"batch {source.batch} credits parcel {parcel_id!r}, which sink project"
                    f" {source.project} did not register",
                    rule="R9",
                )
            if geometry_digest(found[2]) != digest:
                raise RuleViolationError(
                    f"batch {source.batch} names parcel {parcel_id!r} with digest {digest}, not"
                    " the digest of the area its sink project registered",
                    rule="R9",
                )

    def _refuse_overlaps(
        self, connection: sa.Connection, parcel_id: str, area: BaseGeometry
    ) -> None:
        c = self.table.c
        min_x, min_y, max_x, max_y = bounds(area)
        candidates = connection.execute(
            sa.select(c.parcel_id, c.geometry, c.owner_kind, c.owner)
            .where(c.geometry.is_not(None))
            .where(c.min_x <= max_x, c.max_x >= min_x, c.min_y <= max_y, c.max_y >= min_y)
        )
        for other_id, geometry, owner_kind, owner in candidates:
            if interiors_overlap(area, area_of(other_id, geometry)):
                problem = f"the area of parcel {parcel_id!r} overlaps parcel {other_id!r}"
                raise self._refusal(connection, problem, owner_kind, owner)

    def _refusal(
        self, connection: sa.Connection, problem: str, owner_kind: str, owner: str
    ) -> RuleViolationError:
        event = connection.execute(
            sa.select(self.bindings.c.event_label).where(self.bindings.c.project == owner)
        ).scalar()
        backing = f", which backs event {event!r}" if event else ""
        return RuleViolationError(
            f"{problem} of {owner_kind} {owner}{backing}; an area used once is never used"
            " again, under any id or mechanism",
            rule="R9",
        )
