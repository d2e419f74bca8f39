"""``ledger holdings``, ``batches``, ``batch show`` and ``provenance``: read, write nothing.

Rules: every query opens an existing store (a missing one is exit code 2), folds what it
shows from the verified history in memory (no read model is created or updated in the store),
and prints a table with headers, or JSON (camelCase) with ``--json``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from ledger.cli._common import (
    DATABASE,
    SCHEMA,
    DatabaseCommand,
    DatabaseGroup,
    open_ledger,
    run,
    serial_range,
)
from ledger.cli._tables import JSON, echo_json, print_record, print_table

if TYPE_CHECKING:
    from ledger import CreditBatch, Ledger, SerialRange

__all__ = ["COMMANDS", "batch_record"]


def batch_record(batch: CreditBatch) -> dict[str, Any]:
    """A batch as the query commands print it (camelCase JSON)."""
    unit = Decimal(batch.unit)
    return {
        "id": str(batch.id),
        "registry": batch.registry,
        "instrument": batch.instrument.value,
        "vintage": batch.vintage,
        "project": batch.project,
        "province": batch.province,
        "methodology": batch.methodology,
        "priorityRank": batch.priority_rank,
        "unit": str(unit),
        "serialStart": batch.serials.start,
        "serialEnd": batch.serials.end,
        "tonnes": str(unit * batch.serials.quantity),
        "sourceProject": batch.source_project,
        "boundEvent": batch.bound_event,
        "version": batch.version,
        "lots": [
            {
                "serialStart": lot.serials.start,
                "serialEnd": lot.serials.end,
                "units": lot.serials.quantity,
                "state": lot.state.value,
                "account": lot.account,
                "purpose": lot.purpose,
            }
            for lot in batch.lots()
        ],
    }


def _read(database: str, schema: str | None, query: Any) -> Any:
    def action() -> Any:
        with open_ledger(database, schema=schema) as ledger:
            return query(ledger)

    return run(action)


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("account", required=False)
@JSON
@SCHEMA
def holdings(database: str, account: str | None, as_json: bool, schema: str | None) -> None:
    """Units per account, batch and state (held, reserved, retired, exported).

    With ACCOUNT, only that account's rows.
    """

    def query(ledger: Ledger) -> list[dict[str, Any]]:
        units = {b.id: Decimal(b.unit) for b in ledger.batch_list()}
        instruments = {b.id: b.instrument.value for b in ledger.batch_list()}
        return [
            {
                "account": who,
                "batch": str(batch_id),
                "instrument": instruments[batch_id],
                "state": state,
                "units": count,
                "tonnes": str(units[batch_id] * count),
            }
            for who, batch_id, state, count in ledger.holdings(account)
        ]

    rows = _read(database, schema, query)
    if as_json:
        echo_json(rows)
        return
    print_table(
        ["account", "batch", "instrument", "state", "units", "tCO2e"],
        ([r["account"], r["batch"], r["instrument"], r["state"], r["units"], r["tonnes"]]
         for r in rows),
        empty=f"no units{'' if account is None else f' for {account}'}",
    )  # fmt: skip


@click.command(cls=DatabaseCommand)
@DATABASE
@JSON
@SCHEMA
def batches(database: str, as_json: bool, schema: str | None) -> None:
    """Every credit batch: instrument, vintage, project, serials and tonnes."""
    rows = _read(database, schema, lambda ledger: [batch_record(b) for b in ledger.batch_list()])
    if as_json:
        echo_json([{k: v for k, v in row.items() if k != "lots"} for row in rows])
        return
    print_table(
        ["id", "instrument", "vintage", "project", "province", "rank", "serials", "tCO2e"],
        ([r["id"], r["instrument"], r["vintage"], r["project"], r["province"],
          r["priorityRank"], f"{r['serialStart']}-{r['serialEnd']}", r["tonnes"]]
         for r in rows),
        empty="no batches",
    )  # fmt: skip


@click.group(cls=DatabaseGroup)
def batch() -> None:
    """One credit batch (``ledger batch show DB ID``)."""


@batch.command("show")
@DATABASE
@click.argument("batch_id", metavar="ID", type=click.UUID)
@JSON
@SCHEMA
def show(database: str, batch_id: UUID, as_json: bool, schema: str | None) -> None:
    """Print one batch: its facts and every run of units (lot) with its state and account."""
    record = _read(database, schema, lambda ledger: batch_record(ledger.batch(batch_id)))
    if as_json:
        echo_json(record)
        return
    print_record([(k, v) for k, v in record.items() if k != "lots"], title=f"batch {record['id']}")
    print_table(
        ["serials", "units", "state", "account", "purpose"],
        ([f"{lot['serialStart']}-{lot['serialEnd']}", lot["units"], lot["state"],
          lot["account"], lot["purpose"]] for lot in record["lots"]),
        title="lots",
    )  # fmt: skip


def _segments(ledger: Ledger, batch_id: UUID, serials: SerialRange) -> list[tuple[int, int]]:
    """``serials`` cut wherever an event of the batch starts or ends a serial range."""
    cuts = {serials.start, serials.end + 1}
    for entry in ledger.history(batch_id):
        event = entry.event
        if "serial_start" in event:
            cuts |= {event["serial_start"], event["serial_end"] + 1}
    points = sorted(c for c in cuts if serials.start <= c <= serials.end + 1)
    return list(zip(points, [p - 1 for p in points[1:]], strict=False))


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("batch_id", metavar="BATCH", type=click.UUID)
@click.argument("serials", metavar="SERIALS")
@JSON
@SCHEMA
def provenance(
    database: str, batch_id: UUID, serials: str, as_json: bool, schema: str | None
) -> None:
    """Every event in the life of the units SERIALS (N or START-END) of BATCH (R11).

    Units with the same life are shown together, with the signer and the entry hash of each
    step.
    """
    span = serial_range(serials if "-" in serials else f"{serials}-{serials}")

    def query(ledger: Ledger) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start, end in _segments(ledger, batch_id, span):
            steps = [
                {
                    "version": s.version,
                    "kind": s.kind,
                    "actor": s.actor,
                    "account": s.account,
                    "purpose": s.purpose,
                    "at": s.at,
                    "entry": s.entry,
                }
                for s in ledger.provenance(batch_id, start)
            ]
            if found and found[-1]["steps"] == steps:
                found[-1]["serialEnd"] = end
            else:
                found.append({"serialStart": start, "serialEnd": end, "steps": steps})
        return found

    lives = _read(database, schema, query)
    if as_json:
        echo_json({"batch": str(batch_id), "units": lives})
        return
    for life in lives:
        print_table(
            ["version", "kind", "actor", "account", "purpose", "at", "entry"],
            ([s["version"], s["kind"], s["actor"], s["account"], s["purpose"], s["at"],
              s["entry"]] for s in life["steps"]),
            title=f"serials {life['serialStart']}-{life['serialEnd']} of batch {batch_id}",
        )  # fmt: skip


COMMANDS = (holdings, batches, batch, provenance)
