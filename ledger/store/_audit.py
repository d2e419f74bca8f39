"""Audit: re-verify a whole store against the trust the auditor brings (SPEC 5, 5a).

Rules:
- Trust is passed in: the root the auditor trusts and, optionally, the latest checkpoint they
  hold (from a witness, or an earlier audit). Nothing the store vouches for alone (its trust
  roots, claim tables, checkpoints, read models) decides what is true.
- The log is walked leaf by leaf (:func:`log_items`): each leaf is a trust root or the next
  stored event in notification order, its recorded hash equal to the one recomputed from the
  document or envelope; every item is replayed (:class:`~ledger.store._replay.Replay`).
- Every stored checkpoint: signed by the log key in force at its size, known witnesses'
  cosignatures verifying, its root equal to the log's root at its size.
- The auditor's checkpoint: signed and cosigned as the trust root in force at its size asks
  (at least ``witnesses`` cosignatures), and the store's log proven to extend it: every leaf
  was hashed again, so the log's root at its size must be its root (exactly what an RFC 9162
  consistency proof from it would prove); a log shorter than it lost entries.
- The claim tables equal the claims made again from the signed history, row for row.
The first failure raises :class:`AuditError` naming the log leaf, checkpoint or table row.

Cost (docs/scaling.md): leaves and events are read page by page; signatures of a log of at
least :data:`POOL_FROM` leaves are checked by a :class:`~ledger.audit._sigpool.VerifierPool`
ahead of the walk (the verdict and the first failure named are the same either way); what is
kept grows with the aggregates still open, not with the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import attrs
import sqlalchemy as sa
from eventsourcing.persistence import Notification, StoredEvent

from ledger.audit import strict_json
from ledger.audit._sigpool import Opened, VerifierPool
from ledger.audit.note import Checkpoint, SignedNote
from ledger.audit.timeline import ROOT_LEAF
from ledger.audit.trust import TrustRoot
from ledger.errors import AuditError, LedgerError, LogProofError
from ledger.store._replay import Replay

if TYPE_CHECKING:
    from ledger.store import Store

__all__ = ["AuditReport", "LogItem", "audit_store", "log_items"]

Leaf = tuple[int, bytes, str, int]
#: Leaves read per query.
_PAGE = 2000
#: The smallest log whose audit starts a verifier pool (its start costs about a second).
POOL_FROM = 1000
#: Events per page sent to the pool: a worker's answer holds each envelope and its payload's
#: body, and at most :data:`~ledger.audit._sigpool.AHEAD` pages are in flight.
_POOL_PAGE = 100


@attrs.frozen
class AuditReport:
    """What an audit covered.

    Attributes:
        events: signed events replayed. aggregates: how many aggregates they make.
        checkpoints: stored checkpoints verified. log_root: hex root of the whole log.
        roots: trust-root versions in the log. held: the size of the auditor's checkpoint
            that the log was proven to extend (None when none was given). read_models: how
            many read models kept in the store were compared row by row with the history.
    """

    events: int
    aggregates: int
    checkpoints: int
    log_root: str
    roots: int = 0
    held: int | None = None
    read_models: int = 0


@attrs.frozen
class LogItem:
    """One leaf of a store's log: a trust root (``root``) or an event (``stored``).

    ``verified``: the raw public key a verifier pool checked the event's signature with;
    ``opened``: what the pool found reading the envelope (:func:`~ledger.audit._sigpool.open_page`);
    ``final``: no later leaf of the log is of the event's aggregate.
    """

    position: int
    leaf: Leaf
    root: TrustRoot | None = None
    stored: StoredEvent | None = None
    verified: bytes | None = None
    final: bool = False
    opened: Opened | None = None


def _leaves(store: Store, total: int) -> Iterator[tuple[Leaf, bool]]:
    """The log's first ``total`` leaves in order, read page by page, each with ``final``.

    ``final``: no later leaf (of the first ``total``) is of the same aggregate, so a replay
    may forget the aggregate's state after it. One query per page finds them.
    """
    start = 0
    while start < total:
        with store.read() as connection:
            page = store.log.rows(connection, start, min(_PAGE, total - start))
            lasts = _last_leaves(store, connection, {leaf[2] for leaf in page}, total)
        yield from ((leaf, lasts.get(leaf[2]) == leaf[0]) for leaf in page)
        if not page:
            return
        start = page[-1][0] + 1


def _last_leaves(
    store: Store, connection: sa.Connection, aggregates: set[str], total: int
) -> dict[str, int]:
    """The index of the last of the first ``total`` leaves of each of ``aggregates``."""
    c = store.log.leaves.c
    aggregates.discard(ROOT_LEAF)
    if not aggregates:
        return {}
    query = (
        sa.select(c.aggregate, sa.func.max(c.leaf_index))
        .where(c.aggregate.in_(sorted(aggregates)), c.leaf_index < total)
        .group_by(c.aggregate)
    )
    return {str(aggregate): int(index) for aggregate, index in connection.execute(query)}


def log_items(store: Store, pool: VerifierPool | None = None) -> Iterator[LogItem]:
    """The store's log in order, each leaf matched to its root document or stored event.

    The walk is of the log as it was when it began: the newest event then bounds it, so
    entries committed while it runs (a live store) end it rather than look like tampering.
    Leaves and events are read page by page. With a ``pool``, events come with the key their
    signature was already checked with, a few pages ahead of the walk.
    """
    newest = store.max_notification_id()
    with store.read() as connection:
        total = store.log.size(connection)
        documents = store.log.root_rows(connection)
    notifications = _stored_events(store)
    events: Iterator[tuple[StoredEvent, Opened | None]] = (
        ((n, None) for n in notifications)
        if pool is None
        else pool.stream(notifications, lambda n: n.state, _POOL_PAGE, opened=True, wait=False)
    )
    count = 0
    for position, (leaf, final) in enumerate(_leaves(store, total)):
        count = position + 1
        index, _, aggregate, version = leaf
        if index != position:
            raise AuditError(f"log leaf {position} is missing (the next leaf is {index})")
        if aggregate == ROOT_LEAF:
            yield LogItem(position, leaf, root=_root(documents.pop(version, None), leaf))
            continue
        stored, opened = next(events, (None, None))
        if stored is None or getattr(stored, "id", 0) > newest:
            if store.max_notification_id() > newest:
                return  # the rest was written after the walk began
            raise AuditError(
                f"log leaf {position}: aggregate {aggregate} version {version} is missing"
                " from the store"
            )
        verified = None if opened is None else opened.key
        yield LogItem(position, leaf, stored=stored, verified=verified, final=final, opened=opened)
    extra, _ = next(events, (None, None))
    if extra is not None and getattr(extra, "id", 0) <= newest:
        raise AuditError(
            f"log leaf {count}: aggregate {extra.originator_id} version"
            f" {extra.originator_version} is stored but not in the log"
        )
    with store.read() as connection:  # a root adopted while the walk ran has its leaf now
        unlogged = [
            v
            for v in sorted(documents)
            if (at := store.log.index_of(connection, ROOT_LEAF, v)) is None or at < count
        ]
    if unlogged:
        raise AuditError(f"trust root version {unlogged[0]} is stored but not in the log")


def _stored_events(store: Store) -> Iterator[Notification]:
    """Every stored event in notification order, read page by page with one plain select.

    The same rows :meth:`Store.notifications <ledger.store.Store.notifications>` reads (its
    ORM query costs an object per row), each page in a read transaction of its own.
    """
    table = store._app._sql_recorder().events_record_cls.__table__
    c = table.c
    query = sa.select(c.id, c.originator_id, c.originator_version, c.topic, c.state)
    after = 0
    while True:
        with store.read() as connection:
            rows = connection.execute(query.where(c.id > after).order_by(c.id).limit(_PAGE)).all()
            page = [
                Notification(
                    id=row[0],
                    originator_id=row[1],
                    originator_version=row[2],
                    topic=row[3],
                    state=bytes(row[4]) if isinstance(row[4], memoryview) else row[4],
                )
                for row in rows
            ]
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].id


def _root(document: str | None, leaf: Leaf) -> TrustRoot:
    index, _, _, version = leaf
    if document is None:
        raise AuditError(f"log leaf {index}: trust root version {version} is not stored")
    try:
        return TrustRoot.from_json(strict_json.loads(document, source="a stored trust root"))
    except LedgerError as e:
        raise AuditError(f"log leaf {index}: trust root version {version}: {e}") from e


def audit_store(
    store: Store,
    trusted: TrustRoot,
    held: SignedNote | Checkpoint | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
) -> AuditReport:
    """Audit everything ``store`` holds against ``trusted`` (and ``held``); see the rules.

    ``workers``: processes checking signatures beside the walk (None: two for a log of at
    least :data:`POOL_FROM` leaves, else none; 0: none).
    """
    with store.read() as connection:
        total = store.log.size(connection)
        notes = store.log.checkpoint_notes(connection)
        documents = store.log.root_rows(connection)
    held_size = [] if held is None else [_size(held)]
    replay = Replay(
        store, trusted, sizes=[size for size, _ in notes] + held_size, keep_hashes=False
    )
    if workers is None:
        workers = 2 if total >= POOL_FROM else 0
    pool = VerifierPool(_known_keys(trusted, documents.values()), workers) if workers else None
    try:
        for item in log_items(store, pool):
            _replay_item(replay, item)
            if progress is not None:
                progress(item.position + 1, total)
        try:
            replay.timeline.finish()
        except LedgerError as e:
            raise AuditError(str(e)) from e
        tree = replay.roots
        for note_size, text in notes:
            replay.checkpoint(note_size, text, tree)
        if held is not None:
            _check_held(replay, held, tree)
        replay.finish_time()
        _compare_claims(store, replay)
        return AuditReport(
            replay.events,
            replay.aggregate_count,
            len(notes),
            tree[replay.size].hex(),
            len(replay.timeline.roots),
            held_size[0] if held_size else None,
        )
    finally:
        if pool is not None:
            pool.close()
        replay.close()


def _known_keys(trusted: TrustRoot, documents: Iterable[str]) -> dict[str, bytes]:
    """Every public key a root names, by key id: what the pool may check signatures with.

    Stored root documents are read leniently here: a key listed by a root that turns out
    false is harmless (the walk uses only the keys in force), and a root that does not parse
    is named by the walk.
    """
    keys = {key.keyid: key.public_key for key in trusted.keys}
    for document in documents:
        try:
            root = TrustRoot.from_json(strict_json.loads(document, source="a stored trust root"))
        except LedgerError:
            continue
        keys |= {key.keyid: key.public_key for key in root.keys}
    return keys


def _size(held: SignedNote | Checkpoint) -> int:
    return held.checkpoint.size if isinstance(held, SignedNote) else held.size


def _replay_item(replay: Replay, item: LogItem) -> None:
    position, leaf = item.position, item.leaf
    if item.root is not None:
        replay.root(item.root, f"log leaf {position}")
    elif item.stored is not None:
        stored = item.stored
        same = (leaf[2], leaf[3]) == (str(stored.originator_id), stored.originator_version)
        if not same:
            raise AuditError(
                f"log leaf {position} is aggregate {leaf[2]} version {leaf[3]}, which does not"
                f" match the stored event aggregate {stored.originator_id} version"
                f" {stored.originator_version}"
            )
        where = f"log leaf {position}, aggregate {leaf[2]} version {leaf[3]}"  # the same text
        replay.event(stored, where, item.verified, item.opened)
        if item.final:
            replay.forget(leaf[2])
    if replay.last_hash != leaf[1]:
        raise AuditError(
            f"log leaf {position} is aggregate {leaf[2]} version {leaf[3]}, which does not"
            " match the hash of what is stored for it"
        )


def _check_held(replay: Replay, held: SignedNote | Checkpoint, tree: dict[int, bytes]) -> None:
    checkpoint = held.checkpoint if isinstance(held, SignedNote) else held
    size, now = checkpoint.size, replay.size
    where = f"the checkpoint you hold (size {size})"
    if size > now:
        raise AuditError(
            f"{where} covers more than the store's log of {now} entries: entries were deleted"
        )
    try:
        if isinstance(held, SignedNote):
            witnessed = replay.timeline.check_checkpoint(held)
            needed = replay.timeline.governing(size).witnesses
            if len(witnessed) < needed:
                raise AuditError(f"{where} has {len(witnessed)} cosignatures; {needed} needed")
            replay.dated(size, witnessed)
        if size == 0:
            raise AuditError(f"{where} is of an empty log")
        _extends(size, now, checkpoint.root, tree[size])
    except AuditError:
        raise
    except LedgerError as e:
        raise AuditError(
            f"{where}: the store's log does not extend it (rewritten or reordered): {e}"
        ) from e


def _extends(size: int, now: int, held_root: bytes, root_then: bytes) -> None:
    """Refuse a log whose tree at ``size`` is not the held one (as a consistency proof would).

    Every leaf was hashed again, so the log's tree at ``size`` is known: the RFC 9162
    consistency proof from it to the whole log verifies exactly when it equals the held root.
    """
    if held_root == root_then:
        return
    if size == now:
        raise LogProofError(f"two different roots for the same size {size}")
    raise LogProofError(f"consistency proof from {size} to {now} does not match the roots")


def _compare_claims(store: Store, replay: Replay) -> None:
    with store.read() as connection:
        replay.claims.compare(connection, store.claims)
