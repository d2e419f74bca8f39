"""Emission factor tables for R6 accounting: the shipped defaults and user-supplied tables.

Rules:
- A factor has an id, its R6 source, the activity unit, the factor in kgCO2e per unit as exact
  decimal text, the year, and the reference it comes from; floats are refused.
- The default table ships as data (``ledger/data/emission_factors.json``) with its sources;
  ``checked`` says whether a figure was re-read against a copy or report of its publication and
  ``check`` says against what (docs/emission-factors.md). A figure marked checked must say how.
- ``year`` is the year the figure describes (for a DESNZ factor, the conversion-factor set).
- A user table has the same format and replaces the defaults it names by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from ledger.audit import strict_json
from ledger.domain.event_values import Line, Source
from ledger.errors import InvalidInputError, NotFoundError

__all__ = ["Factor", "FactorTable"]


@attrs.frozen
class Factor:
    """One emission factor with its source."""

    id: str
    source: str
    unit: str
    factor: Decimal
    year: int
    reference: str
    checked: bool = False
    check: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Factor:
        """Parse one table entry; the factor is decimal text."""
        try:
            if not isinstance(data["factor"], str):
                raise InvalidInputError(
                    f"factor {data.get('id')!r}: factor must be decimal text", rule="R6"
                )
            factor = strict_json.decimal_text(
                f"factor {data.get('id')!r}: factor", data["factor"], rule="R6"
            )
            if factor < 0:
                raise InvalidInputError(
                    f"factor {data.get('id')!r}: factor must be zero or more", rule="R6"
                )
            Source(data["source"])
            checked, check = _check_of(data)
            return cls(
                data["id"],
                data["source"],
                data["unit"],
                factor,
                int(data["year"]),
                data["reference"],
                checked,
                check,
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as e:
            if isinstance(e, InvalidInputError):
                raise
            raise InvalidInputError(
                f"bad emission factor entry {dict(data)!r}: {e}", rule="R6"
            ) from e

    def line(self, activity: Decimal | int) -> Line:
        """An R6 accounting line of ``activity`` units at this factor."""
        return Line(self.source, activity, self.unit, self.factor, self.reference, self.year)


_FIELDS = frozenset({"id", "source", "unit", "factor", "year", "reference", "checked", "check"})


def _check_of(data: Mapping[str, Any]) -> tuple[bool, str]:
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InvalidInputError(
            f"factor {data.get('id')!r}: unknown field {unknown[0]!r}", rule="R6"
        )
    checked, check = data.get("checked", False), data.get("check", "")
    if not isinstance(checked, bool) or not isinstance(check, str):
        raise InvalidInputError(
            f"factor {data.get('id')!r}: 'checked' is true or false and 'check' is text", rule="R6"
        )
    if checked and not check.strip():
        raise InvalidInputError(
            f"factor {data.get('id')!r}: a checked factor says in 'check' how", rule="R6"
        )
    return checked, check


class FactorTable:
    """Emission factors by id."""

    def __init__(self, factors: Iterable[Factor]) -> None:
        self._factors = {factor.id: factor for factor in factors}

    @classmethod
    def default(cls) -> FactorTable:
        """The shipped table (SPEC section 9 figures, with their references)."""
        shipped = resources.files("ledger").joinpath("data/emission_factors.json")
        return cls.from_json(strict_json.loads(shipped.read_bytes(), source=shipped.name))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FactorTable:
        """Parse a table document ``{"factors": [...]}``."""
        entries = data.get("factors") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise InvalidInputError('an emission factor table is {"factors": [...]}', rule="R6")
        return cls(Factor.from_json(entry) for entry in entries)

    @classmethod
    def load(cls, path: Path) -> FactorTable:
        """The default table with the user's table at ``path`` laid over it."""
        try:
            data = strict_json.loads(path.read_bytes(), source=str(path), exact=True)
            user = cls.from_json(data)
        except (OSError, ValueError) as e:
            if isinstance(e, InvalidInputError):
                raise
            raise InvalidInputError(f"cannot read emission factors {path}: {e}", rule="R6") from e
        return cls([*cls.default(), *user])

    def __getitem__(self, factor_id: str) -> Factor:
        try:
            return self._factors[factor_id]
        except KeyError:
            raise NotFoundError(f"no emission factor {factor_id!r}", rule="R6") from None

    def __iter__(self) -> Any:
        return iter(self._factors.values())
