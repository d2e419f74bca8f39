"""What the ``ledger`` command line's modules share: options, input readers, the error exit.

Rules: an error is one line ``ledger: ...`` on stderr and a non-zero exit; a command that acts
opens the store, loads the actor's key and does its work inside :func:`run`, so a refused
command writes nothing and says why in one line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ledger._ledger import Ledger
from ledger.audit import _strict_json as strict_json
from ledger.audit.keys import Signer
from ledger.domain.values import SerialRange
from ledger.errors import InvalidInputError, LedgerError

__all__ = [
    "FILE",
    "KEY",
    "SCHEMA",
    "acting",
    "exact_tonnes",
    "fail",
    "json_file",
    "read_exact",
    "run",
    "serial_range",
]

T = TypeVar("T")

KEY = click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Private key file of the acting actor.",
)
SCHEMA = click.option("--schema", default=None, help="PostgreSQL schema of the ledger's tables.")
FILE = click.option(
    "--file",
    "data_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON input (see docs/events-cli.md).",
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line of error on stderr and exit with ``code``."""
    click.echo(f"ledger: {message}", err=True)
    sys.exit(code)


def serial_range(text: str) -> SerialRange:
    """``START-END`` (inclusive) as a serial range."""
    start, dash, end = text.partition("-")
    if not dash or not start.strip().isdigit() or not end.strip().isdigit():
        raise InvalidInputError(f"serials {text!r} are not START-END")
    return SerialRange(int(start), int(end))


def exact_tonnes(text: str) -> Decimal:
    """Decimal text as an exact number of tonnes."""
    try:
        return Decimal(text)
    except ArithmeticError as e:
        raise InvalidInputError(f"{text!r} is not a decimal number of tonnes") from e


def json_file(path: Path) -> Any:
    """A JSON file's content, read strictly; an unreadable file is an InvalidInputError."""
    try:
        return strict_json.loads(path.read_bytes(), source=str(path))
    except OSError as e:
        raise InvalidInputError(f"cannot read {path}: {e}") from e


def read_exact(path: Path) -> Any:
    """A JSON input file read strictly, with exact decimals; unreadable: exit code 2."""
    try:
        return strict_json.loads(path.read_bytes(), source=str(path), exact=True)
    except OSError as e:
        fail(f"cannot read {path}: {e}", 2)
    except InvalidInputError as e:
        fail(str(e), 2)


def run(action: Callable[[], T]) -> T:
    """``action()``, or its LedgerError as one line and exit code 1."""
    try:
        return action()
    except LedgerError as e:
        fail(str(e))


def acting(
    database: str, schema: str | None, key_file: Path, act: Callable[[Ledger, Signer], T]
) -> T:
    """Run ``act(ledger, signer)`` on the store with the actor's key, as :func:`run` does."""

    def action() -> T:
        signer = Signer.from_json(read_exact(key_file))
        with Ledger(database, schema=schema) as ledger:
            return act(ledger, signer)

    return run(action)
