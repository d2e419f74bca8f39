"""Reading a signed history file for ``ledger import`` (the lines, twice; the replay; pages).

Rules:
- Every line is strict JSON (:mod:`ledger.audit.strict_json`); a bad line is an
  ImportRowsError naming its number, and nothing is written.
- The file is read twice: first the entries are counted and the roots and checkpoints read
  (the replay needs their sizes before it starts; an event line is only recognised, by how
  it begins), then every line is parsed strictly and the entries replayed and written. A seekable
  file is rewound, a list re-read, anything else copied to a temporary file as it is read:
  nothing holds every entry in memory.
- A history of at least :data:`POOL_FROM` entries has its signatures checked on every core by
  the audit's :class:`~ledger.audit._sigpool.VerifierPool` (started as the first read begins
  when the file is big enough, else after it), which decides nothing: the replay still checks
  every signature the pool did not verify with the key in force.
- Entries are written in pages of :data:`ledger.store.IMPORT_PAGE` as the replay passes them,
  through one :class:`ledger.store.BulkWrite` (one transaction, rolled back on any error).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.audit import strict_json
from ledger.audit._sigpool import VerifierPool
from ledger.audit.envelope import Envelope
from ledger.audit.merkle import roots_at
from ledger.audit.note import SignedNote
from ledger.audit.trust import TrustRoot
from ledger.errors import ImportRowsError, InvalidInputError, LedgerError
from ledger.store import IMPORT_PAGE, BulkWrite, Replay

__all__ = [
    "HISTORY_FORMAT",
    "POOL_FROM",
    "Item",
    "Note",
    "Rereadable",
    "check_checkpoints",
    "history_entries",
    "replay_into",
    "scan_history",
]

HISTORY_FORMAT = "ledger.history.v1"
#: The fewest bytes an exported event line takes (an envelope of a batch's first event).
_LINE_BYTES = 900

#: The smallest history whose import checks signatures in a verifier pool (its start costs
#: about a second of one core).
POOL_FROM = 1000
#: A file of at least this many bytes starts the pool before its first read.
POOL_BYTES = POOL_FROM * _LINE_BYTES

#: ``progress(done, total)``: how far a long export or import has got.
Progress = Callable[[int, int], None]


def _numbered(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str | bytes]]:
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            yield number, line
    except UnicodeDecodeError as e:
        raise ImportRowsError([(number + 1, "the text from this line on is not UTF-8")]) from e


Item = tuple[int, TrustRoot | StoredEvent]
Note = tuple[int, int, str]


#: How every event line of an export begins; strict JSON names a member once, so a line that
#: begins so and parses is an event line.
_EVENT_LINE = '{"kind": "event", '
_EVENT_LINE_BYTES = _EVENT_LINE.encode()
#: What the first read takes an event line for: it is parsed, and checked, by the second.
_AN_EVENT = StoredEvent(UUID(int=0), 0, "", b"")


def _history_lines(
    lines: Iterable[str | bytes], events_unread: bool = False, lasts: dict[str, int] | None = None
) -> Iterator[tuple[int, Item | Note]]:
    """Each history line after the header, parsed strictly: (line number, entry or note).

    ``events_unread``: an event line is only recognised (it is :data:`_AN_EVENT`), not parsed;
    the first read takes lines so, as every line is parsed in full by the second read.
    ``lasts``: see :func:`scan_history`.
    """
    after_notes = False
    for number, line in _numbered(lines):
        if events_unread and number > 1 and _is_event_line(line):
            if after_notes:
                problem = InvalidInputError("log entries must come before the checkpoints")
                raise ImportRowsError([(number, str(problem))])
            if lasts is not None:
                _note_last(lasts, line)
            yield number, (number, _AN_EVENT)
            continue
        try:
            item = strict_json.loads(line, source="the line")
            if number == 1:
                if item != {"format": HISTORY_FORMAT}:
                    raise InvalidInputError(
                        f'the first line must be {{"format": "{HISTORY_FORMAT}"}}'
                    )
                continue
            found = _history_item(item, after_notes)
        except LedgerError as e:
            raise ImportRowsError([(number, str(e))]) from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ImportRowsError([(number, f"not a history line: {e!r}")]) from e
        if isinstance(found, tuple):
            after_notes = True
            yield number, (number, *found)
        else:
            yield number, (number, found)


def _is_event_line(line: str | bytes) -> bool:
    if isinstance(line, bytes):
        return line.startswith(_EVENT_LINE_BYTES)
    return line.startswith(_EVENT_LINE)


#: How an exported event line names its aggregate and version (the members that follow
#: ``"kind"``); the second read parses every line strictly, and :func:`replay_into` refuses a
#: line that disagrees with what this found.
_EVENT_HEAD = re.compile(
    r'\{"kind": "event", "aggregate": "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
    r'[0-9a-f]{12})", "version": ([1-9][0-9]{0,17}),'
)
_EVENT_HEAD_BYTES = re.compile(_EVENT_HEAD.pattern.encode())


def _note_last(lasts: dict[str, int], line: str | bytes) -> None:
    """Note the aggregate and version of an event line (read whole if not spelled as exported).

    A line the second read will refuse is skipped here: nothing is imported then anyway.
    """
    found = _EVENT_HEAD_BYTES.match(line) if isinstance(line, bytes) else _EVENT_HEAD.match(line)
    if found is not None:
        aggregate, version = found.groups()
        name = aggregate.decode() if isinstance(aggregate, bytes) else aggregate
        _noted(lasts, name, int(version))
        return
    try:
        item = strict_json.loads(line, source="the line")
        _noted(lasts, str(UUID(item["aggregate"])), int(item["version"]))
    except (LedgerError, ValueError, KeyError, TypeError, AttributeError):
        return


def _noted(lasts: dict[str, int], aggregate: str, version: int) -> None:
    lasts[aggregate] = max(lasts.get(aggregate, 0), version)


def scan_history(
    lines: Iterable[str | bytes],
    keys: dict[str, bytes] | None = None,
    lasts: dict[str, int] | None = None,
) -> tuple[TrustRoot, int, list[Note]]:
    """The first pass: the first root, the entry count and the notes.

    Every line but the event lines is parsed and checked here; an event line is recognised
    by how it begins and parsed (and refused, if it must be) by the second pass, which
    parses every line and writes nothing unless every one is good.

    ``keys``, if given, gets every public key a trust root of the file names, by key id (what
    a verifier pool may check signatures with; the replay still uses only the keys in force).
    ``lasts``, if given, gets the last version of each aggregate whose event lines begin as
    exported ones do (:func:`replay_into` lets its state go after it).
    """
    first: TrustRoot | StoredEvent | None = None
    count = 0
    notes: list[Note] = []
    for _, parsed in _history_lines(lines, events_unread=True, lasts=lasts):
        if len(parsed) == 3:
            notes.append(parsed)
            continue
        count += 1
        item = parsed[1]
        if lasts is not None and isinstance(item, StoredEvent):  # an event line spelled apart
            _noted(lasts, str(item.originator_id), item.originator_version)
        first = item if first is None else first
        if keys is not None and isinstance(item, TrustRoot):
            keys.update((key.keyid, key.public_key) for key in item.keys)
    if not isinstance(first, TrustRoot):
        raise InvalidInputError("the history does not begin with a trust root")
    if not notes or notes[-1][1] != count:
        raise InvalidInputError(
            f"the history does not end with a signed checkpoint of all its {count}"
            " entries: it was cut short or changed"
        )
    return first, count, notes


def history_entries(lines: Iterable[str | bytes]) -> Iterator[Item]:
    """The second pass: the log entries (trust roots and stored events) with line numbers."""
    for _, parsed in _history_lines(lines):
        if len(parsed) == 2:
            yield parsed


class Rereadable:
    """Lines that can be read twice (a history import reads its file twice).

    A seekable file is rewound and a list re-iterated; anything else is copied to a temporary
    file as it is first read, so memory stays flat.
    """

    def __init__(self, lines: Iterable[str | bytes]) -> None:
        self._lines = lines
        self._spool: IO[bytes] | None = None

    def first(self) -> Iterator[str | bytes]:
        """The lines, a first time."""
        lines = self._lines
        if isinstance(lines, list | tuple) or _seekable(lines):
            yield from lines
            return
        spool = self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        for line in lines:
            data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
            spool.write(data if data.endswith(b"\n") else data + b"\n")
            yield line

    def big(self) -> bool:
        """True if the lines are a file of at least :data:`POOL_BYTES` bytes."""
        fileno = getattr(self._lines, "fileno", None)
        if not callable(fileno):
            return False
        try:
            return os.fstat(fileno()).st_size >= POOL_BYTES
        except (OSError, ValueError):
            return False

    def second(self) -> Iterable[str | bytes]:
        """The same lines again."""
        lines = self._lines
        if isinstance(lines, list | tuple):
            return lines
        if _seekable(lines):
            lines.seek(0)  # type: ignore[attr-defined]
            return lines
        if self._spool is None:
            return []
        self._spool.seek(0)
        return self._spool  # bytes lines: strict_json reads UTF-8 (and names bad text)

    def close(self) -> None:
        """Remove the temporary copy, if one was made."""
        if self._spool is not None:
            self._spool.close()


def _seekable(lines: object) -> bool:
    seekable = getattr(lines, "seekable", None)
    return callable(seekable) and bool(seekable()) and hasattr(lines, "seek")


def _history_item(item: Any, after_notes: bool) -> TrustRoot | StoredEvent | tuple[int, str]:
    kind = item.get("kind")
    if kind == "checkpoint":
        SignedNote.parse(item["note"])
        return int(item["size"]), str(item["note"])
    if after_notes:
        raise InvalidInputError("log entries must come before the checkpoints")
    if kind == "root":
        return TrustRoot.from_json(item["document"])
    if kind == "event":
        state = Envelope.from_json(item["envelope"]).to_bytes()
        return StoredEvent(UUID(item["aggregate"]), int(item["version"]), str(item["topic"]), state)
    raise InvalidInputError(f"unknown line kind {kind!r}")


def replay_into(
    bulk: BulkWrite,
    replay: Replay,
    entries: Iterable[Item],
    count: int,
    progress: Progress | None,
    pool: VerifierPool | None = None,
    lasts: dict[str, int] | None = None,
) -> None:
    """Replay each entry (the audit's checks) and write it, a page at a time, as it passes.

    With a ``pool``, the Ed25519 checks run in its processes ahead of the replay; the replay
    skips its own check only where the pool's key is the key in force (as the audit does).
    ``lasts`` (:func:`scan_history`): after an aggregate's last version the replay lets its
    state go (:meth:`Replay.forget <ledger.store.Replay.forget>`), so memory does not grow
    with the aggregates; an event of it after that means the file changed between the reads.
    """
    lasts = {} if lasts is None else lasts
    page: list[tuple[StoredEvent, Any]] = []
    checked: Iterable[tuple[Item, bytes | None]] = (
        ((entry, None) for entry in entries)
        if pool is None
        else pool.stream(entries, _envelope_bytes)
    )
    for done, ((number, item), verified) in enumerate(checked, 1):
        where = f"log entry {done - 1}"
        try:
            if isinstance(item, TrustRoot):
                replay.root(item, where)
            else:
                aggregate = str(item.originator_id)
                where += f", aggregate {aggregate} version {item.originator_version}"
                last = lasts.get(aggregate)
                if last == 0:
                    raise InvalidInputError(f"{where}: {_CHANGED}")
                page.append((item, replay.event(item, where, verified)[1]))
                if last == item.originator_version:
                    replay.forget(aggregate)
                    lasts[aggregate] = 0  # forgotten: no later event of it may come
        except LedgerError as e:
            raise ImportRowsError([(number, str(e))]) from e
        if isinstance(item, TrustRoot) or len(page) >= IMPORT_PAGE:
            bulk.append(page)
            page = []
        if isinstance(item, TrustRoot):
            bulk.add_root(item)
        if progress is not None:
            progress(done, count)
    bulk.append(page)


_CHANGED = (
    "the history changed while it was read: the first read found an earlier last version of"
    " this aggregate; nothing was imported"
)


def _envelope_bytes(entry: Item) -> bytes:
    item = entry[1]
    return item.state if isinstance(item, StoredEvent) else b""


def check_checkpoints(replay: Replay, notes: list[Note], count: int) -> None:
    """The replayed log must reach every checkpoint; the last must carry its witnesses."""
    line = notes[0][0]
    if replay.size != count:
        raise ImportRowsError(
            [
                (
                    line,
                    f"the history changed while it was read: {count} log entries on the first"
                    f" read, {replay.size} on the second; nothing was imported",
                )
            ]
        )
    try:
        replay.timeline.finish()
        tree = roots_at(replay.hashes, [size for _, size, _ in notes if size <= count])
        for done, (number, size, text) in enumerate(notes, 1):
            line = number
            replay.checkpoint(size, text, tree, witnessed=done == len(notes))
        replay.finish_time()
    except LedgerError as e:
        raise ImportRowsError([(line, str(e))]) from e
