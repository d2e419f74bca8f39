"""Value objects of the domain: frozen, validated on construction, exact (never floating point).

Rules:
- A serial range is inclusive, ``1 <= start <= end <= MAX_SERIAL``; ``MAX_SERIAL`` keeps every
  serial an exact integer in RFC 8785 canonical JSON (2**53 - 1). Serial units are what R11
  traces, so a range outside these bounds is refused naming R11.
- Names and references are non-empty, trimmed text without control characters.
- Instruments are the R7 kinds; nothing else is accepted. CEA and CCER come in whole tonnes
  (1 unit = 1 tCO2e); only carbon-inclusion and other-mechanism instruments may use a smaller
  unit (0.1, 0.01 or 0.001 tCO2e per serial unit).
- R8 priority rank is derived from the instrument and the project's province, never typed in:
  1 carbon-inclusion (Shandong platform), 2 CCER or other mechanism from a Shandong project,
  3 CEA allowances, 4 anything else.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal

import attrs

from ledger.errors import InvalidInputError

__all__ = [
    "MAX_SERIAL",
    "Instrument",
    "SerialRange",
    "priority_rank",
    "require_text",
    "require_unit",
    "require_year",
]

MAX_SERIAL = 2**53 - 1


class Instrument(enum.StrEnum):
    """R7 offset instruments."""

    CEA = "cea"
    CCER = "ccer"
    INCLUSION_FOREST = "inclusion-forest"
    INCLUSION_MARINE = "inclusion-marine"
    INCLUSION_OTHER = "inclusion-other"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str) -> Instrument:
        """Return the instrument named ``value`` or raise :class:`InvalidInputError` (R7)."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(member.value for member in cls)
            raise InvalidInputError(
                f"unknown instrument {value!r}; expected one of {known}", rule="R7"
            ) from None

    @property
    def allows_fractions(self) -> bool:
        """True if units smaller than one tonne may be issued (R7)."""
        return self not in (Instrument.CEA, Instrument.CCER)

    @property
    def is_carbon_inclusion(self) -> bool:
        """True for reductions of the Shandong carbon-inclusion platform (R8 rank 1)."""
        return self.value.startswith("inclusion-")


_SHANDONG = {"shandong", "山东", "山东省"}
_CONTROL = re.compile("[\x00-\x1f]")  # control characters below space
_UNITS = tuple(Decimal(1).scaleb(-k) for k in range(4))


def priority_rank(instrument: Instrument, province: str) -> int:
    """The R8 priority rank (1 is preferred) of an instrument from a project's province."""
    if instrument.is_carbon_inclusion:
        return 1
    if instrument in (Instrument.CCER, Instrument.OTHER) and province.lower() in _SHANDONG:
        return 2
    if instrument is Instrument.CEA:
        return 3
    return 4


def require_unit(instrument: Instrument, unit: object) -> Decimal:
    """Return the tCO2e per serial unit if ``instrument`` allows it (R7), else raise."""
    if isinstance(unit, bool) or not isinstance(unit, int | Decimal):
        raise InvalidInputError(f"unit must be an exact int or Decimal, got {unit!r}", rule="R7")
    value = Decimal(unit)
    if value not in _UNITS:
        raise InvalidInputError(f"unit {unit} tCO2e is not 1, 0.1, 0.01 or 0.001", rule="R7")
    if value != 1 and not instrument.allows_fractions:
        raise InvalidInputError(
            f"{instrument.value} is issued in whole tonnes; unit {unit} is not allowed", rule="R7"
        )
    return value.normalize() if value != 1 else Decimal(1)


_CONTROL = re.compile("[\x00-\x1f]")  # the characters below 32


def require_text(what: str, value: object) -> str:
    """Return ``value`` if it is non-empty text without surrounding blanks or control chars."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be non-empty text, got {value!r}")
    if value != value.strip() or _CONTROL.search(value):
        raise InvalidInputError(f"{what} has surrounding blanks or control characters: {value!r}")
    return value


def require_year(what: str, value: object, *, latest: int = 9999, rule: str | None = None) -> int:
    """Return ``value`` if it is a calendar year from 1990 to ``latest`` (errors name ``rule``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1990:
        raise InvalidInputError(f"{what} must be a year from 1990, got {value!r}", rule=rule)
    if value > latest:
        raise InvalidInputError(
            f"{what} {value} is in the future (this year is {latest})", rule=rule
        )
    return value


def _serial(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"serial {attribute.name} must be an integer, got {value!r}")
    if not 1 <= value <= MAX_SERIAL:
        raise InvalidInputError(
            f"serial {attribute.name} {value} is outside 1..{MAX_SERIAL}", rule="R11"
        )


@attrs.frozen(order=True)
class SerialRange:
    """An inclusive block of serial units ``start..end`` of one batch."""

    start: int = attrs.field(validator=_serial)
    end: int = attrs.field(validator=_serial)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(f"serial range {self.start}-{self.end} is reversed", rule="R11")

    @property
    def quantity(self) -> int:
        """Number of units in the range."""
        return self.end - self.start + 1

    def contains(self, other: SerialRange) -> bool:
        """True if every unit of ``other`` is in this range."""
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: SerialRange) -> bool:
        """True if the two ranges share at least one unit."""
        return self.start <= other.end and other.start <= self.end

    def intersection(self, other: SerialRange) -> SerialRange | None:
        """The units common to both ranges, or ``None``."""
        if not self.overlaps(other):
            return None
        return SerialRange(max(self.start, other.start), min(self.end, other.end))

    def minus(self, other: SerialRange) -> tuple[SerialRange, ...]:
        """The parts of this range outside ``other`` (zero, one or two ranges)."""
        parts: list[SerialRange] = []
        if other.start > self.start:
            parts.append(SerialRange(self.start, min(self.end, other.start - 1)))
        if other.end < self.end:
            parts.append(SerialRange(max(self.start, other.end + 1), self.end))
        return tuple(parts)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"
