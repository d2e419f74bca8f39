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
from typing import Any

import sqlalchemy as sa

from ledger.audit.certificate import Trail, certificate_of
from ledger.audit.envelope import Entry
from ledger.domain import credit_batch as cb
from ledger.domain import event_neutralization as en
from ledger.domain import sink_project as sp
from ledger.domain.deadlines import Deadline, DeadlineState, add_months

__all__ = ["CertificateView", "DeadlineReport", "ParcelUsage"]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


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
        """Keep the batch's trail; write a certificate for each retirement."""
        if entry.topic == cb.ISSUED:
            trail = Trail(entry.event, entry.hash)
            connection.execute(
                self.trails.insert().values(batch=entry.aggregate, trail=_json(_dump(trail)))
            )
            return
        if entry.topic not in (cb.TRANSFERRED, cb.DONATED, cb.RETIRED):
            return
        c = self.trails.c
        trail = _load(
            json.loads(
                connection.execute(
                    sa.select(c.trail).where(c.batch == entry.aggregate)
                ).scalar_one()
            )
        )
        if entry.topic == cb.RETIRED:
            body = certificate_of(trail, entry).to_json()
            connection.execute(
                self.certificates.insert().values(
                    id=body["id"], batch=entry.aggregate, body=_json(body)
                )
            )
            return
        trail.moves.append((entry.topic, entry.event))
        connection.execute(
            self.trails.update().where(c.batch == entry.aggregate).values(trail=_json(_dump(trail)))
        )


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
        """Record parcels as projects register or batches credit them; bind them to events."""
        event = entry.event
        if entry.topic == sp.BOUND:
            connection.execute(
                self.parcels.update()
                .where(self.parcels.c.owner == entry.aggregate)
                .values(event=event["event_name"])
            )
        elif entry.topic == sp.REGISTERED or (
            entry.topic == cb.ISSUED and event["source_project"] is None
        ):
            kind = "sink project" if entry.topic == sp.REGISTERED else "credit batch"
            rows = [
                {"parcel": p["id"], "owner_kind": kind, "owner": entry.aggregate, "event": None}
                for p in event["parcels"]
            ]
            if rows:
                connection.execute(self.parcels.insert(), rows)


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
        """Open deadlines when an event registers or a project binds; close them when done."""
        e, subject = entry.event, entry.aggregate
        if entry.topic == en.REGISTERED:
            ends = datetime.datetime.fromisoformat(e["ends"]).date()
            self._open(connection, subject, "event neutralization completed", add_months(ends, 6))
        elif entry.topic == en.CONFIRMED:
            self._done(connection, subject, "event neutralization completed", e["on"])
        elif entry.topic == sp.BOUND:
            ends = datetime.date.fromisoformat(e["event_ends"])
            self._open(connection, subject, "sink project application filed", add_months(ends, 12))
            self._open(
                connection,
                subject,
                "sink project validated and removals measured",
                add_months(ends, 24),
            )
        elif entry.topic == sp.APPLICATION_FILED:
            self._done(connection, subject, "sink project application filed", e["on"])
        elif entry.topic in (sp.VALIDATED, sp.MEASURED):
            self._part(connection, subject, entry.topic, e["on"])

    def _open(self, connection: sa.Connection, subject: str, what: str, due: datetime.date) -> None:
        connection.execute(
            self.deadlines.insert().values(
                subject=subject, what=what, due=due.isoformat(), parts="{}"
            )
        )

    def _done(self, connection: sa.Connection, subject: str, what: str, on: str) -> None:
        c = self.deadlines.c
        connection.execute(
            self.deadlines.update().where(c.subject == subject, c.what == what).values(done=on)
        )

    def _part(self, connection: sa.Connection, subject: str, topic: str, on: str) -> None:
        c = self.deadlines.c
        what = "sink project validated and removals measured"
        parts = json.loads(
            connection.execute(
                sa.select(c.parts).where(c.subject == subject, c.what == what)
            ).scalar_one()
        )
        parts[topic] = on
        done = max(parts.values()) if len(parts) == 2 else None
        connection.execute(
            self.deadlines.update()
            .where(c.subject == subject, c.what == what)
            .values(parts=_json(parts), done=done)
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
