"""Canonical bytes for everything the ledger signs or hashes.

Rules:
- Signed data is RFC 8785 (JCS) canonical JSON; floats are refused, integers must be exact in
  IEEE 754 (|n| < 2**53), so every verifier in every language reads the same numbers.
- Python values that JSON lacks (UUID, Decimal, datetime) are written as the tagged object
  ``{"_type_": NAME, "_data_": TEXT}`` of eventsourcing's JSON transcoder, and read back by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from eventsourcing.persistence import JSONTranscoder

from ledger.errors import InvalidInputError

__all__ = ["CanonicalTranscoder", "canonical_json"]


def canonical_json(obj: Any) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of ``obj`` (JSON types only, no floats)."""
    _refuse_floats(obj)
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidInputError(f"value cannot be written as canonical JSON: {e}") from e


def _refuse_floats(obj: object) -> None:
    if isinstance(obj, float):
        raise InvalidInputError(f"float {obj!r} in signed data; use int or Decimal")
    if isinstance(obj, Mapping):
        for value in obj.values():
            _refuse_floats(value)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _refuse_floats(item)


class CanonicalTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, writing RFC 8785 canonical bytes."""

    def to_json(self, obj: Any) -> Any:
        """Return ``obj`` with every non-JSON value replaced by its tagged form."""
        if obj is None or isinstance(obj, bool | int | str):
            return obj
        if isinstance(obj, float):
            raise InvalidInputError(f"float {obj!r} in signed data; use int or Decimal")
        if isinstance(obj, Mapping):
            return {_key(key): self.to_json(value) for key, value in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.to_json(item) for item in obj]
        return self.to_json(self._encode_obj(obj))

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
