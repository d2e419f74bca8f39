"""``ledger export``, ``import`` and ``import-batches``: the signed history and CSV batches.

Rules: an import writes everything or nothing (a refused file names its bad rows); an export
file is whole (ending with its signed checkpoint) or absent.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from ledger.audit import KeyDirectory
from ledger.cli._common import counted, existing, fail, load_key, load_root, open_ledger, progress
from ledger.cli._output import FORCE, refuse_existing
from ledger.errors import LedgerError

__all__ = ["COMMANDS"]


@click.command("export")
@click.argument("database")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@FORCE
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def export_(database: str, out: Path, force: bool, schema: str | None) -> None:
    """Write a store's whole signed history as JSON Lines (OUT may be -).

    The file is written beside OUT under a temporary name and renamed when complete, so OUT
    is either the whole history, ending with its signed checkpoint, or not there at all. An
    existing OUT is never overwritten without --force.
    """
    if str(out) != "-":
        refuse_existing(out, force)
    try:
        with open_ledger(existing(database), schema=schema) as ledger:

            def write(file: IO[str]) -> int:
                return ledger.export_history(file, progress("exported"))

            count = write(sys.stdout) if str(out) == "-" else _atomically(out, write)
    except LedgerError as e:
        fail(f"export failed, nothing written: {e}", 1)
    click.echo(f"exported {counted(count, 'signed event')}", err=True)


def _atomically(out: Path, write: Callable[[IO[str]], int]) -> int:
    """Run ``write`` on a temporary file beside ``out``; rename it to ``out`` only if it ends."""
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            count = write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(name, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return count


@click.command("import")
@click.argument("database")
@click.argument("history", type=click.File("rb"))
@click.option(
    "--trust",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Trust root file you trust (default: the history's own first root).",
)
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def import_(database: str, history: IO[bytes], trust: Path | None, schema: str | None) -> None:
    """Import an exported history into an empty store (SQLite path or PostgreSQL URL).

    Every entry is replayed first (signatures by log position, chains, every rule, every
    claim) and the file must end with a signed checkpoint of all of it.
    """
    trusted = None if trust is None else load_root(trust)
    try:
        with open_ledger(database, KeyDirectory(), schema=schema, create=True) as ledger:
            count = ledger.import_history(history, progress("verified"), trusted)
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
