"""Read models checked against the signed history (SPEC 5a; issue 11, case 8).

Rules:
- A read model kept in the store's own tables is a cache that only the store vouches for. What
  the ledger prints or publishes (:func:`fresh`) is folded again from the verified history, in
  an in-memory database, so a row edited with SQL is never shown as true.
- The audit (:func:`check_read_models`) rebuilds every known read model the store keeps, in
  one pass over the history (:func:`~ledger.projections.runner.rebuild`) into a scratch SQLite
  file (so memory does not grow with the read models), each up to the position the store says
  it reached, and compares every row; the first row that differs is named with its table.
  Tables holding rows with no position, or a position outside the log, are named too. Nothing
  is written to the store.
- :func:`fresh` and :func:`fresh_all` fold read models in memory the same way (one pass).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ledger.errors import AuditError
from ledger.projections.reports import CertificateView, DeadlineReport, ParcelUsage
from ledger.projections.runner import Projection, ProjectionRunner, rebuild
from ledger.projections.views import DisclosureRegister, SerialUnits
from ledger.store import Store, compare_rows, row_order

__all__ = ["READ_MODELS", "check_read_models", "fresh", "fresh_all"]

READ_MODELS: tuple[Callable[[], Projection], ...] = (
    SerialUnits,
    DisclosureRegister,
    CertificateView,
    ParcelUsage,
    DeadlineReport,
)


def fresh(store: Store, projection: Projection, until: int | None = None) -> ProjectionRunner:
    """``projection`` folded from the verified history in a new in-memory database."""
    limits = None if until is None else {projection.name: until}
    return rebuild(store, [projection], _memory(), limits)[0]


def fresh_all(
    store: Store, projections: Sequence[Projection] | None = None
) -> list[ProjectionRunner]:
    """Every read model (or ``projections``) folded in one pass into one in-memory database."""
    made = [make() for make in READ_MODELS] if projections is None else list(projections)
    return rebuild(store, made, _memory())


def _memory() -> sa.Engine:
    return sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)


def check_read_models(store: Store) -> int:
    """Compare every read model the store keeps with the history; how many were compared.

    Raises:
        AuditError: naming the read model, its table and the first row that differs.
    """
    positions = _positions(store)
    newest = store.max_notification_id()
    wanted: list[Projection] = []
    kept: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    refused: AuditError | None = None  # raised after the read models before it are compared
    for make in READ_MODELS:
        projection = make()
        kept[projection.name] = _stored(store, make())
        position = positions.get(projection.name)
        if position is None:
            if any(kept[projection.name].values()):
                refused = AuditError(
                    f"read model {projection.name}: its tables hold rows but the store keeps no"
                    " position for it (edited?)"
                )
                break
            continue
        if not 0 <= position <= newest:
            refused = AuditError(
                f"read model {projection.name}: its position {position} is not in the log"
                f" (1 to {newest})"
            )
            break
        wanted.append(projection)
    if wanted:
        _compare(store, wanted, kept, positions)
    if refused is not None:
        raise refused
    return len(wanted)


def _compare(
    store: Store,
    wanted: list[Projection],
    kept: dict[str, dict[str, list[tuple[Any, ...]]]],
    positions: dict[str, int],
) -> None:
    with tempfile.TemporaryDirectory(prefix="ledger-read-models-") as folder:
        engine = sa.create_engine(f"sqlite:///{Path(folder) / 'models.db'}")
        try:
            until = {p.name: positions[p.name] for p in wanted}
            for runner in rebuild(store, wanted, engine, until):
                name = runner.projection.name
                compare_rows(f"read model {name}:", kept[name], runner.snapshot())
        finally:
            engine.dispose()


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
