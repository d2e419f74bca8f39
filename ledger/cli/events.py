"""``ledger event ...``: an event's neutralization from the shell (R1-R8, R10; SPEC section 8).

Rules:
- Every command names its store and, when it acts, the private key file of the actor (the lead
  organiser, or a verifier for ``evaluate``); the ledger's clock is the real one, so a plan is
  published before the event starts and the accounting after it ends (R4, R6).
- Structured input (the event, a plan, accounting lines) is a JSON file; its numbers are read as
  exact decimals, never floats. Accounting lines name factors of the shipped table or of
  ``--table`` (R6).
- Output is one line, or the JSON asked for; an error is one line on stderr, exit code 1 (2 for
  unreadable input), and nothing written.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from ledger import Line, Organiser
from ledger.accounting import FactorTable
from ledger.audit import Signer, strict_json
from ledger.cli._common import (
    DATABASE,
    FILE,
    KEY,
    SCHEMA,
    DatabaseGroup,
    acting,
    counted,
    exact_tonnes,
    input_json,
    open_ledger,
    run,
    serial_range,
)
from ledger.cli._tables import JSON, echo_json, print_record, print_table
from ledger.errors import InvalidInputError

if TYPE_CHECKING:
    from ledger import Ledger

__all__ = ["COMMANDS", "event"]

_EVENT = click.argument("event_id", metavar="EVENT", type=click.UUID)


@click.group(cls=DatabaseGroup)
def event() -> None:
    """An event's neutralization: register, plan, measure, account, offset, confirm."""


def _time(data: dict[str, Any], field: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(data[field]))
    except (KeyError, ValueError) as e:
        raise InvalidInputError(
            f"the event's {field!r} is not an ISO 8601 time with offset: {e}", rule="R1"
        ) from e


def _organiser(data: Any) -> Organiser:
    if not isinstance(data, dict) or set(data) != {"name", "type"}:
        raise InvalidInputError(f"an organiser is {{'name', 'type'}}, got {data!r}", rule="R1")
    return Organiser(data["name"], data["type"])


@event.command("register")
@DATABASE
@KEY
@FILE
@SCHEMA
def register(database: str, key_file: Path, data_file: Path, schema: str | None) -> None:
    """Register an event (R1) from a JSON file; print its id and tier (R2)."""
    data = input_json(data_file)

    def act(ledger: Ledger, signer: Signer) -> tuple[UUID, str]:
        if not isinstance(data, dict):
            raise InvalidInputError("the event file is a JSON object", rule="R1")
        organisers = [_organiser(o) for o in data.get("organisers", [])]
        facts: dict[str, Any] = {k: data.get(k) for k in ("kind", "name", "venue", "participants")}
        event_id = ledger.register_event(
            signer, organisers=organisers, starts=_time(data, "starts"), ends=_time(data, "ends"),
            **facts,
        )  # fmt: skip
        return event_id, ledger.event(event_id).tier.value

    event_id, tier = acting(database, schema, key_file, act)
    click.echo(f"registered event {event_id} (tier {tier})")


@event.command("plan")
@DATABASE
@_EVENT
@KEY
@FILE
@SCHEMA
def plan(
    database: str, event_id: UUID, key_file: Path, data_file: Path, schema: str | None
) -> None:
    """Publish a plan version (R4): boundary, estimates, measures, offsets."""
    data = input_json(data_file)

    def act(ledger: Ledger, signer: Signer) -> int:
        if not isinstance(data, dict):
            raise InvalidInputError("the plan file is a JSON object", rule="R4")
        ledger.publish_plan(
            signer, event_id, boundary=data.get("boundary", []),
            estimates=data.get("estimates", {}), measures=data.get("measures", []),
            offsets=data.get("offsets", []),
        )  # fmt: skip
        return len(ledger.event(event_id).plans)

    click.echo(f"plan version {acting(database, schema, key_file, act)} published")


@event.command("measure")
@DATABASE
@_EVENT
@KEY
@click.option("--kind", required=True, help="R5 kind of measure.")
@click.option("--description", required=True)
@click.option("--expected", required=True, help="Expected effect, tCO2e.")
@SCHEMA
def measure(
    database: str, event_id: UUID, key_file: Path, kind: str, description: str, expected: str,
    schema: str | None,
) -> None:  # fmt: skip
    """Record a reduction measure and its expected effect (R5)."""

    def act(ledger: Ledger, signer: Signer) -> int:
        ledger.record_measure(
            signer,
            event_id,
            kind=kind,
            description=description,
            expected_tonnes=exact_tonnes(expected),
        )
        return len(ledger.event(event_id).measures)

    click.echo(f"measure {acting(database, schema, key_file, act)} recorded")


@event.command("achieved")
@DATABASE
@_EVENT
@click.argument("number", type=int)
@click.argument("tonnes")
@KEY
@SCHEMA
def achieved(
    database: str, event_id: UUID, number: int, tonnes: str, key_file: Path, schema: str | None
) -> None:
    """Record what measure NUMBER achieved, in tCO2e (R5)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.report_measure(
            signer, event_id, number=number, achieved_tonnes=exact_tonnes(tonnes)
        ),
    )  # fmt: skip
    click.echo(f"measure {number} achieved {tonnes} tCO2e")


@event.command("account")
@DATABASE
@_EVENT
@KEY
@FILE
@click.option(
    "--table",
    "table_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Your emission factor table, laid over the shipped one (R6).",
)
@SCHEMA
def account(
    database: str, event_id: UUID, key_file: Path, data_file: Path, table_file: Path | None,
    schema: str | None,
) -> None:  # fmt: skip
    """Account emissions after the event (R6) from {"lines": [{"factor", "activity"}]}."""
    data = input_json(data_file)

    def act(ledger: Ledger, signer: Signer) -> tuple[Decimal, int]:
        lines = _lines(data, FactorTable.load(table_file) if table_file else FactorTable.default())
        return ledger.account_emissions(signer, event_id, lines), len(lines)

    total, count = acting(database, schema, key_file, act)
    click.echo(f"accounted {total} tCO2e from {counted(count, 'line')}")


def _lines(data: Any, table: FactorTable) -> list[Line]:
    entries = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InvalidInputError(
            'an accounting file is {"lines": [{"factor": ID, "activity": AMOUNT}]}', rule="R6"
        )
    lines = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != {"factor", "activity"}:
            raise InvalidInputError(f"line {number} has exactly 'factor' and 'activity'", rule="R6")
        activity = entry["activity"]
        amount = (
            strict_json.decimal_text(f"line {number} activity", activity, rule="R6")
            if isinstance(activity, str)
            else activity
        )
        lines.append(table[entry["factor"]].line(amount))
    return lines


@event.command("allocate")
@DATABASE
@_EVENT
@click.argument("batch", type=click.UUID)
@KEY
@click.option("--serials", required=True, help="START-END, inclusive.")
@click.option("--reason", default=None, help="Why a lower R8 priority rank is used.")
@SCHEMA
def allocate(
    database: str, event_id: UUID, batch: UUID, key_file: Path, serials: str,
    reason: str | None, schema: str | None,
) -> None:  # fmt: skip
    """Reserve units of BATCH for the event and allocate them (R7, R8)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.allocate_offsets(
            signer, event_id, batch, serial_range(serials), reason=reason
        ),
    )  # fmt: skip
    click.echo(f"allocated {serials} of {batch}")


@event.command("retire")
@DATABASE
@_EVENT
@KEY
@SCHEMA
def retire(database: str, event_id: UUID, key_file: Path, schema: str | None) -> None:
    """Retire every open allocation for the event; print the certificates (R7, R11)."""
    certificates = acting(
        database, schema, key_file,
        lambda ledger, signer: [c.to_json() for c in ledger.retire_offsets(signer, event_id)],
    )  # fmt: skip
    echo_json(certificates)


@event.command("commit")
@DATABASE
@_EVENT
@KEY
@SCHEMA
def commit(database: str, event_id: UUID, key_file: Path, schema: str | None) -> None:
    """Sign the organiser's self-commitment with every R3 field; print it."""
    statement = acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.commit_neutrality(signer, event_id),
    )  # fmt: skip
    echo_json(statement)


@event.command("evaluate")
@DATABASE
@_EVENT
@KEY
@click.option("--conclusion", required=True, type=click.Choice(["neutral", "not-neutral"]))
@click.option("--verified-tonnes", "verified", required=True, help="Verified emissions, tCO2e.")
@click.option("--report", required=True, help="The evaluation report's reference.")
@SCHEMA
def evaluate(
    database: str, event_id: UUID, key_file: Path, conclusion: str, verified: str, report: str,
    schema: str | None,
) -> None:  # fmt: skip
    """As a certified verifier, sign an evaluation of the event (R2)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.evaluate_event(
            signer, event_id, conclusion=conclusion, verified_tonnes=exact_tonnes(verified),
            report=report,
        ),
    )  # fmt: skip
    click.echo(f"evaluation recorded: {conclusion}, {verified} tCO2e verified")


@event.command("confirm")
@DATABASE
@_EVENT
@KEY
@SCHEMA
def confirm(database: str, event_id: UUID, key_file: Path, schema: str | None) -> None:
    """Confirm the event's neutrality (accounted, offset, confirmed as its tier needs)."""

    def act(ledger: Ledger, signer: Signer) -> str:
        ledger.confirm_event(signer, event_id)
        confirmed = ledger.event(event_id).confirmed_on
        return confirmed.isoformat() if confirmed else ""

    click.echo(f"neutrality confirmed on {acting(database, schema, key_file, act)}")


@event.command("show")
@DATABASE
@_EVENT
@JSON
@SCHEMA
def show(database: str, event_id: UUID, as_json: bool, schema: str | None) -> None:
    """Print the event's record and its R10 deadlines: tables, or JSON with --json."""

    def act() -> dict[str, Any]:
        with open_ledger(database, schema=schema) as ledger:
            return _record(ledger, event_id)

    record = run(act)
    if as_json:
        echo_json(record)
        return
    commitment = record["commitment"]
    print_record(
        [
            ("id", record["id"]), ("name", record["name"]), ("tier", record["tier"]),
            ("participants", record["participants"]), ("phase", record["phase"]),
            ("plans", len(record["plans"])), ("measures", len(record["measures"])),
            ("accountings", len(record["accountings"])),
            ("committed", "no" if commitment is None else "yes"),
            ("confirmed on", record["confirmedOn"]),
        ],
        title=f"event {record['id']}",
    )  # fmt: skip
    print_table(
        ["batch", "serials", "tCO2e", "rank", "deviation"],
        ([a["batch"], f"{a['serials']['start']}-{a['serials']['end']}", a["tonnes"], a["rank"],
          a["reason"] or ""] for a in record["allocations"]),
        title="allocations", empty="no allocations",
    )  # fmt: skip
    print_table(
        ["what", "due", "state"],
        ([d["what"], d["due"], d["state"]] for d in record["deadlines"]),
        title="deadlines", empty="no deadlines",
    )  # fmt: skip


def _record(ledger: Ledger, event_id: UUID) -> dict[str, Any]:
    e = ledger.event(event_id)
    records = e.records()
    return {
        "id": str(event_id), "name": e.name, "tier": e.tier.value, "participants": e.participants,
        **records, "commitment": (records["commitment"] or {}).get("statement"),
        "confirmedOn": e.confirmed_on,
        "deadlines": [
            {"what": d.what, "due": d.due, "state": state.value}
            for d, state in ledger.event_deadlines(event_id)
        ],
    }  # fmt: skip


COMMANDS = (event,)
