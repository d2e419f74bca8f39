r"""Strict JSON: the one reader of every JSON document the ledger takes from outside.

Proof files, trust roots, key files, history lines, event and sink input files, witness state
files, factor tables, stored envelopes and payloads are all read by :func:`loads`.

Rules (docs/security.md, "Strict inputs"):
- The text is UTF-8: bytes are decoded strictly, a byte order mark is refused, and so is an
  escaped lone surrogate (``"\ud800"``), which no UTF-8 text can hold.
- An object names each member once: a duplicate is refused, never read by its last value.
- Arrays and objects nest at most :data:`MAX_DEPTH` deep. The depth is measured before parsing,
  so a hostile file cannot exhaust Python's recursion limit.
- A number has at most :data:`MAX_DIGITS` digits (an integer of 65 digits is refused before it
  is converted); ``NaN``, ``Infinity`` and ``-Infinity`` are refused, and so is a number that
  overflows a float where fractions are read as floats.
- Integers are ``int``; numbers with a fraction or an exponent are ``float``, or ``Decimal``
  with ``exact=True`` (each caller keeps the number semantics it had).
- Any failure raises :class:`~ledger.errors.MalformedInputError`: one line naming the source
  and the problem.
- Numbers written as text (a CSV cell, a JSON string such as ``"factor": "0.6410"``, a
  command-line option) are read by :func:`decimal_text` and :func:`integer_text` only: ASCII
  digits, an optional leading ``-`` and one ``.`` (no exponent, no ``_``, no blanks inside, no
  superscript or other scripts' digits, no ``NaN``), at most :data:`MAX_DIGITS` digits, read as
  exact ``Decimal`` or ``int``. The error is one line naming the field (and the row, when the
  caller puts it in ``what``) and, where the field serves a rule, the rule first.

Stdlib only; no I/O.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from ledger.errors import InvalidInputError, MalformedInputError

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "decimal_text", "integer_text", "loads"]

#: Deepest nesting of arrays and objects accepted (a proof nests 6 deep, GeoJSON 7).
MAX_DEPTH = 64
#: Most digits a number may have (ledger numbers are below 2**53, 16 digits).
MAX_DIGITS = 64

# A JSON string (skipped whole) or one bracket; used only to measure the nesting depth.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


def decimal_text(what: str, text: object, *, rule: str | None = None) -> Decimal:
    """``text`` as an exact Decimal: ASCII digits and one optional point, nothing else.

    Args:
        what: the field, with its row if any (``"row 3 unit"``), named in the error.
        text: the text read from a file or an option (surrounding blanks are ignored).
        rule: the SPEC rule the field serves, named first in the error.

    Raises:
        InvalidInputError: one line, ``[R6: ]<what> '<text>' is not a decimal number ...``.
    """
    value = _number_text(what, text, _DECIMAL_TEXT, "a decimal number", rule)
    return Decimal(value)


def integer_text(what: str, text: object, *, rule: str | None = None) -> int:
    """``text`` as an int: ASCII digits with an optional leading ``-``, nothing else."""
    return int(_number_text(what, text, _INTEGER_TEXT, "an integer", rule))


def _number_text(
    what: str, text: object, pattern: re.Pattern[str], kind: str, rule: str | None
) -> str:
    value = text.strip() if isinstance(text, str) else ""
    digits = sum(c in "0123456789" for c in value)
    if not pattern.fullmatch(value) or digits > MAX_DIGITS:
        shown = repr(text) if len(value) <= 40 else f"of {len(value):,} characters"
        raise InvalidInputError(
            f"{what} {shown} is not {kind} of at most {MAX_DIGITS} digits", rule=rule
        )
    return value


class _StrictnessError(ValueError):
    """A strictness rule failed (the source is added by :func:`loads`)."""


def loads(data: str | bytes, *, source: str, exact: bool = False) -> Any:
    """Parse ``data`` strictly; raise :class:`MalformedInputError` naming ``source`` if not.

    Args:
        data: the document, as UTF-8 bytes or as text.
        source: what to call it in an error (a file name, ``"line 3"``).
        exact: read numbers with a fraction or exponent as ``Decimal`` instead of ``float``.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if text.startswith("\ufeff"):
            raise _StrictnessError("starts with a byte order mark; save it as UTF-8 without one")
        _check_depth(text)
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_integer,
            parse_float=_exact if exact else _float,
            parse_constant=_constant,
        )
        if _SURROGATE_ESCAPE.search(text):
            _check_unicode(value)
    except UnicodeDecodeError as e:
        problem = f"is not UTF-8 (byte 0x{e.object[e.start]:02x} at offset {e.start})"
        raise MalformedInputError(source, problem) from e
    except _StrictnessError as e:
        raise MalformedInputError(source, str(e)) from e
    except json.JSONDecodeError as e:
        problem = f"is not JSON: {e.msg} at line {e.lineno} column {e.colno}"
        raise MalformedInputError(source, problem) from e
    except RecursionError as e:  # not reached: the depth is checked first
        raise MalformedInputError(source, f"nests deeper than {MAX_DEPTH} levels") from e
    return value


def _check_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # too few brackets, even counting those inside strings, to nest too deep
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _StrictnessError(f"nests arrays and objects deeper than {MAX_DEPTH} levels")
        elif token in "]}":
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _StrictnessError(f"has the member {_short(name)} twice in one object")
            seen.add(name)
    return result


def _digits(text: str) -> str:
    if len(text) <= MAX_DIGITS:
        return text
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise _StrictnessError(f"has a number of more than {MAX_DIGITS} digits ({_short(text)})")
    return text


def _integer(text: str) -> int:
    return int(_digits(text))


def _exact(text: str) -> Decimal:
    return Decimal(_digits(text))


def _float(text: str) -> float:
    value = float(_digits(text))
    if not math.isfinite(value):
        raise _StrictnessError(f"has a number too large for a float ({_short(text)})")
    return value


def _constant(text: str) -> Any:
    raise _StrictnessError(f"has {text}, which is not a JSON number")


def _check_unicode(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as e:
        problem = "has an escaped lone surrogate (\\ud800-\\udfff), which is not UTF-8"
        raise _StrictnessError(problem) from e


def _short(text: str, limit: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"
