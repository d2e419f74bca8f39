"""How read commands print: JSON (one naming convention, camelCase) or rich tables for people.

Rules:
- Every JSON output of the command line uses camelCase member names (``serialStart``,
  ``eventName``), as certificates and proofs do; :func:`camel` renames a snake_case record.
- The human-readable form is a table with headers (rich); rich is imported only here, when a
  table is printed, so ``ledger verify`` and ``ledger --help`` never load it.
- Values are shown as text: None as an empty cell, decimals and dates as written.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import click

__all__ = ["JSON", "camel", "echo_json", "print_record", "print_table", "text"]

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (camelCase members).")

_SNAKE = re.compile(r"_([a-z0-9])")


def camel(value: Any) -> Any:
    """``value`` with every dict key in snake_case renamed to camelCase, at every depth."""
    if isinstance(value, dict):
        return {
            (_SNAKE.sub(lambda m: m.group(1).upper(), k) if isinstance(k, str) else k): camel(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [camel(v) for v in value]
    return value


def _default(value: object) -> str:
    if isinstance(value, Decimal | datetime.date | datetime.datetime):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON with camelCase members."""
    click.echo(json.dumps(camel(value), indent=2, ensure_ascii=False, default=_default))


def text(value: Any) -> str:
    """A cell's text: empty for None, lists joined with commas, JSON for dicts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)
    if isinstance(value, Decimal | datetime.date | datetime.datetime | str | int | float):
        return str(value)
    return _default(value)


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    empty: str = "nothing to show",
) -> None:
    """Print ``rows`` as a table with ``headers`` (rich), or the ``empty`` line if none."""
    rows = list(rows)
    if not rows:
        click.echo(empty)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=None if title is None else Text(title), box=box.SIMPLE_HEAD, title_justify="left"
    )
    for header in headers:
        table.add_column(Text(header), overflow="fold")
    for row in rows:  # Text, never markup: a name like "[event ...]" is shown as written
        table.add_row(*(Text(text(cell)) for cell in row))
    wide = None if sys.stdout.isatty() else 1000  # a pipe or a file: never fold cells
    Console(width=wide, soft_wrap=False, highlight=False).print(table)


def print_record(fields: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """Print one record as a two-column table (field, value)."""
    print_table(["field", "value"], fields, title=title)
