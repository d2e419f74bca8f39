"""Geometry of parcels with shapely, outside the pure domain (R9).

Rules:
- A parcel geometry must be a valid (Multi)Polygon with a non-empty interior.
- Two areas overlap when their interiors intersect (DE-9IM ``T********``): parcels that only
  share a border or a corner do not overlap; one inside another, or equal, does.
- Geometry is computed in floating point here only; the signed record keeps the exact text.
"""

from __future__ import annotations

import json

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from ledger.errors import InvalidInputError

__all__ = ["area_of", "bounds", "interiors_overlap"]


def area_of(parcel_id: str, geometry: str) -> BaseGeometry:
    """The shapely geometry of a parcel, or InvalidInputError naming what is wrong."""
    try:
        area = shape(json.loads(geometry))
    except (ValueError, TypeError, shapely.errors.ShapelyError) as e:
        raise InvalidInputError(
            f"parcel {parcel_id}: geometry cannot be read: {e}", rule="R9"
        ) from e
    if not area.is_valid:
        raise InvalidInputError(
            f"parcel {parcel_id}: geometry is not a valid area ({explain_validity(area)})",
            rule="R9",
        )
    if area.area <= 0:
        raise InvalidInputError(f"parcel {parcel_id}: geometry has no area", rule="R9")
    return area


def bounds(area: BaseGeometry) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of an area."""
    min_x, min_y, max_x, max_y = area.bounds
    return float(min_x), float(min_y), float(max_x), float(max_y)


def interiors_overlap(first: BaseGeometry, second: BaseGeometry) -> bool:
    """True if the two areas share interior points (not just a border)."""
    return bool(first.relate_pattern(second, "T********"))
