"""Spreadsheet outputs: CSV with a UTF-8 byte order mark (Excel) and XLSX workbooks (openpyxl).

Rules: CSV text starts with U+FEFF so Excel reads it as UTF-8 (Chinese names intact); list
cells are JSON arrays. An XLSX workbook has one sheet per table with a bold header row, and is
written only to a named file (never over one without ``--force``); openpyxl is imported only
here, when a workbook is written.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ledger.cli._common import EXIT_USAGE, fail
from ledger.cli._output import write_output

__all__ = ["BOM", "Sheet", "csv_text", "emit_csv", "write_xlsx"]

BOM = "\ufeff"

#: (sheet name, headers, rows)
Sheet = tuple[str, Sequence[str], Sequence[Sequence[Any]]]


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The CSV text of ``rows`` under ``headers``, starting with a byte order mark."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return BOM + out.getvalue()


def emit_csv(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], out: Path | None, force: bool
) -> None:
    """Write the CSV (with BOM) to ``out``, or to stdout as UTF-8 bytes."""
    data = csv_text(headers, rows)
    if out is None:
        sys.stdout.buffer.write(data.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        write_output(out, data, force=force)
        click.echo(f"written to {out}", err=True)


def write_xlsx(out: Path | None, sheets: Sequence[Sheet], *, force: bool) -> None:
    """Write ``sheets`` as an XLSX workbook to ``out`` (required: a workbook is not text)."""
    if out is None:
        fail("an XLSX workbook is not printed; name a file with --out FILE.xlsx", EXIT_USAGE)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for name, headers, rows in sheets:
        sheet = book.create_sheet(name[:31])
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(v) for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                    cell.data_type = "s"  # text, never a formula (names come from users)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    write_output(out, buffer.getvalue(), force=force)
    click.echo(f"written to {out}", err=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
