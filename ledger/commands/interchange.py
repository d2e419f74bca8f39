"""Interchange: the full signed history as JSON Lines, and credit batches from CSV (R12).

Rules:
- Export writes, one JSON object per line: a header, every trust root, every stored event in
  log order (its signed envelope verbatim), every signed checkpoint. Nothing is re-signed.
- Import only fills an empty store, of either backend, and only after everything verified:
  the root chain, every envelope and chain link, every claim the events make. Then it writes
  events, log leaves, claims, roots and checkpoints in one transaction, so ``ledger audit``
  passes on the copy exactly as on the original. Any failure writes nothing.
- CSV batch import validates every row (domain rules, overlaps within the file and with the
  store) and reports every bad row by number; one bad row and nothing is written.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.audit import strict_json
from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry, Envelope
from ledger.audit.keys import Signer
from ledger.audit.note import SignedNote
from ledger.audit.trust import TrustRoot, verify_chain
from ledger.commands._context import Context
from ledger.commands.transparency import TransparencyCommands
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange
from ledger.errors import ImportRowsError, InvalidInputError, LedgerError, MalformedInputError
from ledger.store import Store

#: ``progress(done, total)``: how far a long export or import has got.
Progress = Callable[[int, int], None]

__all__ = ["HISTORY_FORMAT", "InterchangeCommands"]

HISTORY_FORMAT = "ledger.history.v1"
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


_INTEGER = re.compile(rf"-?[0-9]{{1,{strict_json.MAX_DIGITS}}}")


class InterchangeCommands:
    """Export and import of the signed history; CSV import of batches."""

    def __init__(self, context: Context, transparency: TransparencyCommands) -> None:
        self._context = context
        self._store = context.store
        self._transparency = transparency

    def export_history(self, out: IO[str], progress: Progress | None = None) -> int:
        """Write the whole signed history as JSON Lines; returns the number of events.

        ``progress(done, total)`` is called after each event, if given.
        """
        with self._store.read() as connection:
            total = self._store.log.size(connection)
        out.write(json.dumps({"format": HISTORY_FORMAT}) + "\n")
        for root in self._transparency.trust_roots():
            out.write(json.dumps({"kind": "root", "document": root.to_json()}) + "\n")
        count = 0
        for stored in self._store.notifications():
            line = {
                "kind": "event",
                "aggregate": str(stored.originator_id),
                "version": stored.originator_version,
                "topic": stored.topic,
                "envelope": Envelope.from_bytes(stored.state).to_json(),
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
            if progress is not None:
                progress(count, max(total, count))
        with self._store.read() as connection:
            for size, note in self._store.log.checkpoint_notes(connection):
                out.write(json.dumps({"kind": "checkpoint", "size": size, "note": note}) + "\n")
        return count

    def import_history(
        self, lines: Iterable[str] | Iterable[bytes], progress: Progress | None = None
    ) -> int:
        """Import an exported history into this empty store; returns the number of events.

        ``lines`` are text, or UTF-8 bytes (a file opened in binary mode); each is read as
        strict JSON. ``progress(done, total)`` is called as each event is verified, if given.
        """
        if not self._store.is_empty():
            raise InvalidInputError("import needs an empty store (no events, no trust root)")
        roots, stored, notes = _parse_history(lines)
        last = verify_chain(roots[0], roots)
        self._store.keys.replace(last.keys)
        events = _verified_events(self._store, stored, progress)
        self._store.append_verified(roots, stored, events, notes)
        return len(stored)

    def import_batches_csv(self, registry: Signer, text: IO[str]) -> list[UUID]:
        """Issue one batch per CSV row, all or nothing; see ``docs/interchange.md``.

        A byte order mark before the header is ignored (Excel's "CSV UTF-8"); text that is not
        UTF-8 or a field over 128 KiB (csv's field size limit) is an InvalidInputError.
        """
        reader = csv.DictReader(_without_bom(text))
        try:
            rows = list(reader)
        except UnicodeDecodeError as e:
            raise MalformedInputError("the CSV file", "is not UTF-8 text") from e
        except csv.Error as e:
            line = reader.line_num + 1
            problem = f"is not CSV at line {line}: {e}"
            if "field limit" in str(e):
                limit = csv.field_size_limit()
                problem = f"has a field over 128 KiB ({limit:,} characters) at line {line}"
            raise MalformedInputError("the CSV file", problem) from e
        batches: list[CreditBatch] = []
        errors: list[tuple[int, str]] = []
        ranges: list[tuple[int, SerialRange]] = []
        today = self._context.today()
        for number, row in enumerate(rows, start=2):
            try:
                serials = _serials(row)
                _check_rows(serials, ranges)
                ranges.append((number, serials))
                batch = _batch_from_row(self._context, registry, row, serials, today)
                _check_store(self._store, batch)
            except LedgerError as e:
                errors.append((number, str(e)))
            else:
                batches.append(batch)
        if not rows:
            errors.append((1, f"no rows; the header is {','.join(CSV_COLUMNS)}"))
        if errors:
            raise ImportRowsError(errors)
        self._store.save(registry, *batches)
        return [batch.id for batch in batches]


def _without_bom(text: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(text):
        yield line.removeprefix("\ufeff") if number == 0 else line


def _numbered(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str | bytes]]:
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            yield number, line
    except UnicodeDecodeError as e:
        raise ImportRowsError([(number + 1, "the text from this line on is not UTF-8")]) from e


def _parse_history(
    lines: Iterable[str | bytes],
) -> tuple[list[TrustRoot], list[StoredEvent], list[tuple[int, str]]]:
    roots: list[TrustRoot] = []
    stored: list[StoredEvent] = []
    notes: list[tuple[int, str]] = []
    for number, line in _numbered(lines):
        try:
            item = strict_json.loads(line, source="the line")
            if number == 1:
                if item != {"format": HISTORY_FORMAT}:
                    raise InvalidInputError(
                        f'the first line must be {{"format": "{HISTORY_FORMAT}"}}'
                    )
                continue
            kind = item.get("kind")
            if kind == "root":
                roots.append(TrustRoot.from_json(item["document"]))
            elif kind == "event":
                state = Envelope.from_json(item["envelope"]).to_bytes()
                stored.append(
                    StoredEvent(
                        UUID(item["aggregate"]), int(item["version"]), str(item["topic"]), state
                    )
                )
            elif kind == "checkpoint":
                SignedNote.parse(item["note"])
                notes.append((int(item["size"]), str(item["note"])))
            else:
                raise InvalidInputError(f"unknown line kind {kind!r}")
        except LedgerError as e:
            raise ImportRowsError([(number, str(e))]) from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ImportRowsError([(number, f"not a history line: {e!r}")]) from e
    if not roots:
        raise InvalidInputError("the history has no trust root")
    return roots, stored, notes


def _verified_events(
    store: Store, stored: list[StoredEvent], progress: Progress | None
) -> list[Any]:
    last: dict[str, Entry] = {}
    events = []
    for done, item in enumerate(stored, 1):
        entry = store.open(item)
        try:
            check_link(last.get(entry.aggregate), entry)
        except LedgerError as e:
            raise InvalidInputError(
                f"aggregate {entry.aggregate} version {entry.version}: {e}"
            ) from e
        last[entry.aggregate] = entry
        events.append(store.event_of(item, entry))
        if progress is not None:
            progress(done, len(stored))
    return events


def _serials(row: Mapping[str, str | None]) -> SerialRange:
    start = _integer("serial_start", row.get("serial_start"))
    return SerialRange(start, _integer("serial_end", row.get("serial_end")))


def _batch_from_row(
    context: Context,
    registry: Signer,
    row: Mapping[str, str | None],
    serials: SerialRange,
    today: Any,
) -> CreditBatch:
    missing = [c for c in CSV_COLUMNS[:8] if not (row.get(c) or "").strip()]
    extra = sorted(set(row) - set(CSV_COLUMNS), key=str)
    if missing or extra:
        raise InvalidInputError(
            f"missing {', '.join(missing) or 'nothing'}; unknown columns {extra}"
        )
    parcels = [Parcel.of(p.strip()) for p in (row.get("parcels") or "").split(";") if p.strip()]
    return CreditBatch.issue(
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


def _integer(what: str, text: str | None) -> int:
    return strict_json.integer_text(what, text)


def _decimal(what: str, text: str) -> Decimal:
    return strict_json.decimal_text(what, text)


def _check_rows(serials: SerialRange, earlier: list[tuple[int, SerialRange]]) -> None:
    for number, other in earlier:
        if other.overlaps(serials):
            raise InvalidInputError(
                f"serials {serials} overlap serials {other} of row {number}", rule="R11"
            )


def _check_store(store: Store, batch: CreditBatch) -> None:
    with store.read() as connection:
        found = store.claims.serials.overlapping(connection, batch.registry, batch.serials)
    if found is not None:
        raise InvalidInputError(
            f"serials {batch.serials} overlap {found} already in the ledger", rule="R11"
        )
