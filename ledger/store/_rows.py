"""Comparing tables kept in the store with the same tables made again from the signed history.

Rules: rows are compared as whole tuples, per table, counting duplicates; the first row kept
but not made ("in the store but the signed history does not make it") or made but not kept
("missing from the store") is named with its table, by its first four columns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ledger.errors import AuditError

__all__ = ["Rows", "compare_rows", "row_order"]

Rows = dict[str, list[tuple[Any, ...]]]


def row_order(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """A sort key for table rows whose columns may hold NULL (None sorts last)."""
    return tuple((value is None, "" if value is None else value) for value in row)


def compare_rows(what: str, kept: Rows, made: Rows) -> None:
    """Raise AuditError naming the first row of ``what`` that differs between the two."""
    for table, rows in made.items():
        made_count, kept_count = Counter(rows), Counter(kept.get(table, []))
        for row, count in kept_count.items():
            if count > made_count[row]:
                raise AuditError(
                    f"{what} table {table}: row {_short(row)} is in the store but the signed"
                    " history does not make it (edited?)"
                )
        for row, count in made_count.items():
            if count > kept_count[row]:
                raise AuditError(
                    f"{what} table {table}: row {_short(row)} made by the signed history is"
                    " missing from the store"
                )


def _short(row: tuple[Any, ...]) -> str:
    return "(" + ", ".join(str(value)[:40] for value in row[:4]) + ")"
