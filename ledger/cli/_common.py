"""What the ``ledger`` command line's modules share: options, input readers, the error exit.

Rules: an error is one line ``ledger: ...`` on stderr and a non-zero exit; a command that acts
opens the store, loads the actor's key and does its work inside :func:`run`, so a refused
command writes nothing and says why in one line.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ledger.audit import Checkpoint, SignedNote, Signer, TrustRoot, strict_json
from ledger.errors import InvalidInputError, LedgerError

if TYPE_CHECKING:
    from ledger import KeyDirectory, Ledger, SerialRange

__all__ = [
    "FILE",
    "KEY",
    "SCHEMA",
    "acting",
    "backend",
    "counted",
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


def load_root(path: Path) -> TrustRoot:
    """A trust root file you trust; unreadable or invalid: one line and exit code 2."""
    try:
        return TrustRoot.from_json(read_json(path))
    except LedgerError as e:
        fail(f"cannot use trust root: {e}", 2)


def load_checkpoint(path: Path) -> SignedNote | Checkpoint:
    """A checkpoint you hold: a signed note (text) or a witness state file (JSON); else exit 2.

    A witness state is ``{"origin": TEXT, "size": N, "root": HEX64}``: your own record, so
    nothing in it is signed.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}", 2)
    try:
        if data.lstrip().startswith(b"{"):
            return witness_state(path)
        return SignedNote.parse(data.decode("utf-8"))
    except (LedgerError, UnicodeDecodeError) as e:
        fail(f"cannot use checkpoint {path}: {e}", 2)


def witness_state(path: Path) -> Checkpoint:
    """The checkpoint a witness state file records (read strictly)."""
    seen = read_json(path)
    try:
        origin, size, root = seen["origin"], seen["size"], bytes.fromhex(seen["root"])
        if set(seen) != {"origin", "size", "root"} or not isinstance(origin, str):
            raise ValueError
        if isinstance(size, bool) or not isinstance(size, int) or size < 0 or len(root) != 32:
            raise ValueError
    except (KeyError, TypeError, ValueError) as e:
        raise InvalidInputError(
            f'{path} is not a witness state {{"origin": TEXT, "size": N, "root": HEX64}}'
        ) from e
    return Checkpoint(origin, size, root)


def load_key(path: Path) -> Signer:
    """The command line's one way to load a private key file; unreadable: exit code 2."""
    return Signer.from_json(input_json(path))


def open_ledger(
    database: str,
    keys: KeyDirectory | TrustRoot | None = None,
    *,
    schema: str | None = None,
    create: bool = False,
) -> Ledger:
    """Open the store; storage libraries load here, so ``ledger verify`` never loads them.

    Args:
        database: a SQLite path or a ``sqlite:///`` or ``postgresql://`` URL.
        keys: as :class:`ledger.Ledger` takes them.
        schema: the PostgreSQL schema.
        create: a missing SQLite file may be created (``init``, ``import``); otherwise a
            missing file is one line and exit code 2, and no empty store is left behind.
    """
    if not create:
        existing(database)
    backend(database)
    from ledger import Ledger

    if _CLOCK:
        return Ledger(database, keys, schema=schema, clock=_CLOCK[0])
    return Ledger(database, keys, schema=schema)


_CLOCK: list[Callable[[], datetime.datetime]] = []


def set_clock(text: str) -> None:
    """Make every ledger this process opens read ``text`` (ISO 8601 with offset) as now.

    The hidden ``--now`` option calls it, so tests never wait on or race the wall clock.
    """
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r} is not an ISO 8601 time", 2)
    if moment.tzinfo is None:
        fail(f"--now {text!r} has no UTC offset", 2)
    _CLOCK[:] = [lambda: moment]


def backend(database: str) -> None:
    """Fail (exit 2) on a URL of a database the ledger does not run on, or without its driver."""
    scheme = database.split("://", 1)[0].lower() if "://" in database else "sqlite"
    if scheme.startswith("postgres"):
        import importlib

        try:
            importlib.import_module("psycopg")
        except ImportError:
            fail("a PostgreSQL URL needs psycopg: pip install 'ledger[postgres]'", 2)
    elif scheme != "sqlite":
        fail(
            f"{scheme}:// databases are not supported; use a SQLite file path,"
            " a sqlite:/// URL or a postgresql:// URL",
            2,
        )


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 line``, ``2 lines``, ``1,200 entries`` (with ``plural`` for irregular nouns)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


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
    """``database`` itself, if it is a server URL or an existing SQLite file; else exit code 2."""
    path = database[len("sqlite:///") :] if database.startswith("sqlite:///") else database
    if "://" not in path and not Path(path.split("?", 1)[0]).is_file():
        fail(f"no ledger database at {path}", 2)
    return database
