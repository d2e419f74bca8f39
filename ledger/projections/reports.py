"""Read models: retirement certificates, sink parcel usage, and the R10 deadline report.

Rules:
- Certificates: one row per retirement, the same certificate :mod:`certificates` derives (and
  a proof re-derives), kept from the issuance and every move of units.
- Parcel usage (R9): every parcel, the project or batch that used it, and the event it backs.
- Deadlines (R10): every event's neutralization deadline and every bound sink project's
  application and validation deadlines, with the day each was done; states are judged on
  the day asked (:meth:`DeadlineReport.report`).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ledger.audit.certificate import Trail, certificate_of
from ledger.audit.envelope import Entry
from ledger.domain import credit_batch as cb
from ledger.domain import event_neutralization as en
from ledger.domain import sink_project as sp
from ledger.domain.deadlines import Deadline, DeadlineState, add_months
from ledger.projections._rows import insert_many

__all__ = ["CertificateView", "DeadlineReport", "ParcelUsage"]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


_MOVES = (cb.TRANSFERRED, cb.DONATED, cb.RETIRED)
_CLOSING = (en.CONFIRMED, sp.APPLICATION_FILED, sp.VALIDATED, sp.MEASURED)
_NEUTRALIZED = "event neutralization completed"
_FILED = "sink project application filed"
_VALIDATED = "sink project validated and removals measured"

#: A change to one deadline: its due day (opened), or (the part done, or None; the day done).
_Change = datetime.date | tuple[str | None, str]


def _deadline_changes(entry: Entry) -> list[tuple[tuple[str, str], _Change]]:
    """The deadlines ``entry`` opens or closes, by (subject, what)."""
    e, subject = entry.event, entry.aggregate
    if entry.topic == en.REGISTERED:
        ends = datetime.datetime.fromisoformat(e["ends"]).date()
        return [((subject, _NEUTRALIZED), add_months(ends, 6))]
    if entry.topic == en.CONFIRMED:
        return [((subject, _NEUTRALIZED), (None, e["on"]))]
    if entry.topic == sp.BOUND:
        ends = datetime.date.fromisoformat(e["event_ends"])
        return [
            ((subject, _FILED), add_months(ends, 12)),
            ((subject, _VALIDATED), add_months(ends, 24)),
        ]
    if entry.topic == sp.APPLICATION_FILED:
        return [((subject, _FILED), (None, e["on"]))]
    if entry.topic in (sp.VALIDATED, sp.MEASURED):
        return [((subject, _VALIDATED), (entry.topic, e["on"]))]
    return []


def _close(row: dict[str, Any], part: str | None, on: str) -> None:
    """Mark ``row`` done ``on`` (or its ``part`` done: the row is done when both parts are)."""
    if part is None:
        row["done"] = on
        return
    parts = json.loads(row["parts"])
    parts[part] = on
    row["parts"] = _json(parts)
    row["done"] = max(parts.values()) if len(parts) == 2 else None


class CertificateView:
    """Every retirement certificate, by id."""

    name = "certificates"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """Trails of batches, and certificates."""
        self.trails = sa.Table(
            "ledger_view_trails",
            metadata,
            sa.Column("batch", sa.Text, primary_key=True),
            sa.Column("trail", sa.Text, nullable=False),
        )
        self.certificates = sa.Table(
            "ledger_view_certificates",
            metadata,
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("batch", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        )
        return [self.trails, self.certificates]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Apply one verified entry (a page of one)."""
        self.apply_page(connection, [(position, entry)])

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Keep each batch's trail; write a certificate for each retirement.

        The trails a page moves are read in one query, kept in memory while the page is
        folded, and written once each at its end; certificates are inserted in one statement.
        """
        trails: dict[str, Trail] = {}
        stored: dict[str, str] = {}
        issued = {e.aggregate for _, e in page if e.topic == cb.ISSUED}
        moved = {e.aggregate for _, e in page if e.topic in _MOVES} - issued
        if moved:
            c = self.trails.c
            query = sa.select(c.batch, c.trail).where(c.batch.in_(sorted(moved)))
            stored = {batch: text for batch, text in connection.execute(query)}
            trails = {batch: _load(json.loads(text)) for batch, text in stored.items()}
        certificates = []
        for _, entry in page:
            if entry.topic == cb.ISSUED:
                trails[entry.aggregate] = Trail(entry.event, entry.hash)
                continue
            if entry.topic not in _MOVES:
                continue
            if entry.aggregate not in trails:
                raise sa.exc.NoResultFound(f"no trail of batch {entry.aggregate}")
            trail = trails[entry.aggregate]
            if entry.topic == cb.RETIRED:
                body = certificate_of(trail, entry).to_json()
                certificates.append(
                    {"id": body["id"], "batch": entry.aggregate, "body": _json(body)}
                )
            else:
                trail.moves.append((entry.topic, entry.event))
        self._write(connection, trails, stored, certificates)

    def _write(
        self,
        connection: sa.Connection,
        trails: dict[str, Trail],
        stored: dict[str, str],
        certificates: list[dict[str, Any]],
    ) -> None:
        texts = {batch: _json(_dump(trail)) for batch, trail in trails.items()}
        new = [{"batch": b, "trail": t} for b, t in texts.items() if b not in stored]
        changed = [{"b": b, "t": t} for b, t in texts.items() if b in stored and stored[b] != t]
        if new:
            insert_many(connection, self.trails, new)
        if changed:
            c = self.trails.c
            connection.execute(
                self.trails.update()
                .where(c.batch == sa.bindparam("b"))
                .values(trail=sa.bindparam("t")),
                changed,
            )
        if certificates:
            insert_many(connection, self.certificates, certificates)


def _dump(trail: Trail) -> dict[str, Any]:
    return {"issued": trail.issued, "hash": trail.issued_hash, "moves": trail.moves}


def _load(data: dict[str, Any]) -> Trail:
    return Trail(data["issued"], data["hash"], [(topic, move) for topic, move in data["moves"]])


class ParcelUsage:
    """Every used parcel (R9): who used it and which event it backs."""

    name = "parcel-usage"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """One row per parcel."""
        self.parcels = sa.Table(
            "ledger_view_parcels",
            metadata,
            sa.Column("parcel", sa.Text, primary_key=True),
            sa.Column("owner_kind", sa.Text, nullable=False),
            sa.Column("owner", sa.Text, nullable=False),
            sa.Column("event", sa.Text),
        )
        return [self.parcels]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Apply one verified entry (a page of one)."""
        self.apply_page(connection, [(position, entry)])

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Record parcels as projects register or batches credit them; bind them to events.

        Parcels registered in the page are bound in memory; the stored parcels of projects
        bound in the page are updated in one statement, and new parcels inserted in one.
        """
        new: list[dict[str, Any]] = []
        bound: dict[str, str] = {}
        for _, entry in page:
            event = entry.event
            if entry.topic == sp.BOUND:
                bound[entry.aggregate] = event["event_name"]
                for row in new:
                    if row["owner"] == entry.aggregate:
                        row["event"] = event["event_name"]
            elif entry.topic == sp.REGISTERED or (
                entry.topic == cb.ISSUED and event["source_project"] is None
            ):
                kind = "sink project" if entry.topic == sp.REGISTERED else "credit batch"
                new += [
                    {"parcel": p["id"], "owner_kind": kind, "owner": entry.aggregate, "event": None}
                    for p in event["parcels"]
                ]
        if bound:
            c = self.parcels.c
            connection.execute(
                self.parcels.update()
                .where(c.owner == sa.bindparam("o"))
                .values(event=sa.bindparam("e")),
                [{"o": owner, "e": name} for owner, name in bound.items()],
            )
        if new:
            insert_many(connection, self.parcels, new)


class DeadlineReport:
    """R10 deadlines of events and of the sink projects bound to them."""

    name = "deadlines"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        """One row per deadline."""
        self.deadlines = sa.Table(
            "ledger_view_deadlines",
            metadata,
            sa.Column("subject", sa.Text, primary_key=True),
            sa.Column("what", sa.Text, primary_key=True),
            sa.Column("due", sa.Text, nullable=False),
            sa.Column("done", sa.Text),
            sa.Column("parts", sa.Text, nullable=False, default="{}"),
        )
        return [self.deadlines]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        """Apply one verified entry (a page of one)."""
        self.apply_page(connection, [(position, entry)])

    def apply_page(self, connection: sa.Connection, page: Sequence[tuple[int, Entry]]) -> None:
        """Open deadlines when an event registers or a project binds; close them when done.

        The stored deadlines of the subjects the page closes are read in one query, changed in
        memory, and written at the page's end (one insert, one update).
        """
        closing = {e.aggregate for _, e in page if e.topic in _CLOSING}
        stored: dict[tuple[str, str], dict[str, Any]] = {}
        if closing:
            c = self.deadlines.c
            query = sa.select(c.subject, c.what, c.due, c.done, c.parts).where(
                c.subject.in_(sorted(closing))
            )
            stored = {(r.subject, r.what): dict(r._mapping) for r in connection.execute(query)}
        rows = {key: dict(row) for key, row in stored.items()}
        new: list[tuple[str, str]] = []
        for _, entry in page:
            for key, change in _deadline_changes(entry):
                if isinstance(change, datetime.date):
                    rows[key] = {"subject": key[0], "what": key[1], "due": change.isoformat()}
                    rows[key].update(done=None, parts="{}")
                    new.append(key)
                elif key in rows:
                    _close(rows[key], *change)
                elif change[0] is not None:
                    raise sa.exc.NoResultFound(f"no deadline {key[1]!r} of {key[0]}")
        self._write(connection, rows, stored, new)

    def _write(
        self,
        connection: sa.Connection,
        rows: dict[tuple[str, str], dict[str, Any]],
        stored: dict[tuple[str, str], dict[str, Any]],
        new: list[tuple[str, str]],
    ) -> None:
        if new:
            insert_many(connection, self.deadlines, [rows[key] for key in new])
        changed = [
            {"s": key[0], "w": key[1], "d": row["done"], "p": row["parts"]}
            for key, row in rows.items()
            if key in stored and key not in new and row != stored[key]
        ]
        if changed:
            c = self.deadlines.c
            connection.execute(
                self.deadlines.update()
                .where(c.subject == sa.bindparam("s"), c.what == sa.bindparam("w"))
                .values(done=sa.bindparam("d"), parts=sa.bindparam("p")),
                changed,
            )

    def report(
        self, connection: sa.Connection, today: datetime.date
    ) -> list[tuple[str, Deadline, DeadlineState]]:
        """Every deadline with its state on ``today``."""
        rows = connection.execute(sa.select(self.deadlines).order_by(self.deadlines.c.due))
        found = []
        for row in rows:
            done = datetime.date.fromisoformat(row.done) if row.done else None
            deadline = Deadline(row.what, datetime.date.fromisoformat(row.due), done)
            found.append((row.subject, deadline, deadline.state(today)))
        return found
