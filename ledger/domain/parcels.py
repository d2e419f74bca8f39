"""Parcels: the land or sea areas a sink project (or a credited project) covers (R9).

Rules:
- A parcel has an id (a forest-rights certificate number, a sea-area use-right number...) and
  optionally its area as a GeoJSON Polygon or MultiPolygon in longitude/latitude.
- Coordinates stay exact: the geometry is kept as compact GeoJSON text whose numbers are the
  decimal text given (floats never enter signed data). Only structure and ranges are checked
  here; geometric validity and overlaps are checked around the domain, in the store
  (``ledger.store._claims._geometry``).
- A parcel validates on construction, whatever the constructor (``Parcel(...)``,
  :meth:`Parcel.of`, :meth:`Parcel.from_json`): longitude within -180..180, latitude within
  -90..90, closed rings of at least 4 positions, and within the limits below (R9). The text is
  kept in its compact normal form.
- Limits per parcel: at most :data:`MAX_VERTICES` positions (10,000) and
  :data:`MAX_GEOMETRY_BYTES` of GeoJSON text (256 KiB, measured before parsing). Larger areas
  are registered as several parcels.
- A *reference* to a registered parcel (:meth:`Parcel.reference`, what a sink project's
  removals batch carries) has the id and the ``digest`` of the geometry text
  (``sha256:`` + hex SHA-256 of its UTF-8 bytes) and no geometry, so proofs of those credits
  never carry the area and the store checks the digest against the registration (R9).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ledger.domain.values import require_text
from ledger.errors import InvalidInputError

__all__ = ["MAX_GEOMETRY_BYTES", "MAX_VERTICES", "Parcel", "geometry_digest"]

#: Most positions (vertices, closing ones included) one parcel's geometry may have.
MAX_VERTICES = 10_000
#: Most bytes of GeoJSON text (UTF-8) one parcel's geometry may have.
MAX_GEOMETRY_BYTES = 256 * 1024


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
            if len(positions) > MAX_VERTICES:
                raise InvalidInputError(f"geometry has more than {MAX_VERTICES:,} positions")
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
    text = geometry if isinstance(geometry, str) else _compact(dict(geometry))
    size = len(text.encode("utf-8"))
    if size > MAX_GEOMETRY_BYTES:
        raise InvalidInputError(f"geometry is {size:,} bytes, more than {MAX_GEOMETRY_BYTES:,}")
    try:
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
    digest: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.digest is not None and (
            not isinstance(self.digest, str) or not _DIGEST.fullmatch(self.digest)
        ):
            raise InvalidInputError(f"parcel {self.id!r}: digest must be sha256:<64 hex digits>")
        if self.digest is not None and self.geometry is not None:
            raise InvalidInputError(f"parcel {self.id!r}: a reference has a digest, no geometry")
        if self.geometry is None:
            return
        if not isinstance(self.geometry, str):
            raise InvalidInputError(f"parcel {self.id!r}: geometry must be GeoJSON text")
        try:
            normal = normal_geometry(self.geometry)
        except InvalidInputError as e:
            raise InvalidInputError(f"parcel {self.id!r}: {e}", rule="R9") from e
        object.__setattr__(self, "geometry", normal)

    @classmethod
    def of(cls, id: str, geometry: str | Mapping[str, Any] | None = None) -> Parcel:
        """A parcel with a validated, normalized geometry (text or a GeoJSON mapping)."""
        if geometry is None or isinstance(geometry, str):
            return cls(id, geometry)
        return cls(id, _compact(dict(geometry)))

    def reference(self) -> Parcel:
        """The parcel as a removals batch names it: its id and its geometry's digest."""
        return Parcel(self.id, None, geometry_digest(self.geometry))

    def to_json(self) -> dict[str, str | None]:
        """The form kept in events (``digest`` only for a reference)."""
        found = {"id": self.id, "geometry": self.geometry}
        return found if self.digest is None else found | {"digest": self.digest}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parcel:
        """Rebuild a parcel from its event form."""
        if not isinstance(data, Mapping) or not {"id"} <= set(data) <= _MEMBERS:
            raise InvalidInputError(f"a parcel has id, geometry and maybe digest, got {data!r}")
        return cls(data["id"], data.get("geometry"), data.get("digest"))


def geometry_digest(geometry: str | None) -> str | None:
    """``sha256:`` + the hex SHA-256 of a geometry's text (None for none)."""
    if geometry is None:
        return None
    return "sha256:" + hashlib.sha256(geometry.encode("utf-8")).hexdigest()


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_MEMBERS = {"id", "geometry", "digest"}
