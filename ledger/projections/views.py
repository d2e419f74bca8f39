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
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ledger.audit.envelope import Entry
from ledger.domain import credit_batch as cb
from ledger.domain import event_neutralization as en
from ledger.domain._units import Lot, UnitMap, UnitState
from ledger.domain.values import SerialRange
from ledger.projections._rows import insert_many
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


#: Batch spans per lot query (each an OR term with its own index lookup).
_TERMS = 200

_Move = tuple[str, SerialRange, tuple[Any, ...]]


def _start(lot: Lot) -> int:
    return lot.serials.start


def _move(entry: Entry) -> _Move | None:
    """What ``entry`` does to its batch's lots: (kind, span, the new state's parts), or None."""
    event = entry.event
    if entry.topic == cb.ISSUED:
        span = SerialRange(event["serial_start"], event["serial_end"])
        return "issued", span, (UnitState.HELD, event["holder"])
    if entry.topic == cb.SPLIT:
        return "split", SerialRange(event["at"], event["at"]), ()
    if entry.topic in _STATE:
        span = SerialRange(event["serial_start"], event["serial_end"])
        account = event.get("to") or event["actor"]
        purpose = event.get("event_name") if entry.topic != cb.RELEASED else None
        purpose = event.get("target_registry", purpose)
        return "assign", span, (_STATE[entry.topic], account, purpose)
    return None


def _history_row(entry: Entry) -> dict[str, Any] | None:
    """The unit-history row of a credit-batch event that moved units, or None."""
    event = entry.event
    if entry.topic not in cb.TOPICS or "serial_start" not in event:
        return None
    return {
        "batch": entry.aggregate,
        "version": entry.version,
        "kind": kind_of(entry.topic),
        "serial_start": event["serial_start"],
        "serial_end": event["serial_end"],
        "account": event.get("to") or event.get("holder") or event["actor"],
        "entry": entry.hash,
    }


def _lot_row(batch: str, lot: Lot) -> dict[str, Any]:
    return {
        "batch": batch,
        "serial_start": lot.serials.start,
        "serial_end": lot.serials.end,
        "state": lot.state.value,
        "account": lot.account,
        "purpose": lot.purpose,
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
        """Apply one verified entry (a page of one)."""
        self.apply_page(connection, [(position, entry)])

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Re-divide the lots a page of events touches, and note each step in the history.

        The lots the page's events fall in are read in one query (only those: an event costs
        the same however many lots its batch has), re-divided in memory event by event with the
        domain's :class:`UnitMap`, and the lots that changed are deleted and written again in
        one statement each, like the history rows.
        """
        history = [row for _, entry in page if (row := _history_row(entry)) is not None]
        if history:
            insert_many(connection, self.history, history)
        moves = [(entry, move) for _, entry in page if (move := _move(entry)) is not None]
        if not moves:
            return
        issued = {entry.aggregate for entry, move in moves if move[0] == "issued"}
        wanted = [(entry.aggregate, span) for entry, (_, span, _) in moves]
        before = self._load(connection, [(b, s) for b, s in wanted if b not in issued])
        grouped: dict[str, list[Lot]] = {}
        for batch, lot in before.values():
            grouped.setdefault(batch, []).append(lot)
        known = {b: UnitMap(tuple(sorted(lots, key=_start))) for b, lots in grouped.items()}
        for entry, (kind, span, change) in moves:
            units = known.get(entry.aggregate, UnitMap(()))
            if kind == "issued":
                units = UnitMap.issued(span, change[1])
            elif kind == "split":
                units = units.split(span.start)
            else:
                units = units.assign(span, *change)
            known[entry.aggregate] = units
        self._write(connection, before, known)

    def _load(
        self, connection: sa.Connection, spans: Sequence[tuple[str, SerialRange]]
    ) -> dict[tuple[str, int], tuple[str, Lot]]:
        """The stored lots that ``spans`` (per batch) overlap, whole, by (batch, start)."""
        c = self.lots.c
        found: dict[tuple[str, int], tuple[str, Lot]] = {}
        terms = list(dict.fromkeys(spans))
        for at in range(0, len(terms), _TERMS):
            where = []
            for batch, span in terms[at : at + _TERMS]:
                first = (
                    sa.select(sa.func.max(c.serial_start))
                    .where(c.batch == batch, c.serial_start <= span.start)
                    .scalar_subquery()
                )
                where.append(
                    sa.and_(
                        c.batch == batch,
                        c.serial_start >= sa.func.coalesce(first, span.start),
                        c.serial_start <= span.end,
                        c.serial_end >= span.start,
                    )
                )
            for r in connection.execute(sa.select(self.lots).where(sa.or_(*where))):
                lot = Lot(
                    SerialRange(r.serial_start, r.serial_end),
                    UnitState(r.state),
                    r.account,
                    r.purpose,
                )
                found[(r.batch, r.serial_start)] = (r.batch, lot)
        return found

    def _write(
        self,
        connection: sa.Connection,
        before: dict[tuple[str, int], tuple[str, Lot]],
        after: dict[str, UnitMap],
    ) -> None:
        """Delete the stored lots that changed or went, insert the new ones (one statement each)."""
        now = {(b, lot.serials.start): lot for b, units in after.items() for lot in units.lots}
        gone = [
            {"b": batch, "s": start}
            for (batch, start), (_, lot) in before.items()
            if now.get((batch, start)) != lot
        ]
        new = [
            _lot_row(batch, lot)
            for (batch, start), lot in now.items()
            if (was := before.get((batch, start))) is None or was[1] != lot
        ]
        c = self.lots.c
        if gone:
            connection.execute(
                self.lots.delete().where(
                    c.batch == sa.bindparam("b"), c.serial_start == sa.bindparam("s")
                ),
                gone,
            )
        if new:
            insert_many(connection, self.lots, new)

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


def _batch_row(entry: Entry) -> dict[str, Any]:
    """A batch's instrument and unit size, from its issuance."""
    unit = entry.event["unit"]
    return {
        "batch": entry.aggregate,
        "instrument": entry.event["instrument"],
        "unit": str(unit["_data_"] if isinstance(unit, dict) else unit),
    }


def _disclosure_row(position: int, entry: Entry, kind: str, raw: Any) -> dict[str, Any]:
    return {
        "position": position,
        "kind": kind,
        "subject": entry.aggregate,
        "version": entry.version,
        "detail": json.dumps(_camel(raw), sort_keys=True, ensure_ascii=False, default=str),
        "entry": entry.hash,
    }


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
        """Apply one verified entry (a page of one)."""
        self.apply_page(connection, [(position, entry)])

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Add a row for each entry the register discloses (one insert per table per page).

        A retirement or an export takes its instrument and unit size from its batch's
        issuance: from the page itself, or from the stored batches the page names (one query).
        """
        batches = [_batch_row(entry) for _, entry in page if entry.topic == cb.ISSUED]
        known = {row["batch"]: (row["instrument"], row["unit"]) for row in batches}
        cancelled = {e.aggregate for _, e in page if e.topic in (cb.RETIRED, cb.EXPORTED)}
        missing = sorted(cancelled - set(known))
        if missing:
            c = self.batches.c
            query = sa.select(c.batch, c.instrument, c.unit).where(c.batch.in_(missing))
            known.update({b: (i, u) for b, i, u in connection.execute(query)})
        rows = []
        for position, entry in page:
            if entry.topic in (cb.RETIRED, cb.EXPORTED):
                if entry.aggregate not in known:
                    raise sa.exc.NoResultFound(f"no issued batch {entry.aggregate}")
                instrument, unit = known[entry.aggregate]
                disclosed: tuple[str, dict[str, Any]] | None = _cancelled(
                    entry, instrument, Decimal(unit)
                )
            else:
                disclosed = _disclosed(entry)
            if disclosed is not None:
                rows.append(_disclosure_row(position, entry, *disclosed))
        if batches:
            insert_many(connection, self.batches, batches)
        if rows:
            insert_many(connection, self.rows, rows)

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
