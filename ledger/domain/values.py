"""Value objects of the domain: frozen, validated on construction, exact (never float).

Rules:
- A serial range is inclusive, ``1 <= start <= end <= MAX_SERIAL``; ``MAX_SERIAL`` keeps every
  serial an exact integer in RFC 8785 canonical JSON (2**53 - 1).
- Names and references are non-empty, trimmed text without control characters.
- Instruments are the R7 kinds; nothing else is accepted.
"""

from __future__ import annotations

import enum

import attrs

from ledger.errors import InvalidInputError

__all__ = ["MAX_SERIAL", "Instrument", "SerialRange", "require_text", "require_year"]

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


def require_text(what: str, value: object) -> str:
    """Return ``value`` if it is non-empty text without surrounding blanks or control chars."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be non-empty text, got {value!r}")
    if value != value.strip() or any(ord(ch) < 32 for ch in value):
        raise InvalidInputError(f"{what} has surrounding blanks or control characters: {value!r}")
    return value


def require_year(what: str, value: object) -> int:
    """Return ``value`` if it is a plausible calendar year (an int from 1990 to 9999)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 9999:
        raise InvalidInputError(f"{what} must be a year from 1990 to 9999, got {value!r}")
    return value


def _serial(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"serial {attribute.name} must be an integer, got {value!r}")
    if not 1 <= value <= MAX_SERIAL:
        raise InvalidInputError(f"serial {attribute.name} {value} is outside 1..{MAX_SERIAL}")


@attrs.frozen(order=True)
class SerialRange:
    """An inclusive block of serial units ``start..end`` of one batch."""

    start: int = attrs.field(validator=_serial)
    end: int = attrs.field(validator=_serial)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInputError(f"serial range {self.start}-{self.end} is reversed")

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
