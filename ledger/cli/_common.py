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
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ledger.audit import Signer, strict_json
from ledger.errors import InvalidInputError, LedgerError

if TYPE_CHECKING:
    from ledger import KeyDirectory, Ledger, SerialRange, TrustRoot

__all__ = [
    "FILE",
    "KEY",
    "SCHEMA",
    "acting",
    "exact_tonnes",
    "existing",
    "fail",
    "input_json",
    "load_key",
    "open_ledger",
    "progress",
    "read_json",
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
    from ledger import SerialRange

    start, dash, end = text.partition("-")
    if not dash:
        raise InvalidInputError(f"serials {text!r} are not START-END")
    return SerialRange(
        strict_json.integer_text("serial start", start), strict_json.integer_text("serial end", end)
    )


def exact_tonnes(text: str, what: str = "tonnes") -> Decimal:
    """Decimal text (ASCII digits, one point) as an exact number of tonnes."""
    return strict_json.decimal_text(what, text)


def read_json(path: Path, *, exact: bool = False) -> Any:
    """The command line's one JSON reader: a file read strictly (:mod:`ledger.audit.strict_json`).

    Args:
        path: the file.
        exact: read numbers with fractions as exact decimals (command inputs).

    Raises:
        InvalidInputError: the file cannot be read (its cause is the OSError), or
            MalformedInputError: it is not strict JSON.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInputError(f"cannot read {path}: {e.strerror or e}") from e
    return strict_json.loads(data, source=str(path), exact=exact)


def input_json(path: Path) -> Any:
    """A JSON input file (:func:`read_json`); unreadable: one line and exit code 2."""
    try:
        return read_json(path, exact=True)
    except InvalidInputError as e:
        fail(str(e), 2)


def load_key(path: Path) -> Signer:
    """The command line's one way to load a private key file; unreadable: exit code 2."""
    return Signer.from_json(input_json(path))


def open_ledger(
    database: str, keys: KeyDirectory | TrustRoot | None = None, *, schema: str | None = None
) -> Ledger:
    """Open the store; storage libraries load here, so ``ledger verify`` never loads them."""
    from ledger import Ledger

    return Ledger(database, keys, schema=schema)


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
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            return act(ledger, signer)

    return run(action)


def progress(verb: str = "audited") -> Callable[[int, int], None] | None:
    """A progress reporter on a terminal's stderr (None when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        if done == total or done % 1000 == 0:
            end = "\n" if done == total else ""
            click.echo(f"\r{verb} {done:,} of {total:,} events", err=True, nl=False)
            click.echo(end, err=True, nl=False)

    return report


def existing(database: str) -> str:
    """``database`` itself, if it is a URL or an existing file; else fail with exit code 2."""
    if "://" not in database and not Path(database).is_file():
        fail(f"no ledger database at {database}", 2)
    return database
