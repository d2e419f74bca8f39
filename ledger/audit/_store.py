"""An event store that verifies the hash chain of every aggregate it reads.

Rules:
- A whole-aggregate read verifies every event (:meth:`SigningMapper.open`) and every chain link
  (:func:`check_link`), and remembers the head so the next event chains to it.
- Partial reads (from a version, descending, limited) verify each event but not the links.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, StoredEvent

from ledger.audit._mapper import SigningMapper
from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry
from ledger.errors import TamperError

__all__ = ["ChainedEventStore"]


class ChainedEventStore(EventStore[UUID]):
    """Stores signed envelopes; reads verify signatures and chain links."""

    mapper: SigningMapper

    def entries(
        self, aggregate: UUID, *, lte: int | None = None
    ) -> list[tuple[StoredEvent, Entry]]:
        """Every stored event of ``aggregate`` (up to ``lte``), verified, with its entry."""
        pairs: list[tuple[StoredEvent, Entry]] = []
        previous: Entry | None = None
        for stored in self.recorder.select_events(aggregate, lte=lte):
            entry = self.mapper.open(stored)
            try:
                check_link(previous, entry)
            except TamperError as e:
                raise type(e)(
                    e.detail, aggregate=aggregate, version=stored.originator_version
                ) from e
            pairs.append((stored, entry))
            previous = entry
        if previous is not None and lte is None:
            self.mapper.chain.advance(aggregate, previous.version, previous.hash)
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
        """Domain events of ``originator_id``; whole reads verify the chain too."""
        if gt is None and not desc and limit is None:
            pairs = self.entries(originator_id, lte=lte)
            return (self.mapper.event_of(stored, entry) for stored, entry in pairs)
        return super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
