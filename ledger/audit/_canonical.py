"""Canonical bytes for everything the ledger signs or hashes.

Rules:
- Signed data is RFC 8785 (JCS) canonical JSON; floats are refused, integers must be exact in
  IEEE 754 (|n| < 2**53), so every verifier in every language reads the same numbers.
- Python values that JSON lacks (UUID, Decimal, datetime) are written as the tagged object
  ``{"_type_": NAME, "_data_": TEXT}`` of eventsourcing's JSON transcoder, and read back by it.
- Tagged types come from a closed list (:data:`TAGGED_TYPES`): an object with a ``_type_`` or
  ``_data_`` member must be exactly a tagged value of a listed type, whose text parses as that
  type; anything else is refused when written and when read (:func:`check_tagged`).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import rfc8785
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.errors import InvalidInputError

__all__ = ["TAGGED_TYPES", "CanonicalTranscoder", "canonical_json", "check_tagged"]

_TAG_MEMBERS = frozenset({"_type_", "_data_"})


def _uuid_hex(text: str) -> object:
    if uuid.UUID(text).hex != text:
        raise ValueError("not 32 lowercase hex digits")
    return text


def _finite_decimal(text: str) -> object:
    if not Decimal(text).is_finite():
        raise ValueError("not a finite decimal")
    return text


#: The closed list of tagged types in signed data, each with the check its text must pass.
TAGGED_TYPES: dict[str, Callable[[str], object]] = {
    "datetime_iso": datetime.datetime.fromisoformat,
    "decimal_str": _finite_decimal,
    "uuid_hex": _uuid_hex,
}


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


def check_tagged(obj: object) -> None:
    """Raise InvalidInputError if a tagged object in ``obj`` is unknown or malformed."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if _TAG_MEMBERS & set(item):
                _check_tag(item)
            else:
                stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _check_tag(item: Mapping[Any, Any]) -> None:
    name, text = item.get("_type_"), item.get("_data_")
    if set(item) != _TAG_MEMBERS or not isinstance(text, str):
        raise InvalidInputError('a tagged value is exactly {"_type_": NAME, "_data_": TEXT}')
    check = TAGGED_TYPES.get(name) if isinstance(name, str) else None
    if check is None:
        raise InvalidInputError(
            f"unknown tagged type {name!r}; expected one of {', '.join(sorted(TAGGED_TYPES))}"
        )
    try:
        check(text)
    except (ArithmeticError, ValueError) as e:
        raise InvalidInputError(f"tagged {name} {text[:40]!r} does not parse: {e}") from e


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
