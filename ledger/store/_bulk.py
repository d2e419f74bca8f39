"""Bulk writes for imports: many events, their claims and log leaves, in one transaction.

Rules:
- One :class:`BulkWrite` is one transaction (:meth:`LedgerApplication.importing`): every page
  written through it commits together when the import ends, or none does (any exception
  rolls everything back).
- The claim lock is taken when the transaction begins and held to its end, so every check a
  caller makes through :meth:`BulkWrite.overlapping` sees every earlier claim and stays true
  until the commit; the database guards (trigger, exclusion constraint, primary keys) remain
  the final word.
- A page is written set-based: its claims by :meth:`ClaimIndex.claim_many`, its events in one
  insert, its Merkle leaves and interior nodes in one append each; nothing is read back.
- Chain heads of signed events are forgotten once their page is written (a later write reads
  them from the store), so memory does not grow with the number of events imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from ledger.audit.keys import Signer
from ledger.audit.trust import TrustRoot
from ledger.domain.values import SerialRange
from ledger.errors import AuthorizationError
from ledger.store._claims import claims_for
from ledger.store._signpool import SigningPool, signed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledger.store._application import LedgerApplication

__all__ = ["BulkWrite", "Pending"]


@attrs.frozen
class Pending:
    """A page of new events being signed (:meth:`BulkWrite.save_new`).

    Its chunks come each with the pool's pending result, or None: signed when written.
    """

    signer: Signer
    events: list[Any]
    chunks: list[tuple[list[Any], Future[list[StoredEvent]] | None]]


class BulkWrite:
    """The writer of one import transaction; see the module rules."""

    def __init__(self, app: LedgerApplication, session: Session) -> None:
        self._app = app
        self._session = session
        self.connection: sa.Connection = session.connection()
        app.claims.take_lock(self.connection)

    def overlapping(
        self, registry: str, spans: Sequence[tuple[int, SerialRange]]
    ) -> dict[int, str]:
        """For each (key, serials) overlapping a stored block of ``registry``: that block."""
        return self._app.claims.serials.overlaps(self.connection, registry, spans)

    def save(self, signer: Signer, aggregates: Sequence[Aggregate]) -> None:
        """Sign the pending events of ``aggregates`` with ``signer`` and write them as a page."""
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        mapper = self._app.store.mapper
        try:
            stored = [mapper.sign(event, signer) for event in events]
            self.append(list(zip(stored, events, strict=True)))
        finally:
            mapper.chain.forget({event.originator_id for event in events})

    def save_new(
        self, signer: Signer, events: Sequence[Any], pool: SigningPool | None = None
    ) -> Pending:
        """Start signing new events (each its aggregate's first) as a page; see :meth:`write`.

        With a ``pool``, the page is signed on other cores while the caller goes on (checking
        the next page); without one, it is signed when written.
        """
        if pool is None:
            return Pending(signer, list(events), [(list(events), None)])
        if pool.signer.public != signer.public:
            raise AuthorizationError("the signing pool signs for another key than this import")
        return Pending(signer, list(events), list(pool.submit(events)))

    def write(self, pending: Pending) -> None:
        """Write a page started by :meth:`save_new`, signing here what the pool did not."""
        mapper = self._app.store.mapper
        stored: list[StoredEvent] = []
        try:
            for chunk, future in pending.chunks:
                done = None if future is None else signed(chunk, future)
                if done is None or not _same_events(done, chunk):
                    done = [mapper.sign(event, pending.signer) for event in chunk]
                stored.extend(done)
            self.append(list(zip(stored, pending.events, strict=True)))
        finally:
            mapper.chain.forget({event.originator_id for event in pending.events})

    def append(self, page: Sequence[tuple[StoredEvent, Any]]) -> None:
        """Write (stored event, domain event) pairs, in order, with their claims and leaves."""
        if not page:
            return
        claims = claims_for(event for _, event in page)
        if claims:
            self._app.claims.claim_many(self.connection, claims)
        stored = [s for s, _ in page]
        self._insert(stored)
        self._app.merkle_log.append(
            self.connection, [(s.originator_id, s.originator_version, s.state) for s in stored]
        )

    def _insert(self, stored: Sequence[StoredEvent]) -> None:
        """Insert events in one executemany, with the recorder's table lock and notification.

        The recorder's own insert goes through the ORM (an object per row); the rows, the
        PostgreSQL table lock that keeps notification ids in commit order and the NOTIFY are
        the same.
        """
        recorder = self._app._sql_recorder()
        table = recorder.events_record_cls.__table__
        recorder._lock_table(self._session)
        self.connection.execute(
            table.insert(),
            [
                {
                    "originator_id": s.originator_id,
                    "originator_version": s.originator_version,
                    "topic": s.topic,
                    "state": s.state,
                }
                for s in stored
            ],
        )
        recorder._notify_channel(self._session)

    def add_root(self, root: TrustRoot) -> None:
        """Append an adopted trust-root version to the log (an imported history's root)."""
        self._app.merkle_log.add_root(self.connection, root)

    def save_checkpoint(self, size: int, note: str) -> None:
        """Keep a signed checkpoint (of an imported history)."""
        self._app.merkle_log.save_checkpoint(self.connection, size, note)


def _same_events(stored: Sequence[StoredEvent], events: Sequence[Any]) -> bool:
    """True if ``stored`` are ``events``, one for one (aggregate and version)."""
    return len(stored) == len(events) and all(
        s.originator_id == e.originator_id and s.originator_version == e.originator_version
        for s, e in zip(stored, events, strict=True)
    )
