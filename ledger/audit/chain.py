"""The per-aggregate hash chain: each event signs the entry hash of the one before it.

Rules:
- Version 1 has ``prev`` null; version N+1 follows version N and its ``prev`` is the entry hash
  of version N. A gap is a missing event, a wrong ``prev`` a replaced or reordered one.
- A deleted *last* event leaves a valid chain; the Merkle log and its checkpoints catch that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol
from uuid import UUID

from ledger.audit.envelope import Entry, entry_hash
from ledger.errors import ChainError

__all__ = ["ChainHeads", "Link", "check_link"]


class Link(Protocol):
    """What the chain check reads of the event before: an :class:`Entry` or just its head."""

    @property
    def aggregate(self) -> str:
        """The aggregate id."""
        ...

    @property
    def version(self) -> int:
        """The version."""
        ...

    @property
    def hash(self) -> str:
        """The entry hash (hex)."""
        ...


def check_link(previous: Link | None, entry: Entry) -> None:
    """Return None if ``entry`` follows ``previous`` in its chain, else raise ChainError."""
    if previous is None:
        if entry.version != 1 or entry.prev is not None:
            raise ChainError(
                f"history starts at version {entry.version}: earlier events are missing"
            )
        return
    if entry.aggregate != previous.aggregate:
        raise ChainError(f"follows an event of aggregate {previous.aggregate}")
    if entry.version != previous.version + 1:
        raise ChainError(
            f"follows version {previous.version}: version {previous.version + 1} is missing"
        )
    if entry.prev != previous.hash:
        raise ChainError(
            f"prev {entry.prev} is not the entry hash {previous.hash} of version"
            f" {previous.version} (replaced or reordered)"
        )


class ChainHeads:
    """The entry hash of each aggregate's latest event, to chain the next one to it."""

    def __init__(self, loader: Callable[[UUID, int], bytes | None]) -> None:
        self._heads: dict[UUID, tuple[int, str]] = {}
        self._loader = loader

    def previous(self, aggregate: UUID, version: int) -> str | None:
        """The entry hash that version ``version`` must chain to (None for version 1)."""
        if version == 1:
            return None
        head = self._heads.get(aggregate)
        if head is not None and head[0] == version - 1:
            return head[1]
        stored = self._loader(aggregate, version - 1)
        if stored is None:
            raise ChainError(f"version {version - 1} is not stored", aggregate=aggregate)
        return entry_hash(stored)

    def advance(self, aggregate: UUID, version: int, hash_: str) -> None:
        """Record that ``version`` with ``hash_`` is now the aggregate's latest event."""
        self._heads[aggregate] = (version, hash_)

    def forget(self, aggregates: Iterable[UUID]) -> None:
        """Drop what is known of ``aggregates`` (after a failed save)."""
        for aggregate in aggregates:
            self._heads.pop(aggregate, None)
