"""``ledger export``, ``import`` and ``import-batches``: the signed history and CSV batches.

Rules: an import writes everything or nothing (a refused file names its bad rows).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click

from ledger.audit import KeyDirectory
from ledger.cli._common import counted, existing, fail, load_key, open_ledger, progress
from ledger.cli._output import FORCE, output_file, refuse_existing
from ledger.errors import LedgerError

__all__ = ["COMMANDS"]


@click.command("export")
@click.argument("database")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@FORCE
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def export_(database: str, out: Path, force: bool, schema: str | None) -> None:
    """Write a store's whole signed history as JSON Lines (OUT may be -).

    An existing OUT is never overwritten without --force.
    """
    if str(out) != "-":
        refuse_existing(out, force)
    try:
        with open_ledger(existing(database), schema=schema) as ledger:
            if str(out) == "-":
                count = ledger.export_history(sys.stdout, progress("exported"))
            else:
                with output_file(out, force=force) as handle:
                    count = ledger.export_history(handle, progress("exported"))
    except LedgerError as e:
        fail(f"export failed: {e}", 1)
    click.echo(f"exported {counted(count, 'signed event')}", err=True)


@click.command("import")
@click.argument("database")
@click.argument("history", type=click.File("rb"))
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def import_(database: str, history: IO[bytes], schema: str | None) -> None:
    """Import an exported history into an empty store (SQLite path or PostgreSQL URL)."""
    try:
        with open_ledger(database, KeyDirectory(), schema=schema, create=True) as ledger:
            count = ledger.import_history(history, progress("verified"))
    except LedgerError as e:
        fail(f"import failed, nothing written: {e}", 1)
    click.echo(f"imported {count:,} signed events; run `ledger audit` to re-verify them")


@click.command("import-batches")
@click.argument("database")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The issuing registry's private key file.",
)
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def import_batches(database: str, csv_file: IO[str], key_file: Path, schema: str | None) -> None:
    """Issue credit batches from a CSV file: every row valid, or nothing written."""
    try:
        registry = load_key(key_file)
        with open_ledger(existing(database), schema=schema) as ledger:
            ids = ledger.import_batches_csv(registry, csv_file)
    except LedgerError as e:
        fail(f"import failed: {e}", 1)
    click.echo(f"issued {len(ids)} batches")


COMMANDS = (export_, import_, import_batches)
