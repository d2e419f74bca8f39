"""Where every serial unit of a batch is: one state and one account per unit, always.

Rules:
- The lots of a :class:`UnitMap` never overlap and together cover the issued block exactly, so a
  unit is never in two states or two holdings (SPEC section 4).
- Maps are immutable: :meth:`UnitMap.assign` returns a new map.
- Lots are sorted by first serial, so finding the lots a range touches is a binary search:
  the cost of a command does not grow with the number of lots a batch's history has made
  (only copying the tuple of lots, which is a flat, fast copy).
"""

from __future__ import annotations

import bisect
import enum

import attrs

from ledger.domain.values import SerialRange

__all__ = ["Lot", "UnitMap", "UnitState"]


class UnitState(enum.StrEnum):
    """The state of a serial unit."""

    HELD = "held"
    RESERVED = "reserved"
    RETIRED = "retired"
    EXPORTED = "exported"


@attrs.frozen
class Lot:
    """A run of consecutive units in one state, for one account (and event, if any).

    ``account`` is the holder (held, reserved) or the account that retired or exported the
    units; ``purpose`` is the event they are reserved or retired for, or the target registry of
    an export.
    """

    serials: SerialRange
    state: UnitState
    account: str
    purpose: str | None = None


@attrs.frozen
class UnitMap:
    """The state of every unit of one issued block, as sorted, non-overlapping lots."""

    lots: tuple[Lot, ...]

    def __deepcopy__(self, memo: dict[int, object]) -> UnitMap:
        return self  # immutable: sharing is safe, and copying big maps is not free

    @classmethod
    def issued(cls, serials: SerialRange, holder: str) -> UnitMap:
        """A new block, every unit held by ``holder``."""
        return cls((Lot(serials, UnitState.HELD, holder),))

    def _touched(self, serials: SerialRange) -> tuple[int, int]:
        """The index range ``[first, end)`` of the lots that ``serials`` overlaps."""
        lots = self.lots
        first = max(bisect.bisect_right(lots, serials.start, key=_start) - 1, 0)
        while first < len(lots) and lots[first].serials.end < serials.start:
            first += 1
        end = bisect.bisect_right(lots, serials.end, key=_start, lo=first)
        return first, end

    def within(self, serials: SerialRange) -> tuple[Lot, ...]:
        """The lots that ``serials`` touches, clipped to ``serials``."""
        first, end = self._touched(serials)
        clipped = []
        for lot in self.lots[first:end]:
            common = lot.serials.intersection(serials)
            if common is not None:
                clipped.append(attrs.evolve(lot, serials=common))
        return tuple(clipped)

    def assign(
        self, serials: SerialRange, state: UnitState, account: str, purpose: str | None = None
    ) -> UnitMap:
        """A new map where every unit of ``serials`` is in ``state`` for ``account``."""
        first, end = self._touched(serials)
        middle: list[Lot] = []
        for lot in self.lots[first:end]:
            if not lot.serials.overlaps(serials):
                middle.append(lot)
                continue
            middle.extend(attrs.evolve(lot, serials=part) for part in lot.serials.minus(serials))
        middle.append(Lot(serials, state, account, purpose))
        middle.sort(key=_start)
        return UnitMap(self.lots[:first] + tuple(middle) + self.lots[end:])

    def split(self, at: int) -> UnitMap:
        """A new map where the lot holding serial ``at`` starts a new lot at ``at``."""
        lots: list[Lot] = []
        for lot in self.lots:
            if lot.serials.start < at <= lot.serials.end:
                head = SerialRange(lot.serials.start, at - 1)
                tail = SerialRange(at, lot.serials.end)
                lots += [attrs.evolve(lot, serials=head), attrs.evolve(lot, serials=tail)]
            else:
                lots.append(lot)
        return UnitMap(tuple(lots))

    def total(self, state: UnitState) -> int:
        """Number of units in ``state``."""
        return sum(lot.serials.quantity for lot in self.lots if lot.state is state)


def _start(lot: Lot) -> int:
    return lot.serials.start
