"""``ledger audit``, ``disclosures`` and ``certificates``: read a whole store, write nothing.

Rules: a read command refuses a database that does not exist (exit 2) rather than create one;
it prints a table for people, or ``--json`` (camelCase), CSV (UTF-8 with a byte order mark) or
an XLSX workbook (``--out FILE``) where asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ledger.audit import KeyDirectory
from ledger.cli._common import (
    DATABASE,
    SCHEMA,
    DatabaseCommand,
    counted,
    existing,
    load_checkpoint,
    load_root,
    open_ledger,
    progress,
    run,
)
from ledger.cli._output import FORCE, refuse_existing
from ledger.cli._sheets import emit_csv, write_xlsx
from ledger.cli._tables import JSON, echo_json, print_table, text
from ledger.cli.render import render_certificate

__all__ = ["COMMANDS"]

OUT = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write CSV or XLSX to this file (XLSX needs it).",
)


def _format(form: str, as_json: bool) -> str:
    return "json" if as_json else form


@click.command(cls=DatabaseCommand)
@DATABASE
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
@JSON
@SCHEMA
def audit(database: str, trust: Path, held: Path | None, as_json: bool, schema: str | None) -> None:
    """Re-verify a whole store against the trust you bring: signatures, log, every rule."""
    database = existing(database)
    root = load_root(trust)
    checkpoint = None if held is None else load_checkpoint(held)

    def action() -> Any:
        with open_ledger(database, KeyDirectory(), schema=schema) as ledger, progress() as bar:
            return ledger.audit(root, checkpoint, bar)

    report = run(action, "audit failed: ")
    if as_json:
        echo_json(
            {
                "ok": True,
                "events": report.events,
                "aggregates": report.aggregates,
                "trustRootVersion": root.version,
                "trustRootVersions": report.roots,
                "checkpoints": report.checkpoints,
                "logRoot": report.log_root,
                "readModels": report.read_models,
                "extendsCheckpoint": report.held,
            }
        )
        return
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


_REGISTER = ["position", "kind", "subject", "version", "entry", "detail"]


def _summary(detail: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {text(v)}" for k, v in detail.items())


@click.command(cls=DatabaseCommand)
@DATABASE
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    help="table (default), json, csv (UTF-8 with BOM) or xlsx (needs --out).",
)
@JSON
@OUT
@FORCE
@SCHEMA
def disclosures(
    database: str, form: str, as_json: bool, out: Path | None, force: bool, schema: str | None
) -> None:
    """Print the public disclosure register (R12): a table, JSON, CSV or XLSX.

    It lists plans, commitments, evaluations, confirmations, R8 deviations, retirements (with
    tonnes, instrument and serials) and exports, folded afresh from the verified history.
    """
    form = _format(form, as_json)
    if out is not None:
        refuse_existing(out, force)

    def action() -> list[dict[str, Any]]:
        with open_ledger(existing(database), schema=schema) as ledger:
            return ledger.disclosures()

    rows = run(action, "disclosure register failed: ")
    if form == "json":
        echo_json(rows)
        return
    flat = [
        [r["position"], r["kind"], r["subject"], r["version"], r["entry"],
         json.dumps(r["detail"], sort_keys=True, ensure_ascii=False)]
        for r in rows
    ]  # fmt: skip
    if form == "csv":
        emit_csv(_REGISTER, flat, out, force)
    elif form == "xlsx":
        write_xlsx(out, [("register", _REGISTER, flat)], force=force)
    else:
        print_table(
            ["position", "kind", "subject", "version", "detail", "entry"],
            ([r["position"], r["kind"], r["subject"], r["version"], _summary(r["detail"]),
              r["entry"][:16]] for r in rows),
            empty="nothing disclosed yet",
        )  # fmt: skip


@click.command(cls=DatabaseCommand)
@DATABASE
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "json", "csv", "xlsx", "text"]),
    default="table",
    help="table (default), json, csv (UTF-8 with BOM), xlsx (needs --out) or text.",
)
@JSON
@OUT
@FORCE
@SCHEMA
def certificates(
    database: str, form: str, as_json: bool, out: Path | None, force: bool, schema: str | None
) -> None:
    """Print every retirement certificate: a table, JSON, CSV, XLSX or readable text (R11)."""
    form = _format(form, as_json)
    if out is not None:
        refuse_existing(out, force)

    def action() -> list[dict[str, Any]]:
        with open_ledger(existing(database), schema=schema) as ledger:
            return ledger.certificate_list()

    rows = run(action, "certificates failed: ")
    if form == "json":
        echo_json(rows)
        return
    if form == "text":
        click.echo("\n".join(render_certificate(row) for row in rows), nl=False)
        return
    columns = list(rows[0]) if rows else []
    flat = [
        [json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], list) else row[c]
         for c in columns]
        for row in rows
    ]  # fmt: skip
    if form == "csv":
        emit_csv(columns, flat, out, force)
    elif form == "xlsx":
        write_xlsx(out, [("certificates", columns, flat)], force=force)
    else:
        print_table(
            ["id", "instrument", "tonnes", "serials", "beneficiary", "retired at", "by"],
            ([r["id"], r["instrument"], r["tonnes"], f"{r['serialStart']}-{r['serialEnd']}",
              r["beneficiary"], r["retiredAt"], r["retiredBy"]] for r in rows),
            empty="no certificates yet",
        )  # fmt: skip


COMMANDS = (audit, disclosures, certificates)
