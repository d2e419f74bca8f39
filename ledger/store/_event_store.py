"""An event store that verifies the hash chain of every aggregate it reads.

Rules:
- Every event read is verified (:meth:`SigningMapper.open`) and linked to the one before it
  (:func:`check_link`) from version 1 on; the verified entries of recently read aggregates
  are kept (stored events never change), so a later read verifies only the new events.
- What this process signed and committed is known-good: :meth:`ChainedEventStore.put` keeps
  the entries it signed as pending, and once their transaction has committed
  (:meth:`ChainedEventStore.settle`) they extend the kept entries of their aggregate if they
  follow its last kept version (else that aggregate is forgotten and read again). A write
  never reads back or re-verifies its own events; a rolled-back write leaves nothing kept.
- Writes are signed by the signer passed to :meth:`ChainedEventStore.put` (never implicitly).
- PostgreSQL: a unit that locks an aggregate reads its new events in the same round trip
  (:meth:`ChainedEventStore.lock_and_read`); they are verified exactly as selected ones are.
- Reads remember the chain head so the next event written chains to it.
- Descending or limited reads verify each event but not the links.
- ``ledger audit`` never uses this cache: it re-reads and re-verifies everything.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Notification, Recording, StoredEvent
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Connection

from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry
from ledger.audit.keys import Signer
from ledger.errors import AuthorizationError, TamperError
from ledger.store._mapper import SigningMapper
from ledger.store._merkle_log import LogStore

__all__ = ["ChainedEventStore"]

_CACHED_AGGREGATES = 256
#: How long a writer waits for a busy aggregate's lock before it reads and verifies what was
#: committed meanwhile and waits again ("0": until it is granted). Off: with 8 writers of one
#: batch on 2 busy cores, 4 ms slices gave 46-53 retirements/s against 63-68 without (the
#: extra wake-ups cost the lock's holder more CPU than the catch-up saved it).
_WAIT_SLICE = "0"


class ChainedEventStore(EventStore[UUID]):
    """Stores signed envelopes; reads verify signatures and chain links."""

    mapper: SigningMapper
    #: The Merkle log whose server-side append inserts events with their leaves (PostgreSQL).
    log: LogStore | None = None
    _verified: OrderedDict[UUID, list[tuple[StoredEvent, Entry]]]
    _local: threading.local

    def put(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        *,
        signer: Signer | None = None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Sign ``domain_events`` with ``signer``, chain them and store them."""
        if signer is None:
            raise AuthorizationError("no signer: save events with Store.save(signer, ...)")
        sealed = [self.mapper.seal(event, signer) for event in domain_events]
        stored = [s for s, _ in sealed]
        ids = self._insert(stored, **kwargs)
        self._pending().extend(sealed)
        if not ids:
            return []
        return [
            Recording(
                event,
                Notification(
                    id=n,
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                ),
            )
            for event, s, n in zip(domain_events, stored, ids, strict=True)
        ]

    def _insert(self, stored: list[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Insert ``stored`` as the recorder does (table lock, notify), in one statement.

        The recorder's own insert goes through the ORM (a unit-of-work flush per event); a
        single core INSERT ... RETURNING does the same while the event table is locked. The
        NOTIFY (PostgreSQL) is queued before the lock is taken: it is delivered at commit
        either way, and the lock is held by one writer at a time.
        """
        recorder = self.recorder
        if not isinstance(recorder, SQLAlchemyApplicationRecorder) or kwargs.get("tracking"):
            return recorder.insert_events(stored, **kwargs)
        if self.log is not None:
            with recorder.transaction(commit=True) as session:
                ids = self.log.append_events(
                    session.connection(),
                    [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored],
                    commit=self._last_write(),
                )
            if ids is not None:
                self._pending()  # makes the thread's state
                self._local.logged = True
                return ids
        table = recorder.events_record_cls.__table__
        rows = [
            {
                "originator_id": s.originator_id,
                "originator_version": s.originator_version,
                "topic": s.topic,
                "state": s.state,
            }
            for s in stored
        ]
        statement = getattr(self, "_insert_statement", None)
        if statement is None:
            statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            self._insert_statement = statement
        with recorder.transaction(commit=True) as session:
            recorder._notify_channel(session)  # sent at commit: no need to hold the lock for it
            recorder._lock_table(session)
            ids = [int(row[0]) for row in session.connection().execute(statement, rows)]
        return ids

    def end_with_next_write(self, last: bool) -> None:
        """Whether this thread's next insert is its unit's last statement (it then commits)."""
        self._pending()
        self._local.last = last

    def _last_write(self) -> bool:
        """True once if the unit asked its next insert to commit it (see above)."""
        self._pending()
        last = bool(getattr(self._local, "last", False))
        self._local.last = False
        return last

    def logged(self) -> bool:
        """True if this thread's last insert appended the events' log leaves too (then False)."""
        self._pending()
        done = bool(getattr(self._local, "logged", False))
        self._local.logged = False
        return done

    def _pending(self) -> list[tuple[StoredEvent, Entry]]:
        if not hasattr(self, "_local"):
            self._local = threading.local()
        pending: list[tuple[StoredEvent, Entry]] | None = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = []
        return pending

    def settle(self, committed: bool) -> set[UUID]:
        """The transaction of this thread's pending writes ended: keep them if it committed.

        Returns:
            The aggregates the pending writes were of.
        """
        pending = self._pending()
        self._local.read = None  # rows read under this unit's lock are not for a later one
        self._local.last = False
        sealed, pending[:] = list(pending), []
        written = {UUID(str(stored.originator_id)) for stored, _ in sealed}
        if not committed:
            return written
        verified = self._cache()
        for stored, entry in sealed:
            aggregate = UUID(str(stored.originator_id))
            pairs = verified.get(aggregate)
            if pairs is not None and pairs[-1][1].version == entry.version - 1:
                pairs.append((stored, entry))
                verified.move_to_end(aggregate)
            elif pairs is None and entry.version == 1:
                verified[aggregate] = [(stored, entry)]
            else:
                verified.pop(aggregate, None)
        while len(verified) > _CACHED_AGGREGATES:
            verified.popitem(last=False)
        return written

    def entries(
        self, aggregate: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[tuple[StoredEvent, Entry]]:
        """Stored events of ``aggregate`` (after ``gt``, up to ``lte``), verified, with entries."""
        pairs = self._extend(aggregate)
        return _between(pairs, gt, lte)

    def kept_entries(
        self, aggregate: UUID, upto: int, *, gt: int = 0
    ) -> list[tuple[StoredEvent, Entry]]:
        """Versions after ``gt`` up to ``upto`` of ``aggregate``: kept ones if they reach it.

        Stored events never change, so kept entries that reach ``upto`` are what a read would
        verify to; otherwise this is :meth:`entries` (a read).
        """
        pairs = self._cache().get(aggregate)
        if pairs is not None and len(pairs) >= upto:
            return _between(pairs, gt, upto)
        return self.entries(aggregate, gt=gt, lte=upto)

    def _cache(self) -> OrderedDict[UUID, list[tuple[StoredEvent, Entry]]]:
        if not hasattr(self, "_verified"):
            self._verified = OrderedDict()
        return self._verified

    def lock_and_read(self, connection: Connection, aggregate: UUID, key: int) -> bool:
        """Take the aggregate's advisory lock and read its new events in one round trip.

        PostgreSQL only (the server-side lock-read of :class:`LogStore`): the rows after the
        last kept version are held for this thread's next read of ``aggregate``, which then
        verifies them as if it had selected them itself. The wait can be cut in slices
        (``_WAIT_SLICE``): after each, the events committed meanwhile are read and verified (as
        any read does), so the turn, once taken, has only the last few left to check.
        False where there is no such call.
        """
        call = None if self.log is None else self.log.lock_read_call
        if call is None or connection.dialect.name != "postgresql":
            return False
        while True:
            pairs = self._cache().get(aggregate)
            after = pairs[-1][1].version if pairs else 0
            params = {"k": key, "a": aggregate, "after": after, "wait": _WAIT_SLICE}
            rows = connection.exec_driver_sql(call, params).all()
            found = [StoredEvent(aggregate, int(v), str(t), bytes(s)) for v, t, s, _ in rows if v]
            self._pending()
            self._local.read = (aggregate, after, found)
            if rows[0][3]:
                return True
            if found:
                self._extend(aggregate)  # verified now, while the lock's holder works

    def _select(self, aggregate: UUID, after: int) -> Sequence[StoredEvent]:
        """The stored events of ``aggregate`` after version ``after``: held ones if read so."""
        self._pending()
        held = getattr(self._local, "read", None)
        if held is not None:
            self._local.read = None
            if held[:2] == (aggregate, after):
                return list(held[2])
        return self.recorder.select_events(aggregate, gt=after or None)

    def _extend(self, aggregate: UUID) -> list[tuple[StoredEvent, Entry]]:
        pairs = self._cache().pop(aggregate, [])
        previous = pairs[-1][1] if pairs else None
        for stored in self._select(aggregate, previous.version if previous else 0):
            entry = self.mapper.open(stored)
            try:
                check_link(previous, entry)
            except TamperError as e:
                raise type(e)(
                    e.detail, aggregate=aggregate, version=stored.originator_version
                ) from e
            pairs.append((stored, entry))
            previous = entry
        if previous is not None:
            self.mapper.chain.advance(aggregate, previous.version, previous.hash)
            self._verified[aggregate] = pairs
            while len(self._verified) > _CACHED_AGGREGATES:
                self._verified.popitem(last=False)
        return pairs

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
        **kwargs: Any,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        """Domain events of ``originator_id``; ascending reads verify the chain too."""
        if not desc and limit is None:
            pairs = self.entries(originator_id, gt=gt, lte=lte)
            return (self.mapper.event_of(stored, entry) for stored, entry in pairs)
        return super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)


def _between(
    pairs: list[tuple[StoredEvent, Entry]], gt: int | None, lte: int | None
) -> list[tuple[StoredEvent, Entry]]:
    """The pairs after version ``gt`` up to ``lte``: a slice, as versions run 1, 2, ..."""
    start = 0 if gt is None else max(gt, 0)
    if lte is not None and lte <= start:
        return []
    return pairs[start:lte]
