"""What the ``ledger`` command line's modules share: options, input readers, the error exit.

Rules: an error is one line ``ledger: ...`` on stderr and a non-zero exit; a command that acts
opens the store, loads the actor's key and does its work inside :func:`run`, so a refused
command writes nothing and says why in one line.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ledger.audit import Checkpoint, SignedNote, Signer, TrustRoot, strict_json
from ledger.errors import InvalidInputError, LedgerError, MalformedInputError, StorageError

if TYPE_CHECKING:
    from ledger import KeyDirectory, Ledger, SerialRange

__all__ = [
    "DATABASE",
    "ENV_DATABASE",
    "EXIT_BUG",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_STORAGE",
    "EXIT_USAGE",
    "FILE",
    "KEY",
    "SCHEMA",
    "DatabaseCommand",
    "DatabaseGroup",
    "acting",
    "backend",
    "code_of",
    "confirm",
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

#: Exit codes, one per kind of outcome (README, "Exit codes").
EXIT_OK = 0
#: The ledger refused the command or the data failed verification (a rule, a signature, the
#: audit, a proof, something not found), or the confirmation prompt was answered no.
EXIT_REFUSED = 1
#: Usage: bad arguments or options, an unreadable or malformed input file, a missing store, an
#: existing output file without --force, an unsupported database URL, no --yes off a terminal.
EXIT_USAGE = 2
#: The database could not be opened or failed (connection refused, locked, lost).
EXIT_STORAGE = 3

#: A bug: an unexpected exception (its one line names it; ``LEDGER_DEBUG=1`` shows where).
EXIT_BUG = 4

#: The environment variable that names the database when DATABASE is not given.
ENV_DATABASE = "LEDGER_DB"

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


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Print one line of error on stderr and exit with ``code``."""
    line = " ".join(message.split())
    click.echo(f"ledger: {line}", err=True)
    sys.exit(code)


def code_of(error: LedgerError) -> int:
    """The exit code of ``error``: usage (2) for unreadable input, storage (3), else refused (1)."""
    if isinstance(error, MalformedInputError) or isinstance(error.__cause__, OSError):
        return EXIT_USAGE
    if isinstance(error, StorageError):
        return EXIT_STORAGE
    return EXIT_REFUSED


def confirm(question: str, *, yes: bool, what: str) -> None:
    """Ask ``question`` on a terminal unless ``yes``; go on only on a yes.

    Off a terminal (stdin not a TTY) without ``yes``: one line and exit code 2. Answered no:
    one line and exit code 1.

    Args:
        question: the question, naming what will be written.
        yes: ``--yes`` was given.
        what: the command's past participle for the refusal line (``retired``).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"nothing {what}: confirm on a terminal, or pass --yes", EXIT_USAGE)
    if not click.confirm(question, default=False, err=True):
        fail(f"nothing {what}: not confirmed", EXIT_REFUSED)


class DatabaseCommand(click.Command):
    """A command whose first argument, DATABASE, defaults to ``$LEDGER_DB``.

    When the variable is set and the command line gives one positional argument fewer than
    the command takes, the variable's value is taken as DATABASE (the first one).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._takes_database() and not self.epilog:
            self.epilog = f"DATABASE (a SQLite path or PostgreSQL URL) defaults to ${ENV_DATABASE}."

    def _takes_database(self) -> bool:
        arguments = [p for p in self.params if isinstance(p, click.Argument)]
        return bool(arguments) and arguments[0].name == "database"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse ``args``, with ``$LEDGER_DB`` as DATABASE when it is left out."""
        value = os.environ.get(ENV_DATABASE)
        if value and self._takes_database() and "--help" not in args:
            arguments = [p for p in self.params if isinstance(p, click.Argument)]
            try:
                opts, rest, _ = self.make_parser(ctx).parse_args(args=list(args))
            except click.UsageError:
                return super().parse_args(ctx, args)
            given = sum(isinstance(opts.get(a.name or ""), str) for a in arguments) + len(rest)
            if given == len(arguments) - 1:
                args = [value, *args]
        return super().parse_args(ctx, args)


class DatabaseGroup(click.Group):
    """A command group whose commands are :class:`DatabaseCommand`."""

    command_class = DatabaseCommand


DATABASE = click.argument("database", envvar=ENV_DATABASE)


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
        raise MalformedInputError(
            str(path), 'is not a witness state {"origin": TEXT, "size": N, "root": HEX64}'
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
        create: a missing store may be created (``init``, ``import``); otherwise a missing
            SQLite file, or a database without a ledger's tables (read-only, nothing is
            created), is one line and exit code 2.
    """
    if not create:
        existing(database)
    backend(database)
    from ledger import Ledger, holds_ledger

    if not create and not holds_ledger(database, schema=schema):
        where = f"{database} (schema {schema})" if schema else database
        fail(f"no ledger database at {where}", 2)

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


def run(action: Callable[[], T], prefix: str = "") -> T:
    """``action()``, or its LedgerError as one line (after ``prefix``) and its :func:`code_of`."""
    try:
        return action()
    except LedgerError as e:
        fail(f"{prefix}{e}", code_of(e))


def acting(
    database: str, schema: str | None, key_file: Path, act: Callable[[Ledger, Signer], T]
) -> T:
    """Run ``act(ledger, signer)`` on the store with the actor's key, as :func:`run` does."""

    def action() -> T:
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            return act(ledger, signer)

    return run(action)


@contextmanager
def progress(verb: str = "audited") -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (rich) on a terminal's stderr for the ``with`` block; else None.

    The reporter takes (done, total) events; rich is imported only on a terminal.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        f"{verb} events",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(verb, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def sqlite_file(database: str) -> Path | None:
    """The SQLite file a path or ``sqlite:///`` URL names (None for a server URL).

    A path is a file name as it is (``a?mode=ro.db`` included); only a URL has options.
    """
    if database.startswith("sqlite:///"):
        return Path(database[len("sqlite:///") :].split("?", 1)[0])
    return None if "://" in database else Path(database)


def existing(database: str) -> str:
    """``database`` itself, if it is a server URL or an existing SQLite file; else exit code 2."""
    path = sqlite_file(database)
    if path is not None and not path.is_file():
        fail(f"no ledger database at {path}", 2)
    return database
