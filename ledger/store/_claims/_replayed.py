"""The claims a replay (audit or import) makes again from the signed history alone.

Rules:
- The same rules and refusals as the store's :class:`ClaimIndex` (R9, R11), but kept apart
  from every store: nothing is read from a database the history is being checked against.
- Serial blocks are kept in memory, per registry, sorted by start: a new block is checked
  against the block with the greatest start at or before its end, the only one that can
  overlap it since kept blocks never overlap (the same check as the database guard), so a
  replay's cost per issuance does not grow with the history.
- Parcels, bindings and sources are claimed in an in-memory SQLite :class:`ClaimIndex` (the
  area-overlap search), exactly as a store claims them.
- A refused claim leaves nothing behind.
"""

from __future__ import annotations

import bisect
from typing import Any

import sqlalchemy as sa

from ledger.store._claims import ClaimIndex, Claims
from ledger.store._claims._serials import SerialClaim, serial_overlap
from ledger.store._rows import row_order

__all__ = ["ReplayClaims"]


class _Blocks:
    """One registry's serial blocks, sorted by start (three parallel lists)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.batches: list[str] = []


class ReplayClaims:
    """Claims of a replayed history; see the module rules."""

    def __init__(self) -> None:
        self._engine = sa.create_engine("sqlite://")
        self._index = ClaimIndex(self._engine, None)
        self._blocks: dict[str, _Blocks] = {}

    def claim(self, claims: Claims) -> None:
        """Make ``claims`` or raise the RuleViolationError the store would raise."""
        added: list[SerialClaim] = []
        try:
            for serial in claims.serials:
                self._take(serial)
                added.append(serial)
            rest = Claims(parcels=claims.parcels, bindings=claims.bindings, sources=claims.sources)
            if rest:
                with self._engine.begin() as connection:
                    self._index.claim(connection, rest)
        except BaseException:
            for serial in added:
                self._drop(serial)
            raise

    def _take(self, claim: SerialClaim) -> None:
        blocks = self._blocks.setdefault(claim.registry, _Blocks())
        at = bisect.bisect_right(blocks.starts, claim.serials.end)
        if at and blocks.ends[at - 1] >= claim.serials.start:
            earlier = (
                f"batch {blocks.batches[at - 1]} ({blocks.starts[at - 1]}-{blocks.ends[at - 1]})"
            )
            raise serial_overlap(claim, earlier)
        blocks.starts.insert(at, claim.serials.start)
        blocks.ends.insert(at, claim.serials.end)
        blocks.batches.insert(at, claim.batch)

    def _drop(self, claim: SerialClaim) -> None:
        blocks = self._blocks[claim.registry]
        at = bisect.bisect_left(blocks.starts, claim.serials.start)
        del blocks.starts[at], blocks.ends[at], blocks.batches[at]

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every claim row, sorted, by table name (as :meth:`ClaimIndex.rows` gives them)."""
        with self._engine.connect() as connection:
            found = self._index.rows(connection)
        serials = [
            (registry, start, end, batch)
            for registry, blocks in self._blocks.items()
            for start, end, batch in zip(blocks.starts, blocks.ends, blocks.batches, strict=True)
        ]
        found[self._index.serials.table.name] = sorted(serials, key=row_order)
        return found

    def close(self) -> None:
        """Release the in-memory database."""
        self._engine.dispose()
