"""``ledger sink ...``: forest and marine sink projects from the shell (R7, R9, R10).

Rules:
- A project is registered by its developer from a JSON file (parcel ids, optional GeoJSON areas
  with exact decimal coordinates); a parcel or an overlapping area used by an earlier project
  is refused (R9), and so is a second binding to an event.
- ``bind`` ties the project to the one event it neutralizes, named by the event's id; the
  milestones (application, validation, measurement) are dated today or a past ``--on`` date
  (R10); the registry issues measured removals as a batch retirable only for that event (R7).
- Output is one line, or the JSON asked for; an error is one line on stderr, exit code 1 (2 for
  unreadable input), and nothing written.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from ledger import Parcel
from ledger.audit import Signer
from ledger.cli._common import (
    DATABASE,
    FILE,
    KEY,
    SCHEMA,
    DatabaseGroup,
    acting,
    exact_tonnes,
    input_json,
    open_ledger,
    run,
    serial_range,
)
from ledger.cli._tables import JSON, echo_json, print_record, print_table
from ledger.errors import InvalidInputError

__all__ = ["COMMANDS", "sink"]

_PROJECT = click.argument("project", type=click.UUID)
_ON = click.option(
    "--on", "on", default=None, type=click.DateTime(["%Y-%m-%d"]), help="Date (default: today)."
)

if TYPE_CHECKING:
    from ledger import Ledger


@click.group(cls=DatabaseGroup)
def sink() -> None:
    """Forest and marine sink projects: register, bind to an event, milestones, issuance."""


def _day(value: datetime.datetime | None) -> datetime.date | None:
    return value.date() if value is not None else None


@sink.command("register")
@DATABASE
@KEY
@FILE
@SCHEMA
def register(database: str, key_file: Path, data_file: Path, schema: str | None) -> None:
    """Register a sink project from a JSON file (R9); print its id."""
    data = input_json(data_file)

    def act(ledger: Ledger, signer: Signer) -> UUID:
        facts = _project(data)
        return ledger.register_sink_project(signer, **facts)

    click.echo(f"registered sink project {acting(database, schema, key_file, act)}")


def _project(data: Any) -> dict[str, Any]:
    fields = {"name", "ecosystem", "parcels", "areaHectares", "expectedRemovals"}
    fields |= {"creditingStart", "creditingEnd"}
    if not isinstance(data, dict) or set(data) != fields:
        raise InvalidInputError(f"a project file has exactly {sorted(fields)}", rule="R9")
    parcels = data["parcels"]
    if not isinstance(parcels, list) or not all(isinstance(p, dict) for p in parcels):
        raise InvalidInputError('parcels are [{"id": ..., "geometry": ...}]', rule="R9")
    try:
        period = [
            datetime.date.fromisoformat(str(data[k])) for k in ("creditingStart", "creditingEnd")
        ]
    except ValueError as e:
        raise InvalidInputError(f"a crediting date is not YYYY-MM-DD: {e}") from e
    return {
        "name": data["name"],
        "ecosystem": data["ecosystem"],
        "parcels": [Parcel.of(p.get("id"), p.get("geometry")) for p in parcels],
        "area_hectares": data["areaHectares"],
        "expected_removals": data["expectedRemovals"],
        "crediting_start": period[0],
        "crediting_end": period[1],
    }


@sink.command("bind")
@DATABASE
@_PROJECT
@KEY
@click.option("--event", "event_id", required=True, type=click.UUID, help="The event's id.")
@SCHEMA
def bind(database: str, project: UUID, key_file: Path, event_id: UUID, schema: str | None) -> None:
    """Bind the project to the one event it neutralizes (R9: once, forever)."""

    def act(ledger: Ledger, signer: Signer) -> str:
        ledger.bind_sink_project(signer, project, event_id=event_id)
        return ledger.event(event_id).label

    click.echo(f"sink project {project} bound to {acting(database, schema, key_file, act)}")


@sink.command("file")
@DATABASE
@_PROJECT
@KEY
@_ON
@SCHEMA
def file_application(
    database: str, project: UUID, key_file: Path, on: datetime.datetime | None, schema: str | None
) -> None:
    """As the developer, record the project application as filed (R10)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.file_sink_application(signer, project, on=_day(on)),
    )  # fmt: skip
    click.echo(f"application of sink project {project} filed")


@sink.command("validate")
@DATABASE
@_PROJECT
@KEY
@_ON
@SCHEMA
def validate(
    database: str, project: UUID, key_file: Path, on: datetime.datetime | None, schema: str | None
) -> None:
    """As a verifier, record the project's validation as complete (R10)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.validate_sink_project(signer, project, on=_day(on)),
    )  # fmt: skip
    click.echo(f"sink project {project} validated")


@sink.command("measure")
@DATABASE
@_PROJECT
@click.argument("tonnes")
@KEY
@_ON
@SCHEMA
def measure(
    database: str, project: UUID, tonnes: str, key_file: Path, on: datetime.datetime | None,
    schema: str | None,
) -> None:  # fmt: skip
    """As a verifier, record the removals measured, in tCO2e (R10)."""
    acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.measure_sink_removals(
            signer, project, tonnes=exact_tonnes(tonnes), on=_day(on)
        ),
    )  # fmt: skip
    click.echo(f"sink project {project}: {tonnes} tCO2e removals measured")


@sink.command("issue")
@DATABASE
@_PROJECT
@KEY
@click.option("--serials", required=True, help="START-END, inclusive.")
@click.option("--holder", required=True, help="The account that receives the units.")
@click.option("--methodology", required=True)
@click.option("--unit", default="1", help="tCO2e per serial unit.")
@SCHEMA
def issue(
    database: str, project: UUID, key_file: Path, serials: str, holder: str, methodology: str,
    unit: str, schema: str | None,
) -> None:  # fmt: skip
    """As the registry, issue measured removals as a batch for the bound event only (R7, R9)."""
    batch = acting(
        database, schema, key_file,
        lambda ledger, signer: ledger.issue_sink_removals(
            signer, project, serials=serial_range(serials), holder=holder, methodology=methodology,
            unit=exact_tonnes(unit),
        ),
    )  # fmt: skip
    click.echo(f"issued batch {batch}")


@sink.command("show")
@DATABASE
@_PROJECT
@JSON
@SCHEMA
def show(database: str, project: UUID, as_json: bool, schema: str | None) -> None:
    """Print the project's record and its R10 deadlines: tables, or JSON with --json."""

    def act() -> dict[str, Any]:
        with open_ledger(database, schema=schema) as ledger:
            p = ledger.sink_project(project)
            deadlines = ledger.sink_deadlines(project)
        return {
            "id": str(project), "name": p.name, "ecosystem": p.ecosystem.value,
            "developer": p.developer, "parcels": [x.to_json() for x in p.parcels],
            "event": p.event_name,
            "eventId": None if p.event_id is None else str(p.event_id),
            "measuredRemovals": p.measured_removals,
            "issuedRemovals": p.issued_removals,
            "deadlines": [
                {"what": d.what, "due": d.due, "done": d.done, "state": s.value}
                for d, s in deadlines
            ],
        }  # fmt: skip

    record = run(act)
    if as_json:
        echo_json(record)
        return
    print_record(
        [(k, v) for k, v in record.items() if k not in ("parcels", "deadlines")],
        title=f"sink project {record['id']}",
    )
    print_table(
        ["parcel", "detail"],
        ([p.get("id", ""), {k: v for k, v in p.items() if k != "id"}] for p in record["parcels"]),
        title="parcels",
        empty="no parcels",
    )
    print_table(
        ["what", "due", "done", "state"],
        ([d["what"], d["due"], d["done"], d["state"]] for d in record["deadlines"]),
        title="deadlines",
        empty="no deadlines",
    )


COMMANDS = (sink,)
