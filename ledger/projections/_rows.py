"""Set-based row writes for the read models: many rows in one driver ``executemany``.

Rules: the INSERT is compiled once by SQLAlchemy for the connection's dialect (so table names,
schemas and the driver's parameter style are its own); the rows are then handed to the
driver as they are, in the connection's transaction. The read models' columns are text and
integers, which need no conversion on either backend, so SQLAlchemy's per-row parameter
processing (most of the cost of a large ``executemany`` through it) is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["insert_many"]


def insert_many(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement."""
    if not rows:
        return
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=connection.dialect, column_keys=keys)
    if compiled.positional:
        order = compiled.positiontup or []
        connection.exec_driver_sql(compiled.string, [tuple(row[k] for k in order) for row in rows])
    else:
        connection.exec_driver_sql(compiled.string, [dict(row) for row in rows])
