"""Canonical bytes for everything the ledger signs or hashes.

Rules:
- Signed data is RFC 8785 (JCS) canonical JSON; floats are refused, integers must be exact in
  IEEE 754 (|n| < 2**53), so every verifier in every language reads the same numbers.
- Python values that JSON lacks (UUID, Decimal, datetime) are written by the store's
  transcoder as tagged objects ``{"_type_": NAME, "_data_": TEXT}`` before they get here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785

from ledger.errors import InvalidInputError

__all__ = ["canonical_json"]


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
