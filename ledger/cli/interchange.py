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
from typing import IO, Any

import click

from ledger.audit import KeyDirectory
from ledger.cli._common import (
    DATABASE,
    SCHEMA,
    DatabaseCommand,
    confirm,
    counted,
    existing,
    load_key,
    load_root,
    open_ledger,
    progress,
    run,
    sqlite_file,
)
from ledger.cli._output import FORCE, refuse_existing

__all__ = ["COMMANDS"]


@click.command("export", cls=DatabaseCommand)
@DATABASE
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@FORCE
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed off a terminal).")
@click.option("--dry-run", is_flag=True, help="Read and count the history; write nothing.")
@SCHEMA
def export_(
    database: str, out: Path, force: bool, yes: bool, dry_run: bool, schema: str | None
) -> None:
    """Write a store's whole signed history as JSON Lines (OUT may be -).

    The file is written beside OUT under a temporary name and renamed when complete, so OUT
    is either the whole history, ending with its signed checkpoint, or not there at all. An
    existing OUT is never overwritten without --force. Writing a file asks first on a terminal
    (--yes skips the question; off a terminal --yes is required); --dry-run reads the whole
    history as an export would and says what it would write, writing nothing.
    """
    to_file = str(out) != "-"
    if to_file:
        refuse_existing(out, force)
    database = existing(database)
    if dry_run:
        with open(os.devnull, "w", encoding="utf-8") as sink:
            count = _export(database, schema, sink)
        where = "stdout" if not to_file else str(out)
        click.echo(f"would export {counted(count, 'signed event')} to {where}; nothing written")
        return
    if to_file:
        confirm(f"Write the whole signed history to {out}?", yes=yes, what="exported")
    if to_file:
        count = _atomically(out, lambda file: _export(database, schema, file))
    else:
        count = _export(database, schema, sys.stdout)
    click.echo(f"exported {counted(count, 'signed event')}", err=True)


def _export(database: str, schema: str | None, file: IO[str]) -> int:
    """Write the history to ``file``; a LedgerError is one line (nothing written), its code."""

    def action() -> int:
        with open_ledger(database, schema=schema) as ledger, progress("exported") as bar:
            return ledger.export_history(file, bar)

    return run(action, "export failed, nothing written: ")


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


@click.command("import", cls=DatabaseCommand)
@DATABASE
@click.argument("history", type=click.File("rb"))
@click.option(
    "--trust",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Trust root file you trust (default: the history's own first root).",
)
@SCHEMA
def import_(database: str, history: IO[bytes], trust: Path | None, schema: str | None) -> None:
    """Import an exported history into an empty store (SQLite path or PostgreSQL URL).

    Every entry is replayed first (signatures by log position, chains, every rule, every
    claim) and the file must end with a signed checkpoint of all of it.
    """
    trusted = None if trust is None else load_root(trust)
    created = _new_sqlite_file(database)

    def action() -> int:
        with (
            open_ledger(database, KeyDirectory(), schema=schema, create=True) as ledger,
            progress("verified") as bar,
        ):
            return ledger.import_history(history, bar, trusted)

    try:
        count = run(action, "import failed, nothing written: ")
    except SystemExit:
        if created is not None:  # a failed import leaves no empty store behind
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{created}{suffix}").unlink(missing_ok=True)
        raise
    click.echo(f"imported {count:,} signed events; run `ledger audit` to re-verify them")


def _new_sqlite_file(database: str) -> Path | None:
    """The SQLite file an import would create (None if it exists or is a server URL)."""
    path = sqlite_file(database)
    return None if path is None or path.exists() else path


@click.command("import-batches", cls=DatabaseCommand)
@DATABASE
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The issuing registry's private key file.",
)
@SCHEMA
def import_batches(database: str, csv_file: IO[str], key_file: Path, schema: str | None) -> None:
    """Issue credit batches from a CSV file: every row valid, or nothing written."""

    def action() -> list[Any]:
        registry = load_key(key_file)
        with open_ledger(existing(database), schema=schema) as ledger:
            return list(ledger.import_batches_csv(registry, csv_file))

    ids = run(action, "import failed: ")
    click.echo(f"issued {len(ids)} batches")


COMMANDS = (export_, import_, import_batches)
