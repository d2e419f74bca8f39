"""An event store that verifies the hash chain of every aggregate it reads.

Rules:
- Every event read is verified (:meth:`SigningMapper.open`) and linked to the one before it
  (:func:`check_link`) from version 1 on; the verified entries of recently read aggregates
  are kept (stored events never change), so a later read verifies only the new events.
- Writes are signed by the signer passed to :meth:`ChainedEventStore.put` (never implicitly).
- Reads remember the chain head so the next event written chains to it.
- Descending or limited reads verify each event but not the links.
- ``ledger audit`` never uses this cache: it re-reads and re-verifies everything.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Notification, Recording, StoredEvent

from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry
from ledger.audit.keys import Signer
from ledger.errors import AuthorizationError, TamperError
from ledger.store._mapper import SigningMapper

__all__ = ["ChainedEventStore"]

_CACHED_AGGREGATES = 256


class ChainedEventStore(EventStore[UUID]):
    """Stores signed envelopes; reads verify signatures and chain links."""

    mapper: SigningMapper
    _verified: OrderedDict[UUID, list[tuple[StoredEvent, Entry]]]

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
        stored = [self.mapper.sign(event, signer) for event in domain_events]
        ids = self.recorder.insert_events(stored, **kwargs)
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

    def entries(
        self, aggregate: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[tuple[StoredEvent, Entry]]:
        """Stored events of ``aggregate`` (after ``gt``, up to ``lte``), verified, with entries."""
        pairs = self._extend(aggregate)
        return [
            p
            for p in pairs
            if (gt is None or p[1].version > gt) and (lte is None or p[1].version <= lte)
        ]

    def _extend(self, aggregate: UUID) -> list[tuple[StoredEvent, Entry]]:
        if not hasattr(self, "_verified"):
            self._verified = OrderedDict()
        pairs = list(self._verified.pop(aggregate, []))
        previous = pairs[-1][1] if pairs else None
        for stored in self.recorder.select_events(
            aggregate, gt=previous.version if previous else None
        ):
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
