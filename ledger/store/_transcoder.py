"""The store's transcoder: eventsourcing's JSON transcoder writing RFC 8785 canonical bytes.

Rules:
- Python values that JSON lacks (UUID, Decimal, datetime) are written as the tagged object
  ``{"_type_": NAME, "_data_": TEXT}`` of eventsourcing's JSON transcoder, and read back by it.
- Floats and non-text mapping keys are refused (:func:`ledger.audit.canonical_json` rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from ledger.audit._canonical import _TAG_MEMBERS, TAGGED_TYPES, canonical_json
from ledger.errors import InvalidInputError

__all__ = ["CanonicalTranscoder", "transcoder"]


class CanonicalTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, writing RFC 8785 canonical bytes."""

    def register(self, transcoding: Transcoding) -> None:
        """Register ``transcoding``; its name must be in the closed list :data:`TAGGED_TYPES`."""
        if transcoding.name not in TAGGED_TYPES:
            raise InvalidInputError(f"tagged type {transcoding.name!r} is not in TAGGED_TYPES")
        super().register(transcoding)

    def to_json(self, obj: Any) -> Any:
        """Return ``obj`` with every non-JSON value replaced by its tagged form."""
        if obj is None or isinstance(obj, bool | int | str):
            return obj
        if isinstance(obj, float):
            raise InvalidInputError(f"float {obj!r} in signed data; use int or Decimal")
        if isinstance(obj, Mapping):
            if _TAG_MEMBERS & set(obj):
                raise InvalidInputError("'_type_' and '_data_' are reserved names in signed data")
            return {_key(key): self.to_json(value) for key, value in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.to_json(item) for item in obj]
        tagged = self._encode_obj(obj)
        return {"_type_": tagged["_type_"], "_data_": self.to_json(tagged["_data_"])}

    def from_json(self, obj: Any) -> Any:
        """Inverse of :meth:`to_json`: rebuild tagged values."""
        if isinstance(obj, dict):
            return self._decode_obj({key: self.from_json(value) for key, value in obj.items()})
        if isinstance(obj, list):
            return [self.from_json(item) for item in obj]
        return obj

    def encode(self, obj: Any) -> bytes:
        """Canonical JSON bytes of ``obj``."""
        return canonical_json(self.to_json(obj))


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise InvalidInputError(f"mapping key {key!r} in signed data is not text")
    return key


def transcoder() -> CanonicalTranscoder:
    """The store's transcoder, with the standard transcodings (UUID, Decimal, datetime)."""
    made = CanonicalTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        made.register(transcoding)
    return made
