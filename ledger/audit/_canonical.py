"""Canonical bytes for everything the ledger signs or hashes.

Rules:
- Signed data is RFC 8785 (JCS) canonical JSON; floats are refused, integers must be exact in
  IEEE 754 (|n| < 2**53), so every verifier in every language reads the same numbers.
- Python values that JSON lacks (UUID, Decimal, datetime) are written by the store's
  transcoder as tagged objects ``{"_type_": NAME, "_data_": TEXT}`` before they get here.
- Bytes that must be exactly canonical (stored envelopes and payloads) are read by
  :func:`canonical_object`: the C parser, then the value written again and compared byte for
  byte. Equal bytes prove every strict-JSON rule those bytes could break (a duplicate member,
  a float, a big integer, a lone surrogate, a byte order mark or any other spelling would be
  written differently); any doubt returns None and the caller reads them the strict way, which
  names the problem. Nesting is counted first, as the strict reader does.
- Tagged types come from a closed list (:data:`TAGGED_TYPES`), each text in the one form the
  ledger writes (Python's ``str(Decimal)``, ``datetime.isoformat()`` with its offset, 32
  lowercase hex digits), so one value has one signed text: an object with a ``_type_`` or
  ``_data_`` member must be exactly a tagged value of a listed type, whose text parses as that
  type; anything else is refused when written and when read (:func:`check_tagged`).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import rfc8785

from ledger.audit._strict_json import MAX_DEPTH
from ledger.errors import InvalidInputError

__all__ = ["TAGGED_TYPES", "canonical_json", "canonical_object", "check_tagged"]

_TAG_MEMBERS = frozenset({"_type_", "_data_"})


def _uuid_hex(text: str) -> object:
    if uuid.UUID(text).hex != text:
        raise ValueError("not 32 lowercase hex digits")
    return text


def _finite_decimal(text: str) -> object:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError("not a finite decimal")
    if str(value) != text:
        raise ValueError(f"not in its one written form {str(value)!r}")
    return text


def _aware_time(text: str) -> object:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("an ISO 8601 time needs its UTC offset")
    if moment.isoformat() != text:
        raise ValueError(f"not in its one written form {moment.isoformat()!r}")
    return moment


#: The closed list of tagged types in signed data, each with the check its text must pass.
TAGGED_TYPES: dict[str, Callable[[str], object]] = {
    "datetime_iso": _aware_time,
    "decimal_str": _finite_decimal,
    "uuid_hex": _uuid_hex,
}


_INT_LIMIT = 2**53 - 1


def canonical_json(obj: Any) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of ``obj`` (JSON types only, no floats).

    Values made only of dicts with ASCII keys, lists, tuples, str, int within the exact range,
    bool and None are written by the C JSON encoder with sorted keys and no spaces, which gives
    the same bytes as RFC 8785 for them (the same escapes; ASCII keys sort alike by code point
    and by UTF-16 unit; integers in decimal); anything else goes through ``rfc8785``.
    """
    if _plain(obj):
        try:
            return _WRITER.encode(obj).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 names it below
    _refuse_floats(obj)
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidInputError(f"value cannot be written as canonical JSON: {e}") from e


def canonical_object(data: bytes) -> dict[str, Any] | None:
    """The JSON object ``data`` is exactly the canonical form of, or None if not proven so.

    None is no verdict: read ``data`` with :func:`ledger.audit._strict_json.loads` and compare
    its canonical form, which refuses what is wrong with a message naming it.
    """
    try:
        text = data.decode("utf-8")
        if text.count("[") + text.count("{") > MAX_DEPTH:
            return None  # perhaps too deep: the strict reader measures it
        value = _READER.decode(text)  # a float, NaN or inexact integer raises
        if type(value) is not dict:
            return None
        # ASCII keys sort alike in RFC 8785 and in the C encoder, and the reader took only
        # exact integers, so for ASCII data the C encoder writes exactly the RFC 8785 form
        written = _WRITER.encode(value).encode() if data.isascii() else canonical_json(value)
        return value if written == data else None
    except (ValueError, RecursionError, InvalidInputError):
        return None  # UnicodeError and JSONDecodeError are ValueErrors


def _no_number(text: str) -> Any:
    raise ValueError(f"{text} is not an exact JSON number")


def _exact_integer(text: str) -> int:
    value = int(text)
    if not -_INT_LIMIT <= value <= _INT_LIMIT:
        raise ValueError(f"{text} is beyond 2**53")
    return value


#: Reads JSON with exact integers only (the strict reader names what else it finds).
_READER = json.JSONDecoder(
    parse_float=_no_number, parse_int=_exact_integer, parse_constant=_no_number
)
#: Writes plain values as RFC 8785 does (see :func:`canonical_json`).
_WRITER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
)


def _plain(obj: object) -> bool:
    """True if ``obj`` holds only the types the fast path writes exactly as RFC 8785 does."""
    stack: list[Any] = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_INT_LIMIT <= item <= _INT_LIMIT:
                return False
        elif kind is dict:
            try:
                if not "".join(item).isascii():
                    return False
            except TypeError:
                return False  # a key that is not text: rfc8785 refuses it
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


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
            if "_type_" in item or "_data_" in item:
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
