"""Interchange: the full signed history as JSON Lines, and credit batches from CSV (R12).

Rules:
- Export writes, one JSON object per line: a header, every log entry in log order (trust roots
  and signed envelopes verbatim), then every signed checkpoint, the last covering the whole
  log. Nothing is re-signed; a store whose latest checkpoint does not cover its log is not
  exported.
- Import only fills an empty store, of either backend, and only after the whole history was
  replayed from itself (the same replay as the audit: roots in the log, keys by position,
  chains, every rule of every aggregate kind, every claim) and reaches its last checkpoint,
  which carries the witness cosignatures its trust root asks for (the log key alone cannot
  vouch for a history).
  It writes events, log leaves, claims, roots and checkpoints in one transaction, page by
  page as the replay passes them (:mod:`ledger.commands._history`), so ``ledger audit``
  passes on the copy exactly as on the original. Any failure writes nothing.
- CSV batch import validates every row (domain rules, overlaps within the file and with the
  store) and reports every bad row by number; one bad row and nothing is written. The file
  is streamed in pages through one transaction holding the claim lock; pages are written
  set-based while no row has failed, and rolled back if one has.
"""

from __future__ import annotations

import bisect
import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.audit import strict_json
from ledger.audit._sigpool import VerifierPool
from ledger.audit.envelope import Envelope
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.trust import TrustRoot
from ledger.commands._context import Context
from ledger.commands._history import (
    HISTORY_FORMAT,
    POOL_FROM,
    Progress,
    Rereadable,
    check_checkpoints,
    history_entries,
    replay_into,
    scan_history,
)
from ledger.commands.transparency import TransparencyCommands
from ledger.domain.credit_batch import CreditBatch, issue_facts
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange
from ledger.errors import ImportRowsError, InvalidInputError, LedgerError, MalformedInputError
from ledger.store import IMPORT_PAGE, BulkWrite, LogItem, Replay
from ledger.store._bulk import Pending
from ledger.store._signpool import SigningPool

__all__ = ["HISTORY_FORMAT", "InterchangeCommands"]

T = TypeVar("T")

_ISSUED: Any = getattr(CreditBatch, "Issued")  # noqa: B009 - made by eventsourcing's @event
_BATCH_TOPIC = get_topic(CreditBatch)

CSV_COLUMNS = (
    "instrument",
    "vintage",
    "project",
    "province",
    "methodology",
    "serial_start",
    "serial_end",
    "holder",
    "unit",
    "parcels",
)
#: Rows read before a CSV import starts signing in a pool of processes (their start costs
#: about a second of a core each).
SIGN_POOL_FROM = 2 * IMPORT_PAGE
#: The fewest bytes a CSV row takes (a file this many times :data:`SIGN_POOL_FROM` starts the
#: pool with its first page).
_ROW_BYTES = 50

_REQUIRED = CSV_COLUMNS[:8]
_COLUMNS = frozenset(CSV_COLUMNS)


class InterchangeCommands:
    """Export and import of the signed history; CSV import of batches."""

    def __init__(self, context: Context, transparency: TransparencyCommands) -> None:
        self._context = context
        self._store = context.store
        self._transparency = transparency

    def export_history(self, out: IO[str], progress: Progress | None = None) -> int:
        """Write the whole signed history as JSON Lines; returns the number of events.

        The latest signed checkpoint must cover the whole log (sign one first): the file ends
        with it, so a copy cut short is refused on import. ``progress(done, total)`` is called
        after each log entry, if given. Write to a temporary file and rename it when this
        returns (``ledger export`` does): a file is either whole or absent.
        """
        note = self._transparency.latest_checkpoint()
        with self._store.read() as connection:
            total = self._store.log.size(connection)
        covered = 0 if note is None else note.checkpoint.size
        if covered != total:
            raise InvalidInputError(
                f"the latest signed checkpoint covers {covered} of the log's {total} entries;"
                " sign one first (ledger checkpoint), so the history ends with it"
            )
        out.write(json.dumps({"format": HISTORY_FORMAT}) + "\n")
        count = 0
        for item in self._store.log_items():
            out.write(json.dumps(_line(item), ensure_ascii=False) + "\n")
            count += item.stored is not None
            if progress is not None:
                progress(item.position + 1, total)
        with self._store.read() as connection:
            for size, text in self._store.log.checkpoint_notes(connection):
                out.write(json.dumps({"kind": "checkpoint", "size": size, "note": text}) + "\n")
        return count

    def import_history(
        self,
        lines: Iterable[str] | Iterable[bytes],
        progress: Progress | None = None,
        trusted: TrustRoot | None = None,
    ) -> int:
        """Import an exported history into this empty store; returns the number of events.

        Every entry is replayed from the history alone (:class:`ledger.store.Replay`: roots in
        the log, keys by position, chains, every rule, every claim) and the file must end with
        a signed checkpoint of all its entries; then everything is written in one transaction,
        or nothing is.

        Args:
            lines: text, or UTF-8 bytes (a file opened in binary mode); each is strict JSON.
            progress: ``progress(done, total)`` as each entry is replayed, if given.
            trusted: the trust root you trust (default: the history's own first root).
        """
        if not self._store.is_empty():
            raise InvalidInputError("import needs an empty store (no events, no trust root)")
        passes = Rereadable(lines)
        keys: dict[str, bytes] = {}
        lasts: dict[str, int] = {}
        pool = VerifierPool({}) if passes.big() else None
        try:
            first, count, notes = scan_history(passes.first(), keys, lasts)
            if pool is None and count >= POOL_FROM:
                pool = VerifierPool({})
            if pool is not None:
                pool.keys = keys | {key.keyid: key.public_key for key in (trusted or first).keys}
            replay = Replay(self._store, trusted or first, sizes=[size for _, size, _ in notes])
            try:
                with self._store.importing() as bulk:
                    entries = history_entries(passes.second())
                    replay_into(bulk, replay, entries, count, progress, pool, lasts)
                    check_checkpoints(replay, notes, count)
                    for _, size, text in notes:
                        bulk.save_checkpoint(size, text)
            finally:
                replay.close()
        finally:
            if pool is not None:
                pool.close()
            passes.close()
        self._store.keys.replace(replay.timeline.current.keys)
        return replay.events

    def import_batches_csv(self, registry: Signer, text: IO[str]) -> list[UUID]:
        """Issue one batch per CSV row, all or nothing; see ``docs/interchange.md``.

        A byte order mark before the header is ignored (Excel's "CSV UTF-8"); text that is not
        UTF-8 or a field over 128 KiB (csv's field size limit) is an InvalidInputError.

        The file is read as a stream, a page of rows at a time, in one transaction that holds
        the claim lock: each page is checked (every rule, overlaps with earlier rows in memory,
        overlaps with the store in one query) and, while no row has failed, signed and written
        set-based. Once a row fails, the rest are only checked, so every bad row is reported,
        and the transaction is rolled back: nothing is written.
        """
        errors: list[tuple[int, str]] = []
        ids: list[UUID] = []
        seen = 0
        spans = _Spans()
        today = self._context.today()
        big = _file_bytes(text) >= SIGN_POOL_FROM * _ROW_BYTES
        with self._store.importing() as bulk, _PageWriter(bulk, registry, self._store.keys) as out:
            for page in _pages(_csv_rows(text), IMPORT_PAGE):
                seen += len(page)
                events = self._checked_page(registry, page, spans, today, errors)
                _check_store_overlaps(bulk, registry, events, errors)
                if not errors:
                    out.add([event for _, event, _ in events], pooled=big or seen >= SIGN_POOL_FROM)
                    ids.extend(event.originator_id for _, event, _ in events)
            if not seen:
                errors.append((1, f"no rows; the header is {','.join(CSV_COLUMNS)}"))
            if errors:
                raise ImportRowsError(sorted(errors))
            out.finish()
        return ids

    def _checked_page(
        self,
        registry: Signer,
        page: list[tuple[int, dict[str, str | None]]],
        spans: _Spans,
        today: Any,
        errors: list[tuple[int, str]],
    ) -> list[tuple[int, Any, SerialRange]]:
        """The ``Issued`` events of a page's good rows, with their serials.

        Each bad row's problem goes to ``errors``.
        """
        issued: list[tuple[int, Any, SerialRange]] = []
        for number, row in page:
            try:
                serials = _serials(row)
                spans.take(number, serials)
                event = _issued(self._context, registry, row, serials, today)
                issued.append((number, event, serials))
            except LedgerError as e:
                errors.append((number, str(e)))
        return issued


class _PageWriter:
    """Writes the pages of a CSV import, each while the next is checked.

    From :data:`SIGN_POOL_FROM` rows (or a file that big) each page is signed by a
    :class:`~ledger.store._signpool.SigningPool` on the other cores as soon as it is checked
    and written once the next page is checked; before that, each is signed when written.
    """

    def __init__(self, bulk: BulkWrite, registry: Signer, keys: KeyDirectory) -> None:
        self._bulk = bulk
        self._registry = registry
        self._keys = keys
        self._pool: SigningPool | None = None
        self._tried = False
        self._pending: Pending | None = None

    def add(self, events: list[Any], pooled: bool) -> None:
        """Start signing a checked page (in the pool if ``pooled``); write the one before."""
        if pooled and not self._tried:
            self._tried, self._pool = True, _signing_pool(self._registry, self._keys)
        started = self._bulk.save_new(self._registry, events, self._pool)
        if self._pending is not None:
            self._bulk.write(self._pending)
        self._pending = started

    def finish(self) -> None:
        """Write the last page."""
        if self._pending is not None:
            self._bulk.write(self._pending)
            self._pending = None

    def __enter__(self) -> _PageWriter:
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.close()


def _check_store_overlaps(
    bulk: BulkWrite,
    registry: Signer,
    events: list[tuple[int, Any, SerialRange]],
    errors: list[tuple[int, str]],
) -> None:
    """Each row whose serials overlap a block of the registry in the store goes to ``errors``."""
    found = bulk.overlapping(registry.actor, [(n, serials) for n, _, serials in events])
    for number, _, serials in events:
        if number in found:
            problem = f"serials {serials} overlap {found[number]} already in the ledger"
            errors.append((number, str(InvalidInputError(problem, rule="R11"))))


class _Spans:
    """The serial spans of the rows taken so far, kept sorted and disjoint (R11)."""

    def __init__(self) -> None:
        self._ends: list[int] = []
        self._starts: list[int] = []
        self._numbers: list[int] = []

    def take(self, number: int, serials: SerialRange) -> None:
        """Take row ``number``'s ``serials``, or raise naming the earlier row they overlap.

        Taken spans never overlap, so only the one with the greatest start at or before
        ``serials.end`` can overlap: one binary search, whatever the number of rows.
        """
        at = bisect.bisect_right(self._starts, serials.end)
        if at and self._ends[at - 1] >= serials.start:
            other = SerialRange(self._starts[at - 1], self._ends[at - 1])
            raise InvalidInputError(
                f"serials {serials} overlap serials {other} of row {self._numbers[at - 1]}",
                rule="R11",
            )
        self._starts.insert(at, serials.start)
        self._ends.insert(at, serials.end)
        self._numbers.insert(at, number)


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """The rows of a CSV file with their line numbers (the header is line 1), as read."""
    reader = csv.DictReader(_without_bom(text))
    try:
        yield from enumerate(reader, start=2)
    except UnicodeDecodeError as e:
        raise MalformedInputError("the CSV file", "is not UTF-8 text") from e
    except csv.Error as e:
        line = reader.line_num + 1
        problem = f"is not CSV at line {line}: {e}"
        if "field limit" in str(e):
            limit = csv.field_size_limit()
            problem = f"has a field over 128 KiB ({limit:,} characters) at line {line}"
        raise MalformedInputError("the CSV file", problem) from e


def _pages(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """``rows`` in lists of ``size`` (the last may be shorter), read as they come."""
    page: list[T] = []
    for row in rows:
        page.append(row)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _signing_pool(registry: Signer, keys: KeyDirectory) -> SigningPool | None:
    """A signing pool, or None if processes cannot be started here (the import signs alone)."""
    try:
        return SigningPool(registry, keys)
    except (OSError, RuntimeError):
        return None


def _file_bytes(text: IO[str]) -> int:
    """The size of the file ``text`` reads, or 0 if it is not a file."""
    fileno = getattr(text, "fileno", None)
    if not callable(fileno):
        return 0
    try:
        return os.fstat(fileno()).st_size
    except (OSError, ValueError):
        return 0


def _without_bom(text: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(text):
        yield line.removeprefix("\ufeff") if number == 0 else line


def _line(item: LogItem) -> dict[str, Any]:
    if item.root is not None:
        return {"kind": "root", "document": item.root.to_json()}
    stored = item.stored
    if stored is None:
        raise InvalidInputError(f"log leaf {item.position} has nothing stored")
    return {
        "kind": "event",
        "aggregate": str(stored.originator_id),
        "version": stored.originator_version,
        "topic": stored.topic,
        "envelope": Envelope.from_bytes(stored.state).to_json(),
    }


def _serials(row: Mapping[str, str | None]) -> SerialRange:
    start = _integer("serial_start", row.get("serial_start"))
    return SerialRange(start, _integer("serial_end", row.get("serial_end")))


def _issued(
    context: Context,
    registry: Signer,
    row: Mapping[str, str | None],
    serials: SerialRange,
    today: Any,
) -> Any:
    """The ``Issued`` event of a row: the one ``CreditBatch.issue`` makes, without the aggregate.

    The fields are :func:`issue_facts` (every check of ``CreditBatch.issue``), and the event
    is built as eventsourcing builds a new aggregate's first event (a new id, version 1, the
    time now, the aggregate's topic), so its signed bytes are those of the aggregate's event.
    """
    missing = [c for c in _REQUIRED if not (row.get(c) or "").strip()]
    if missing or not _COLUMNS.issuperset(row):
        extra = sorted(set(row) - _COLUMNS, key=str)
        raise InvalidInputError(
            f"missing {', '.join(missing) or 'nothing'}; unknown columns {extra}"
        )
    parcels = [Parcel.of(p.strip()) for p in (row.get("parcels") or "").split(";") if p.strip()]
    fields = issue_facts(
        registry=registry.actor,
        instrument=str(row["instrument"]).strip(),
        vintage=_integer("vintage", row["vintage"]),
        project=str(row["project"]).strip(),
        province=str(row["province"]).strip(),
        methodology=str(row["methodology"]).strip(),
        serials=serials,
        holder=context.account(str(row["holder"]).strip()),
        today=today,
        unit=_decimal("unit", row.get("unit") or "1"),
        parcels=parcels,
    )
    return _ISSUED(
        originator_topic=_BATCH_TOPIC,
        originator_id=CreditBatch.create_id(),
        originator_version=CreditBatch.INITIAL_VERSION,
        timestamp=_ISSUED.create_timestamp(),
        **fields,
    )


def _integer(what: str, text: str | None) -> int:
    return strict_json.integer_text(what, text)


def _decimal(what: str, text: str) -> Decimal:
    return strict_json.decimal_text(what, text)
