"""The ``ledger`` command line (also ``python -m ledger``).

Rules: an error is one clear line on stderr and a non-zero exit (1: a proof or a command was
rejected; 2: bad usage or unreadable input); a failed command changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from ledger._cli_common import fail
from ledger._cli_events import event
from ledger._cli_factors import factors
from ledger._cli_ops import register_commands
from ledger._cli_setup import key, root
from ledger._cli_sinks import sink
from ledger._demo import DemoResult, run_demo
from ledger._ledger import Ledger
from ledger._render import render_certificate
from ledger.accounting import FactorTable
from ledger.audit import _strict_json as strict_json
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.proof import verify_proof
from ledger.audit.trust import TrustRoot
from ledger.errors import LedgerError, MalformedInputError, ProofError

__all__ = ["cli", "main"]


@click.group()
@click.version_option(package_name="ledger")
def cli() -> None:
    """Event-sourced, signed carbon offset and retirement ledger."""


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="New or empty folder for the demo (default: ./ledger-demo-<time>).",
)
def demo(folder: Path | None) -> None:
    """Run a 1,200-participant forum's neutralization end to end; write its proof."""
    if folder is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder = Path.cwd() / f"ledger-demo-{stamp}"
    try:
        result = run_demo(folder)
    except LedgerError as e:
        fail(f"demo failed: {e}", 1)
    _summary(result)


def _summary(result: DemoResult) -> None:
    event, certs = result.event, result.certificates
    accounting = event.accountings[-1]
    click.echo(f"Ledger demo in {result.folder} (SQLite; simulated dates, real signatures)")
    click.echo(
        f"  event        {event.name}: {event.kind}, {event.participants:,} participants,"
        f" tier {event.tier.value}"
    )
    click.echo(
        f"  plan         version {len(event.plans)}, {len(event.plans[-1]['boundary'])} sources,"
        f" {len(event.measures)} reduction measures"
    )
    click.echo(
        f"  accounted    {accounting['total']} tCO2e from {len(accounting['lines'])} activity lines"
    )
    click.echo(f"  factors      {_checked_factors(accounting['lines'])}")
    for allocation, cert in zip(event.allocations, certs, strict=True):
        note = f"; deviation: {allocation['reason']}" if allocation["deviation"] else ""
        click.echo(
            f"  retired      {cert.tonnes} t {cert.instrument} ({cert.province}, R8 rank"
            f" {cert.priority_rank}){note}"
        )
    evaluation = event.evaluation or {}
    click.echo(
        f"  confirmed    {event.confirmed_on} on the evaluation of {evaluation.get('verifier')}"
    )
    click.echo(f"  deadline     R10 neutralization {result.deadline}")
    click.echo(
        f"  proof        {result.entries} signed entries in a cosigned checkpoint of"
        f" {result.tree_size} -> proof.json (verified); event.json, certificate.json"
    )
    click.echo(f"Verify it: ledger verify {result.proof_path} --trust {result.root_path}")


@cli.command()
@click.argument("proof_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--trust",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust root file (root.json) you already trust (required).",
)
def verify(proof_file: Path, trust: Path) -> None:
    """Verify a retirement proof offline; exit 0 if it holds, 1 with the reason if not."""
    proof = _read_json(proof_file)
    try:
        root = TrustRoot.from_json(_read_json(trust, "cannot use trust root:", 2))
    except LedgerError as e:
        fail(f"cannot use trust root {trust}: {e}", 2)
    try:
        verify_proof(proof, root)
    except ProofError as e:
        fail(f"proof rejected: {e}", 1)
    cert = proof["certificate"]
    click.echo(
        f"OK: {cert['tonnes']} t ({cert['quantity']:,} units) of batch {cert['batch']} (serials"
        f" {cert['serialStart']}-{cert['serialEnd']}) retired for {_retired_for(cert)}; "
        f"{len(proof['entries'])} signed entries included in the cosigned checkpoint"
    )
    if proof["event"] is not None:
        last = proof["event"]["entries"][-1]["envelope"]["payloadType"]
        confirmed = "confirmed" if last.endswith(".confirmed.v1+json") else "NOT yet confirmed"
        click.echo(f"event: its neutrality is {confirmed} in its own signed record")


@cli.command()
@click.argument("database")
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def audit(database: str, schema: str | None) -> None:
    """Re-verify a whole store: signatures, chains, log, checkpoints and every rule."""
    try:
        with Ledger(_existing(database), schema=schema) as ledger:
            report = ledger.audit(_progress())
    except LedgerError as e:
        fail(f"audit failed: {e}", 1)
    click.echo(
        f"OK: {report.events:,} events of {report.aggregates:,} aggregates verified;"
        f" {report.checkpoints} signed checkpoints match the log (root {report.log_root[:16]}...)"
    )


@cli.command("export")
@click.argument("database")
@click.argument("out", type=click.File("w", encoding="utf-8"))
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def export_(database: str, out: IO[str], schema: str | None) -> None:
    """Write a store's whole signed history as JSON Lines (OUT may be -)."""
    try:
        with Ledger(_existing(database), schema=schema) as ledger:
            count = ledger.export_history(out, _progress("exported"))
    except LedgerError as e:
        fail(f"export failed: {e}", 1)
    click.echo(f"exported {count:,} signed events", err=True)


@cli.command("import")
@click.argument("database")
@click.argument("history", type=click.File("rb"))
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def import_(database: str, history: IO[bytes], schema: str | None) -> None:
    """Import an exported history into an empty store (SQLite path or PostgreSQL URL)."""
    try:
        with Ledger(database, KeyDirectory(), schema=schema) as ledger:
            count = ledger.import_history(history, _progress("verified"))
    except LedgerError as e:
        fail(f"import failed, nothing written: {e}", 1)
    click.echo(f"imported {count:,} signed events; run `ledger audit` to re-verify them")


@cli.command("import-batches")
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
        registry = Signer.from_json(_read_json(key_file, "import failed:"))
        with Ledger(_existing(database), schema=schema) as ledger:
            ids = ledger.import_batches_csv(registry, csv_file)
    except LedgerError as e:
        fail(f"import failed: {e}", 1)
    click.echo(f"issued {len(ids)} batches")


@cli.command()
@click.argument("database")
@click.option("--format", "form", type=click.Choice(["json", "csv"]), default="json")
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def disclosures(database: str, form: str, schema: str | None) -> None:
    """Print the public disclosure register (R12) as JSON or CSV.

    It lists plans, commitments, evaluations, cancellations, R8 deviations and confirmations,
    and is brought up to date first.
    """
    try:
        with Ledger(_existing(database), schema=schema) as ledger:
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


@cli.command()
@click.argument("database")
@click.option("--format", "form", type=click.Choice(["json", "csv", "text"]), default="json")
@click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
def certificates(database: str, form: str, schema: str | None) -> None:
    """Print every retirement certificate as JSON, CSV or readable text (R11)."""
    try:
        with Ledger(_existing(database), schema=schema) as ledger:
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


def _retired_for(cert: dict[str, Any]) -> str:
    named = [f"event {cert['eventName']!r}"] if cert.get("eventName") else []
    if cert.get("beneficiary"):
        named.append(f"beneficiary {cert['beneficiary']!r}")
    return " and ".join(named) or "no named event or beneficiary"


def _checked_factors(lines: list[dict[str, Any]]) -> str:
    shipped = {factor.reference: factor for factor in FactorTable.default()}
    used = [shipped.get(line["factor_source"]) for line in lines]
    checked = sum(1 for factor in used if factor is not None and factor.checked)
    return f"{checked} of {len(used)} lines at shipped factors checked against their sources"


def _progress(verb: str = "audited") -> Callable[[int, int], None] | None:
    """A progress reporter on a terminal's stderr (None when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        if done == total or done % 1000 == 0:
            end = "\n" if done == total else ""
            click.echo(f"\r{verb} {done:,} of {total:,} events", err=True, nl=False)
            click.echo(end, err=True, nl=False)

    return report


def _existing(database: str) -> str:
    """``database`` itself, if it is a URL or an existing file; else fail with exit code 2."""
    if "://" not in database and not Path(database).is_file():
        fail(f"no ledger database at {database}", 2)
    return database


def _read_json(path: Path, failure: str = "proof rejected:", code: int = 1) -> Any:
    """A JSON file read strictly; unreadable: exit 2; not strict JSON: ``failure``, ``code``."""
    try:
        return strict_json.loads(path.read_bytes(), source=str(path))
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}", 2)
    except MalformedInputError as e:
        fail(f"{failure} {e}", code)


register_commands(cli)
cli.add_command(factors)
cli.add_command(event)
cli.add_command(sink)
cli.add_command(key)
cli.add_command(root)


def main() -> None:
    """Entry point of the ``ledger`` command."""
    cli(prog_name="ledger")
