"""The verified event stream of a read-model rebuild: signatures and the log's hashes (issue 13).

Rules (SPEC 5a):
- Every event is verified as on any read (canonical form, signature, a known key of the right
  actor and role, the signed columns). A checkpoint proves only that the log's operator
  committed to some bytes, not that an account signed them, so it never stands in for a
  signature (an insider review showed the log key alone could otherwise put forged
  retirements on ``ledger certificates``).
- On top of that, the latest stored checkpoint, if it is signed by a ``log`` key the store
  accepts (for its origin) and cosigned by as many distinct witnesses as the latest trust root
  asks for, binds the log: each event at a position inside it must be the leaf at its position
  (same aggregate and version), its stored bytes must hash to that leaf, and the Merkle root of
  the checkpoint's leaves, folded as the walk passes (the leaf hashes of trust roots, and of
  leaves past the last event asked for, are taken from the log), must be the signed root. So a
  deleted, reordered or replaced event is named even where every signature holds.
- Every event must be the log leaf at its position (same aggregate and version, its bytes
  hashing to the leaf; an event committed before the walk began with no leaf is refused, as
  an event and its leaf are written in one transaction), and its key must not have been
  revoked by a trust root at an earlier leaf, whatever the event's date (the checks an audit
  makes by position).
- Each aggregate's events must come in the stored order as a chain: its first is version 1
  with no previous hash, each next one the next version naming the previous one's entry hash
  (a reordered, deleted or copied event is named even where no checkpoint covers it). The
  walk keeps one (version, hash) head per aggregate for that.
- The walk reads leaves and events page by page and keeps O(log n) hashes; the root is
  compared when the walk has passed the checkpoint's size, and a failure raises there: a caller
  writes what it built only after the stream ended (:func:`ledger.projections.runner.rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import Notification

from ledger.audit import _strict_json as strict_json
from ledger.audit.envelope import Entry
from ledger.audit.merkle import EMPTY_ROOT, Frontier, leaf_hash
from ledger.audit.note import SignedNote
from ledger.audit.timeline import ROOT_LEAF, revokes
from ledger.audit.trust import TrustRoot
from ledger.errors import ChainError, LedgerError, LogForkError, SignatureError, TamperError
from ledger.projections._signatures import prechecked
from ledger.store import Store

__all__ = ["hashed_entries"]

_PAGE = 2000


def _checkpoint(store: Store) -> tuple[int, bytes]:
    """The size and root of the latest checkpoint that verifies and is witnessed (0 if none)."""
    with store.read() as connection:
        latest = store.log.latest_checkpoint(connection)
        roots = store.log.root_documents(connection)
    if latest is None or not roots:
        return 0, EMPTY_ROOT
    size, text = latest
    try:
        note = SignedNote.parse(text)
        needed = TrustRoot.from_json(strict_json.loads(roots[-1], source="a trust root")).witnesses
    except LedgerError:
        return 0, EMPTY_ROOT
    if note.checkpoint.size != size or _witnesses(note, store) < needed:
        return 0, EMPTY_ROOT
    origin = note.checkpoint.origin
    for key in store.keys:
        if key.role == "log" and key.actor == origin:
            try:
                note.verify_log(key.actor, key.public_key)
            except LedgerError:
                continue
            return size, note.checkpoint.root
    return 0, EMPTY_ROOT


def _witnesses(note: SignedNote, store: Store) -> int:
    """How many distinct witnesses the store accepts have a verifying cosignature on ``note``."""
    actors = set()
    for key in store.keys:
        if key.role != "witness" or key.actor in actors:
            continue
        try:
            if note.cosigned_at(key.actor, key.public_key) is not None:
                actors.add(key.actor)
        except LedgerError:
            continue
    return len(actors)


class _Revocations:
    """The keys trust roots revoked, by the log position of the revoking root (SPEC 5a)."""

    def __init__(self, store: Store) -> None:
        with store.read() as connection:
            rows = store.log.root_rows(connection)
        self._roots = {version: _root(version, text) for version, text in rows.items()}
        self._last: TrustRoot | None = None
        self._revoked: dict[str, tuple[int, int]] = {}

    def admit(self, version: int, position: int) -> None:
        """Take the root the log holds at ``position``: note the keys it revokes there."""
        root = self._roots.get(version)
        if root is None:
            raise TamperError(f"log leaf {position} is trust root version {version}, not kept")
        for key in root.keys:
            if key.keyid not in self._revoked and revokes(self._last, root, key):
                self._revoked[key.keyid] = (version, position)
        self._last = root

    def check(self, entry: Entry, position: int) -> None:
        """Refuse ``entry`` at log ``position`` if signed by a key revoked before it."""
        found = self._revoked.get(entry.signer.keyid)
        if found is not None:
            raise SignatureError(
                f"log leaf {position} is signed by the key of {entry.signer.actor!r}, revoked by"
                f" trust root version {found[0]} at log leaf {found[1]} (whatever its date)",
                aggregate=entry.aggregate,
                version=entry.version,
            )


def _root(version: int, text: str) -> TrustRoot:
    try:
        return TrustRoot.from_json(strict_json.loads(text, source=f"trust root version {version}"))
    except LedgerError as e:
        raise TamperError(f"kept trust root version {version} does not read: {e}") from e


def _leaves(store: Store, total: int) -> Iterator[tuple[int, bytes, str, int]]:
    start = 0
    while start < total:
        with store.read() as connection:
            page = store.log.rows(connection, start, min(_PAGE, total - start))
        if not page:
            return
        yield from page
        start = page[-1][0] + 1


#: The store's event table, as eventsourcing-sqlalchemy's recorder writes it (read here with
#: plain SQL: its ORM read costs more than every read model's writes together).
_EVENTS = ("id", "originator_id", "originator_version", "topic", "state")


def _table(store: Store) -> sa.TableClause:
    return sa.table("ledger_events", *(sa.column(name) for name in _EVENTS), schema=store.schema)


def _last_id(connection: sa.Connection, store: Store) -> int:
    """The last notification id stored (0 if none)."""
    return int(connection.execute(sa.select(sa.func.max(_table(store).c.id))).scalar() or 0)


def _events(store: Store, until: int | None) -> Iterator[Notification]:
    """The stored events in notification order (up to ``until``), read page by page."""
    table = _table(store)
    query = sa.select(*(table.c[name] for name in _EVENTS)).order_by(table.c.id).limit(_PAGE)
    after = 0
    while until is None or after < until:
        bounded = query.where(table.c.id > after)
        if until is not None:
            bounded = bounded.where(table.c.id <= until)
        with store.read() as connection:
            page = [_notification(*row) for row in connection.execute(bounded)]
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].id


def _notification(
    id_: int, originator: object, version: int, topic: str, state: object
) -> Notification:
    if isinstance(originator, bytes | memoryview):
        aggregate = UUID(bytes=bytes(originator))
    else:
        aggregate = originator if isinstance(originator, UUID) else UUID(str(originator))
    return Notification(
        id=id_,
        originator_id=aggregate,
        originator_version=version,
        topic=topic,
        # text where bytes belong is named by the checks that follow (stored as text)
        state=cast(bytes, bytes(state) if isinstance(state, memoryview) else state),
    )


def hashed_entries(store: Store, until: int | None = None) -> Iterator[tuple[Notification, Entry]]:
    """Each stored event (up to notification id ``until``) with its entry; see the rules.

    Raises:
        TamperError: an event that is not the leaf at its position, or fails a read's checks.
        LogForkError: the checkpoint does not verify, or the log's root at its size is not it.
    """
    size, signed_root = _checkpoint(store)
    expected = store.max_notification_id() if until is None else until
    yield from _chained(_checked(store, size, signed_root, until, expected))


def _chained(
    entries: Iterator[tuple[Notification, Entry]],
) -> Iterator[tuple[Notification, Entry]]:
    """``entries`` (from the first stored event on), each checked to extend its chain."""
    heads: dict[str, tuple[int, str]] = {}
    for notification, entry in entries:
        version, previous = heads.get(entry.aggregate, (0, None))
        if entry.version != version + 1 or entry.prev != previous:
            raise ChainError(
                f"stored after version {version} of its aggregate, but it is not the next link"
                " of the aggregate's chain (moved, copied or an event deleted; run ledger audit)",
                aggregate=notification.originator_id,
                version=notification.originator_version,
            )
        heads[entry.aggregate] = (entry.version, entry.hash)
        yield notification, entry


def _checked(
    store: Store, size: int, signed_root: bytes, until: int | None, expected: int
) -> Iterator[tuple[Notification, Entry]]:
    """Each stored event verified, bound to the log's leaves and the checkpoint's root."""
    tree = Frontier()
    with store.read() as connection:  # one snapshot: every event up to `logged` has its leaf
        total = store.log.size(connection)
        logged = _last_id(connection, store)
    leaves = _leaves(store, max(size, total))
    revocations = _Revocations(store)
    count = 0  # leaves passed
    keys = {key.keyid: key.public_key for key in store.keys}
    for notification, verified in prechecked(_events(store, until), keys, expected):
        leaf = next(leaves, None)
        while leaf is not None and leaf[2] == ROOT_LEAF:
            revocations.admit(leaf[3], leaf[0])
            if leaf[0] < size:
                tree.add(leaf[1])
            count += 1
            leaf = next(leaves, None)
        if leaf is None:
            if notification.id <= logged:  # committed with the leaves read: it must have one
                raise TamperError(
                    f"stored but not in the log: no log leaf after leaf {count - 1} holds it"
                    " (run ledger audit)",
                    aggregate=notification.originator_id,
                    version=notification.originator_version,
                )
            entry = store.open(notification, verified=verified)  # written during the walk
            revocations.check(entry, count)
            yield notification, entry
            continue
        position, hashed, aggregate, version = leaf
        stored_as = (str(notification.originator_id), notification.originator_version)
        if position != count or (aggregate, version) != stored_as:
            raise TamperError(
                f"log leaf {count} is not aggregate {stored_as[0]} version {stored_as[1]},"
                " the next stored event (run ledger audit)"
            )
        if not isinstance(notification.state, bytes) or leaf_hash(notification.state) != hashed:
            raise TamperError(
                f"log leaf {position}: the stored event does not hash to the leaf (run ledger"
                " audit)",
                aggregate=notification.originator_id,
                version=notification.originator_version,
            )
        if position < size:
            tree.add(hashed)
        count += 1
        entry = store.open(notification, verified=verified)
        revocations.check(entry, position)
        yield notification, entry
    for position, hashed, _, _ in leaves:  # the rest of the checkpoint, from the log's hashes
        if position >= size or position != tree.count:
            break
        tree.add(hashed)
    if size and (tree.count != size or tree.root() != signed_root):
        raise LogForkError(
            f"the log no longer extends the latest signed checkpoint (size {size}): entries"
            " were deleted, replaced or reordered (run ledger audit)"
        )
