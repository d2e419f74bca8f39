"""Canonical JSON of plain data without the general RFC 8785 writer (the write path's bytes).

Rules:
- For *plain* data, RFC 8785 (JCS) canonical JSON is exactly what ``json.dumps`` writes with
  sorted keys, no whitespace and UTF-8 text: plain means dicts with ASCII keys, lists, text
  without control characters or lone surrogates, integers with ``|n| < 2**53``, booleans and
  null. Keys that are ASCII sort the same by UTF-16 code units (JCS) and by code points.
- Anything else (floats, big integers, control characters, other types) goes to
  :func:`ledger.audit._canonical.canonical_json`, which writes or refuses it as it always did.
- Readers never use this: they check stored bytes against the general writer, so bytes that
  were not canonical would be refused on the next read, never accepted.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.audit._canonical import canonical_json

__all__ = ["canonical_bytes"]

_LIMIT = 2**53
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical JSON bytes of ``obj``; the fast way when it is plain data."""
    if _plain(obj):
        return _ENCODER.encode(obj).encode()
    return canonical_json(obj)


def _plain(obj: object) -> bool:
    stack = [obj]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            if not _plain_text(item):
                return False
        elif isinstance(item, int):
            if not -_LIMIT < item < _LIMIT:
                return False
        elif isinstance(item, dict):
            if not all(isinstance(key, str) and key.isascii() for key in item):
                return False
            if not all(_plain_text(key) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            return False
    return True


def _plain_text(text: str) -> bool:
    if text.isascii():
        return all(" " <= char <= "~" for char in text)
    return all(
        (" " <= char <= "~") or (char > "\x7f" and not "\ud800" <= char <= "\udfff")
        for char in text
    )
