"""``ledger audit``, ``disclosures`` and ``certificates``: read a whole store, write nothing.

Rules: a read command refuses a database that does not exist (exit 2) rather than create one.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from ledger.audit import KeyDirectory
from ledger.cli._common import (
    counted,
    existing,
    fail,
    load_checkpoint,
    load_root,
    open_ledger,
    progress,
)
from ledger.cli.render import render_certificate
from ledger.errors import LedgerError

__all__ = ["COMMANDS"]


@click.command()
@click.argument("database")
@click.option(
    "--trust",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust root file (root.json) you already trust (required; never read from the store).",
)
@click.option(
    "--checkpoint",
    "held",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The latest checkpoint you hold: a signed note, or a witness state file.",
)
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def audit(database: str, trust: Path, held: Path | None, schema: str | None) -> None:
    """Re-verify a whole store against the trust you bring: signatures, log, every rule."""
    database = existing(database)
    root = load_root(trust)
    checkpoint = None if held is None else load_checkpoint(held)
    try:
        with open_ledger(database, KeyDirectory(), schema=schema) as ledger:
            report = ledger.audit(root, checkpoint, progress())
    except LedgerError as e:
        fail(f"audit failed: {e}", 1)
    extends = "" if report.held is None else f"; extends your checkpoint of {report.held:,}"
    click.echo(
        f"OK: {counted(report.events, 'event')} of {counted(report.aggregates, 'aggregate')}"
        f" verified against trust root version {root.version}"
        f" ({counted(report.roots, 'version')} in the log);"
        f" {counted(report.checkpoints, 'signed checkpoint')}"
        f" {'matches' if report.checkpoints == 1 else 'match'} the log"
        f" (root {report.log_root[:16]}...); {counted(report.read_models, 'read model')}"
        f" {'equals' if report.read_models == 1 else 'equal'} the history{extends}"
    )


@click.command()
@click.argument("database")
@click.option("--format", "form", type=click.Choice(["json", "csv"]), default="json")
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def disclosures(database: str, form: str, schema: str | None) -> None:
    """Print the public disclosure register (R12) as JSON or CSV.

    It lists plans, commitments, evaluations, cancellations, R8 deviations and confirmations,
    and is brought up to date first.
    """
    try:
        with open_ledger(existing(database), schema=schema) as ledger:
            rows = ledger.disclosures()
    except LedgerError as e:
        fail(f"disclosure register failed: {e}", 1)
    if form == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    writer = csv.writer(sys.stdout)
    writer.writerow(["position", "kind", "subject", "version", "entry", "detail"])
    for row in rows:
        detail = json.dumps(row["detail"], sort_keys=True, ensure_ascii=False)
        writer.writerow(
            [row["position"], row["kind"], row["subject"], row["version"], row["entry"], detail]
        )


@click.command()
@click.argument("database")
@click.option("--format", "form", type=click.Choice(["json", "csv", "text"]), default="json")
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def certificates(database: str, form: str, schema: str | None) -> None:
    """Print every retirement certificate as JSON, CSV or readable text (R11)."""
    try:
        with open_ledger(existing(database), schema=schema) as ledger:
            rows = ledger.certificate_list()
    except LedgerError as e:
        fail(f"certificates failed: {e}", 1)
    if form == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if form == "text":
        click.echo("\n".join(render_certificate(row) for row in rows), nl=False)
        return
    columns = list(rows[0]) if rows else []
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [json.dumps(row[c]) if isinstance(row[c], list) else row[c] for c in columns]
        )


COMMANDS = (audit, disclosures, certificates)
