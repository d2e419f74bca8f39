"""Parcels: the land or sea areas a sink project (or a credited project) covers (R9).

Rules:
- A parcel has an id (a forest-rights certificate number, a sea-area use-right number...) and
  optionally its area as a GeoJSON Polygon or MultiPolygon in longitude/latitude.
- Coordinates stay exact: the geometry is kept as compact GeoJSON text whose numbers are the
  decimal text given (floats never enter signed data). Only structure and ranges are checked
  here; geometric validity and overlaps are checked around the domain, in the store
  (``ledger.store._claims._geometry``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ledger.domain.values import require_text
from ledger.errors import InvalidInputError

__all__ = ["Parcel"]


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        items = (f"{json.dumps(key)}:{_compact(value[key])}" for key in sorted(value))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def _positions(kind: str, coordinates: Any) -> list[Any]:
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    if not isinstance(polygons, list) or not polygons:
        raise InvalidInputError(f"{kind} coordinates must be a non-empty list")
    positions: list[Any] = []
    for polygon in polygons:
        for ring in polygon if isinstance(polygon, list) and polygon else [None]:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                raise InvalidInputError("every ring needs at least 4 positions and must be closed")
            positions.extend(ring)
    return positions


def _check_position(position: Any) -> None:
    if not isinstance(position, list) or len(position) != 2:
        raise InvalidInputError(f"a position is [longitude, latitude], got {position!r}")
    lon, lat = position
    if not all(isinstance(n, Decimal | int) and not isinstance(n, bool) for n in position):
        raise InvalidInputError(f"coordinates must be numbers, got {position!r}")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInputError(f"position {position!r} is not a longitude/latitude")


def normal_geometry(geometry: str | Mapping[str, Any]) -> str:
    """Validate a GeoJSON (Multi)Polygon and return its compact, exact text."""
    try:
        text = geometry if isinstance(geometry, str) else _compact(dict(geometry))
        parsed = json.loads(text, parse_float=Decimal)
    except RecursionError as e:
        raise InvalidInputError("geometry is not GeoJSON: it nests too deep") from e
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"geometry is not GeoJSON: {e}") from e
    if not isinstance(parsed, dict) or parsed.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInputError("geometry must be a GeoJSON Polygon or MultiPolygon")
    extra = set(parsed) - {"type", "coordinates", "bbox"}
    if extra:
        raise InvalidInputError(f"geometry has unexpected members {sorted(extra)}")
    for position in _positions(parsed["type"], parsed.get("coordinates")):
        _check_position(position)
    return _compact({"type": parsed["type"], "coordinates": parsed["coordinates"]})


@attrs.frozen
class Parcel:
    """One land or sea parcel: an id and, optionally, its area as exact GeoJSON text."""

    id: str = attrs.field(validator=lambda _, __, value: require_text("parcel id", value))
    geometry: str | None = None

    @classmethod
    def of(cls, id: str, geometry: str | Mapping[str, Any] | None = None) -> Parcel:
        """A parcel with a validated, normalized geometry."""
        if geometry is None:
            return cls(id)
        try:
            return cls(id, normal_geometry(geometry))
        except InvalidInputError as e:
            raise InvalidInputError(f"parcel {id!r}: {e}", rule="R9") from e

    def to_json(self) -> dict[str, str | None]:
        """The form kept in events."""
        return {"id": self.id, "geometry": self.geometry}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parcel:
        """Rebuild a parcel from its event form."""
        return cls(data["id"], data.get("geometry"))
