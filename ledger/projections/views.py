"""Read models: the serial-unit registry, holdings, and the public disclosure register.

Rules (R11, R12):
- Serial units: one row per run of units in one state, per batch, kept with the domain's own
  :class:`~ledger.domain.UnitMap` rules; holdings per account are sums over it; and one
  history row per event that moved units, so every unit's life is a query (R11).
- Disclosure register: every published plan, commitment, evaluation, confirmation, R8
  deviation, retirement and export, with the entry hash that proves it. A retirement or an
  export names its instrument, serials, units and tonnes (units x the batch's unit size), kept
  from the batch's issuance. Member names of ``detail`` are camelCase, as in every JSON output.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ledger.audit.envelope import Entry
from ledger.domain import credit_batch as cb
from ledger.domain import event_neutralization as en
from ledger.domain._units import Lot, UnitMap, UnitState
from ledger.domain.values import SerialRange
from ledger.projections.provenance import kind_of

__all__ = ["DisclosureRegister", "SerialUnits"]

_STATE = {
    cb.TRANSFERRED: UnitState.HELD,
    cb.DONATED: UnitState.HELD,
    cb.RESERVED: UnitState.RESERVED,
    cb.RELEASED: UnitState.HELD,
    cb.RETIRED: UnitState.RETIRED,
    cb.EXPORTED: UnitState.EXPORTED,
}


class SerialUnits:
    """The serial-unit registry: every run of units of every batch, its state and account."""

    name = "serial-units"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """One table of lots."""
        self.lots = sa.Table(
            "ledger_view_lots",
            metadata,
            sa.Column("batch", sa.Text, primary_key=True),
            sa.Column("serial_start", sa.BigInteger, primary_key=True),
            sa.Column("serial_end", sa.BigInteger, nullable=False),
            sa.Column("state", sa.Text, nullable=False),
            sa.Column("account", sa.Text, nullable=False),
            sa.Column("purpose", sa.Text),
        )
        self.history = sa.Table(
            "ledger_view_unit_history",
            metadata,
            sa.Column("batch", sa.Text, primary_key=True),
            sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("serial_start", sa.BigInteger, nullable=False),
            sa.Column("serial_end", sa.BigInteger, nullable=False),
            sa.Column("account", sa.Text, nullable=False),
            sa.Column("entry", sa.Text, nullable=False),
        )
        return [self.lots, self.history]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Re-divide the lots the event touches, and note the step in the history.

        Only the rows of the lots the event's units fall in are read, deleted and written
        again, so an event costs the same however many lots its batch has.
        """
        self._note(connection, entry)
        event, batch = entry.event, entry.aggregate
        if entry.topic == cb.ISSUED:
            touched = UnitMap(())
            units = UnitMap.issued(
                SerialRange(event["serial_start"], event["serial_end"]), event["holder"]
            )
        elif entry.topic == cb.SPLIT:
            touched = self._load(connection, batch, SerialRange(event["at"], event["at"]))
            units = touched.split(event["at"])
        elif entry.topic in _STATE:
            span = SerialRange(event["serial_start"], event["serial_end"])
            account = event.get("to") or event["actor"]
            purpose = event.get("event_name") if entry.topic != cb.RELEASED else None
            purpose = event.get("target_registry", purpose)
            touched = self._load(connection, batch, span)
            units = touched.assign(span, _STATE[entry.topic], account, purpose)
        else:
            return
        self._replace(connection, batch, touched, units)

    def _note(self, connection: sa.Connection, entry: Entry) -> None:
        event = entry.event
        if entry.topic not in cb.TOPICS or "serial_start" not in event:
            return
        connection.execute(
            self.history.insert().values(
                batch=entry.aggregate,
                version=entry.version,
                kind=kind_of(entry.topic),
                serial_start=event["serial_start"],
                serial_end=event["serial_end"],
                account=event.get("to") or event.get("holder") or event["actor"],
                entry=entry.hash,
            )
        )

    def unit_history(
        self, connection: sa.Connection, batch: str, serial: int
    ) -> list[tuple[Any, ...]]:
        """Every step of one unit's life: (version, kind, account, entry hash), in order."""
        c = self.history.c
        rows = connection.execute(
            sa.select(c.version, c.kind, c.account, c.entry)
            .where(c.batch == batch, c.serial_start <= serial, c.serial_end >= serial)
            .order_by(c.version)
        )
        return [tuple(row) for row in rows]

    def _load(self, connection: sa.Connection, batch: str, span: SerialRange) -> UnitMap:
        """The lots of ``batch`` that ``span`` overlaps (whole, not clipped)."""
        c = self.lots.c
        first = (
            sa.select(sa.func.max(c.serial_start))
            .where(c.batch == batch, c.serial_start <= span.start)
            .scalar_subquery()
        )
        rows = connection.execute(
            sa.select(self.lots)
            .where(c.batch == batch, c.serial_start >= sa.func.coalesce(first, span.start))
            .where(c.serial_start <= span.end, c.serial_end >= span.start)
            .order_by(c.serial_start)
        )
        return UnitMap(
            tuple(
                Lot(
                    SerialRange(r.serial_start, r.serial_end),
                    UnitState(r.state),
                    r.account,
                    r.purpose,
                )
                for r in rows
            )
        )

    def _replace(
        self, connection: sa.Connection, batch: str, touched: UnitMap, units: UnitMap
    ) -> None:
        """Replace the rows of the ``touched`` lots of ``batch`` with the lots of ``units``."""
        c = self.lots.c
        starts = [lot.serials.start for lot in touched.lots]
        if starts:
            connection.execute(
                self.lots.delete().where(c.batch == batch, c.serial_start.in_(starts))
            )
        connection.execute(
            self.lots.insert(),
            [
                {
                    "batch": batch,
                    "serial_start": lot.serials.start,
                    "serial_end": lot.serials.end,
                    "state": lot.state.value,
                    "account": lot.account,
                    "purpose": lot.purpose,
                }
                for lot in units.lots
            ],
        )

    def holdings(self, connection: sa.Connection, account: str) -> dict[tuple[str, str], int]:
        """Units per (batch, state) that ``account`` holds, reserved, retired or exported."""
        c = self.lots.c
        units = sa.func.sum(c.serial_end - c.serial_start + 1)
        rows = connection.execute(
            sa.select(c.batch, c.state, units)
            .where(c.account == account)
            .group_by(c.batch, c.state)
        )
        return {(batch, state): int(total) for batch, state, total in rows}


_SNAKE = re.compile(r"_([a-z0-9])")


def _camel(value: Any) -> Any:
    """``value`` with snake_case dict keys renamed to camelCase, at every depth."""
    if isinstance(value, dict):
        return {_SNAKE.sub(lambda m: m.group(1).upper(), k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _disclosed(entry: Entry) -> tuple[str, dict[str, Any]] | None:
    """The kind and detail the register shows for ``entry`` (cancellations: see _cancelled)."""
    event, topic = entry.event, entry.topic
    if topic == en.PLANNED:
        return "plan", {k: event[k] for k in ("version", "boundary", "offsets", "measures")}
    if topic == en.COMMITTED:
        return "commitment", event["statement"]
    if topic == en.EVALUATED:
        return "evaluation", {k: event[k] for k in ("conclusion", "report", "actor")}
    if topic == en.CONFIRMED:
        return "confirmation", {"on": event["on"]}
    if topic == en.ALLOCATED and event["deviation"]:
        return "deviation", {k: event[k] for k in ("batch", "rank", "reason")}
    return None


def _cancelled(entry: Entry, instrument: str, unit: Decimal) -> tuple[str, dict[str, Any]]:
    """A retirement or an export, with its instrument, serials, units and tonnes."""
    event = entry.event
    units = event["serial_end"] - event["serial_start"] + 1
    keys = ("actor", "event_name", "beneficiary", "reason", "target_registry")
    detail = {
        "instrument": instrument,
        "serialStart": event["serial_start"],
        "serialEnd": event["serial_end"],
        "units": units,
        "tonnes": str(unit * units),
        **{k: event[k] for k in keys if k in event},
    }
    return ("retirement" if entry.topic == cb.RETIRED else "export"), detail


class DisclosureRegister:
    """The public disclosure register (R12): what was published, by whom, with proof."""

    name = "disclosure-register"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """One row per disclosed entry, and each batch's instrument and unit size."""
        self.batches = sa.Table(
            "ledger_view_disclosed_batches",
            metadata,
            sa.Column("batch", sa.Text, primary_key=True),
            sa.Column("instrument", sa.Text, nullable=False),
            sa.Column("unit", sa.Text, nullable=False),
        )
        self.rows = sa.Table(
            "ledger_view_disclosures",
            metadata,
            sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("version", sa.BigInteger, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("entry", sa.Text, nullable=False),
        )
        return [self.batches, self.rows]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Add a row if the entry is something the register discloses."""
        if entry.topic == cb.ISSUED:
            unit = entry.event["unit"]
            connection.execute(
                self.batches.insert().values(
                    batch=entry.aggregate,
                    instrument=entry.event["instrument"],
                    unit=str(unit["_data_"] if isinstance(unit, dict) else unit),
                )
            )
            return
        if entry.topic in (cb.RETIRED, cb.EXPORTED):
            c = self.batches.c
            instrument, unit = connection.execute(
                sa.select(c.instrument, c.unit).where(c.batch == entry.aggregate)
            ).one()
            disclosed: tuple[str, dict[str, Any]] | None = _cancelled(
                entry, instrument, Decimal(unit)
            )
        else:
            disclosed = _disclosed(entry)
        if disclosed is None:
            return
        kind, raw = disclosed
        detail = _camel(raw)
        connection.execute(
            self.rows.insert().values(
                position=position,
                kind=kind,
                subject=entry.aggregate,
                version=entry.version,
                detail=json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str),
                entry=entry.hash,
            )
        )

    def listing(self, connection: sa.Connection) -> list[dict[str, Any]]:
        """Every disclosure, in order, as JSON-ready dicts."""
        rows = connection.execute(sa.select(self.rows).order_by(self.rows.c.position))
        return [
            {
                "position": r.position,
                "kind": r.kind,
                "subject": r.subject,
                "version": r.version,
                "detail": json.loads(r.detail),
                "entry": r.entry,
            }
            for r in rows
        ]
