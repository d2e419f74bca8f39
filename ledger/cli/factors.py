"""``ledger factors``: the emission factor table an accounting would use (R6).

Rules: the shipped table, or the shipped table with a user table laid over it (``--table``);
every factor is shown with its unit, year, reference and whether it was checked against its
source; a bad table is one line of error, exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from ledger.accounting import Factor, FactorTable
from ledger.cli._common import fail
from ledger.cli._tables import JSON, echo_json, print_table
from ledger.errors import LedgerError

__all__ = ["COMMANDS", "factors"]


@click.command()
@click.option(
    "--table",
    "table_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A user factor table (JSON) laid over the shipped one.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "text", "json"]),
    default="table",
    help="table (default; text is the same) or json.",
)
@JSON
def factors(table_file: Path | None, form: str, as_json: bool) -> None:
    """List the emission factors (R6), each with its source and whether it was checked."""
    try:
        table = FactorTable.load(table_file) if table_file else FactorTable.default()
    except LedgerError as e:
        fail(str(e), 2)
    rows = list(table)
    if form == "json" or as_json:
        echo_json({"factors": [_json(factor) for factor in rows]})
        return
    print_table(
        ["id", "kg CO2e", "per", "year", "checked", "reference"],
        ([f.id, f.factor, f.unit, f.year, "checked" if f.checked else "UNCHECKED", f.reference]
         for f in rows),
    )  # fmt: skip
    unchecked = [factor.id for factor in rows if not factor.checked]
    click.echo(
        f"{len(rows)} factors, {len(rows) - len(unchecked)} checked against a source", err=True
    )


def _json(factor: Factor) -> dict[str, object]:
    return {
        "id": factor.id,
        "source": factor.source,
        "unit": factor.unit,
        "factor": str(factor.factor),
        "year": factor.year,
        "reference": factor.reference,
        "checked": factor.checked,
        "check": factor.check,
    }


COMMANDS = (factors,)
