"""Read models checked against the signed history (SPEC 5a; issue 11, case 8).

Rules:
- A read model kept in the store's own tables is a cache that only the store vouches for. What
  the ledger prints or publishes (:func:`fresh`) is folded again from the verified history, in
  an in-memory database, so a row edited with SQL is never shown as true.
- The audit (:func:`check_read_models`) rebuilds each known read model the store keeps, in
  memory, up to the position the store says it reached, and compares every row; the first row
  that differs is named with its table. Tables holding rows with no position, or a position
  outside the log, are named too. Nothing is written to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ledger.errors import AuditError
from ledger.projections.reports import CertificateView, DeadlineReport, ParcelUsage
from ledger.projections.runner import Projection, ProjectionRunner
from ledger.projections.views import DisclosureRegister, SerialUnits
from ledger.store import Store, compare_rows, row_order

__all__ = ["READ_MODELS", "check_read_models", "fresh"]

READ_MODELS: tuple[Callable[[], Projection], ...] = (
    SerialUnits,
    DisclosureRegister,
    CertificateView,
    ParcelUsage,
    DeadlineReport,
)


def fresh(store: Store, projection: Projection, until: int | None = None) -> ProjectionRunner:
    """``projection`` folded from the verified history in a new in-memory database."""
    runner = ProjectionRunner(store, projection, engine=sa.create_engine("sqlite://"))
    runner.catch_up(page=500, until=until)
    return runner


def check_read_models(store: Store) -> int:
    """Compare every read model the store keeps with the history; how many were compared.

    Raises:
        AuditError: naming the read model, its table and the first row that differs.
    """
    positions = _positions(store)
    newest = store.max_notification_id()
    compared = 0
    for make in READ_MODELS:
        projection = make()
        kept = _stored(store, make())
        position = positions.get(projection.name)
        if position is None:
            if any(kept.values()):
                raise AuditError(
                    f"read model {projection.name}: its tables hold rows but the store keeps no"
                    " position for it (edited?)"
                )
            continue
        if not 0 <= position <= newest:
            raise AuditError(
                f"read model {projection.name}: its position {position} is not in the log"
                f" (1 to {newest})"
            )
        rebuilt = fresh(store, projection, position).snapshot()
        compare_rows(f"read model {projection.name}:", kept, rebuilt)
        compared += 1
    return compared


def _positions(store: Store) -> dict[str, int]:
    inspector = sa.inspect(store.engine)
    if not inspector.has_table("ledger_projection_positions", schema=store.schema):
        return {}
    table = sa.Table(
        "ledger_projection_positions",
        sa.MetaData(schema=store.schema),
        sa.Column("projection", sa.Text),
        sa.Column("position", sa.BigInteger),
    )
    with store.read() as connection:
        return {str(n): int(p) for n, p in connection.execute(sa.select(table))}


def _stored(store: Store, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    tables = projection.define(sa.MetaData(schema=store.schema))
    inspector = sa.inspect(store.engine)
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as connection:
        for table in tables:
            if not inspector.has_table(table.name, schema=store.schema):
                found[table.name] = []
                continue
            rows = connection.execute(sa.select(table))
            found[table.name] = sorted((tuple(row) for row in rows), key=row_order)
    return found
