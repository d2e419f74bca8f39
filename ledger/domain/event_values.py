"""Value objects of an event's neutralization: kinds, organisers, tiers, sources (R1-R6).

Rules:
- R1: an event kind is meeting, performance, forum, competition, exhibition or other; each
  organiser has an organisation type.
- R2: the tier is derived from the participant count, never typed in: 500 or more ->
  ``third_party``; 200-499 -> ``self_commitment``; under 200 -> ``voluntary``.
- R5: reduction measures have one of the policy's kinds.
- R6: emission sources follow the national guide's boundary; an accounting line is activity x
  factor (kgCO2e per unit) with the factor's source and year, kept exact. The accounted total
  is the sum in kg, divided by 1000 and rounded *up* to 0.001 t (never under-offset).
"""

from __future__ import annotations

import enum
from decimal import ROUND_CEILING, Decimal
from typing import Any

import attrs

from ledger.domain.values import require_text, require_year
from ledger.errors import InvalidInputError

__all__ = [
    "EventKind",
    "Line",
    "MeasureKind",
    "OrganisationType",
    "Organiser",
    "Source",
    "Tier",
    "exact",
    "tier_for",
    "total_tonnes",
]


class EventKind(enum.StrEnum):
    """R1 kinds of large events."""

    MEETING = "meeting"
    PERFORMANCE = "performance"
    FORUM = "forum"
    COMPETITION = "competition"
    EXHIBITION = "exhibition"
    OTHER = "other"


class OrganisationType(enum.StrEnum):
    """R1 organisation types of organisers."""

    PARTY_GOVERNMENT_ORGAN = "party-government-organ"
    PUBLIC_INSTITUTION = "public-institution"
    ENTERPRISE = "enterprise"
    SOCIAL_ORGANISATION = "social-organisation"
    INDIVIDUAL = "individual"


class Tier(enum.StrEnum):
    """R2 tiers: who must confirm the neutralization."""

    THIRD_PARTY = "third_party"
    SELF_COMMITMENT = "self_commitment"
    VOLUNTARY = "voluntary"


class MeasureKind(enum.StrEnum):
    """R5 kinds of reduction measures."""

    CLEAN_ENERGY_TRANSPORT = "clean-energy-transport"
    GREEN_ELECTRICITY = "green-electricity"
    FEWER_DISPOSABLES = "fewer-disposables"
    WATER_AND_POWER_SAVING = "water-and-power-saving"
    CLEAN_PLATE = "clean-plate"
    OTHER = "other"


class Source(enum.StrEnum):
    """R6 emission sources of the national guide's boundary."""

    FIXED_COMBUSTION = "fixed-combustion"
    MOBILE_COMBUSTION = "mobile-combustion"
    PURCHASED_ELECTRICITY = "purchased-electricity"
    PURCHASED_HEAT = "purchased-heat"
    TRANSPORT_AIR = "transport-air"
    TRANSPORT_RAIL = "transport-rail"
    TRANSPORT_ROAD = "transport-road"
    TRANSPORT_METRO = "transport-metro"
    TRANSPORT_TAXI = "transport-taxi"
    TRANSPORT_PRIVATE_CAR = "transport-private-car"
    LODGING = "lodging"
    CATERING = "catering"
    MATERIALS = "materials"
    WASTE = "waste"


def parse(kind: type[enum.StrEnum], value: object, rule: str) -> str:
    """The value of ``kind`` named ``value``, or InvalidInputError naming ``rule``."""
    try:
        return kind(str(value)).value
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InvalidInputError(
            f"unknown {kind.__name__} {value!r}; one of {known}", rule=rule
        ) from None


def tier_for(participants: int) -> Tier:
    """R2: the tier of an event with ``participants`` people."""
    if participants >= 500:
        return Tier.THIRD_PARTY
    if participants >= 200:
        return Tier.SELF_COMMITMENT
    return Tier.VOLUNTARY


def exact(what: str, value: object, *, positive: bool = False, rule: str | None = None) -> Decimal:
    """``value`` as an exact non-negative Decimal (int or Decimal only, never floating point).

    The error names ``what`` (the field) and, if given, the ``rule`` the quantity serves.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | Decimal)
        or not Decimal(value).is_finite()
    ):
        raise InvalidInputError(f"{what} must be an exact int or Decimal, got {value!r}", rule=rule)
    number = Decimal(value)
    if number < 0 or (positive and number == 0):
        raise InvalidInputError(
            f"{what} must be {'positive' if positive else 'zero or more'}, got {value}",
            rule=rule,
        )
    return number


def _org_type(value: object) -> str:
    return parse(OrganisationType, value, "R1")


def _source(value: object) -> str:
    return parse(Source, value, "R6")


def _activity(value: object) -> Decimal:
    return exact("activity", value, rule="R6")


def _factor(value: object) -> Decimal:
    return exact("emission factor", value, rule="R6")


def _text(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    require_text(attribute.name.replace("_", " "), value)


def _year(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    require_year(attribute.name.replace("_", " "), value, rule="R6")


@attrs.frozen
class Organiser:
    """One organiser of an event and its organisation type (R1)."""

    name: str = attrs.field(validator=_text)
    type: str = attrs.field(converter=_org_type)

    def to_json(self) -> dict[str, str]:
        """The form kept in events."""
        return {"name": self.name, "type": self.type}


@attrs.frozen
class Line:
    """One R6 accounting line: activity x emission factor."""

    source: str = attrs.field(converter=_source)
    activity: Decimal = attrs.field(converter=_activity)
    unit: str = attrs.field(validator=_text)
    factor: Decimal = attrs.field(converter=_factor)
    factor_source: str = attrs.field(validator=_text)
    factor_year: int = attrs.field(validator=_year)

    @property
    def kilograms(self) -> Decimal:
        """Emissions of the line in kgCO2e, exact."""
        return self.activity * self.factor

    def to_json(self) -> dict[str, Any]:
        """The form kept in events."""
        return attrs.asdict(self)


def total_tonnes(lines: list[Line]) -> Decimal:
    """R6: the accounted total in tCO2e, rounded up to 0.001 t."""
    kilograms = sum((line.kilograms for line in lines), Decimal(0))
    return (kilograms / 1000).quantize(Decimal("0.001"), rounding=ROUND_CEILING)
