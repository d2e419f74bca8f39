"""Audit replay: re-verify a whole store and name the first event that fails (SPEC 5).

Rules: reading every stored event in log order, the audit checks
- each envelope (canonical bytes, known key valid at the event's time, signature, actor, role,
  stored id/version/kind equal to the signed ones) and each per-aggregate chain link;
- that the Merkle log has exactly one leaf per event, in the same order, with the event's
  leaf hash, so no event was deleted, added or reordered behind the log's back;
- every signed checkpoint: the log key's signature, and the root recomputed from the leaves;
- every domain rule, by re-running the command behind each credit-batch event.
The first failure raises :class:`AuditError` naming the log position, aggregate and version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from eventsourcing.persistence import StoredEvent

from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry
from ledger.audit.merkle import leaf_hash, roots_at
from ledger.audit.note import SignedNote
from ledger.audit.trust import TrustRoot
from ledger.domain.credit_batch import CreditBatch, recheck
from ledger.errors import AuditError, LedgerError, TamperError

if TYPE_CHECKING:
    from ledger.store import Store

__all__ = ["AuditReport", "audit_store"]


@attrs.frozen
class AuditReport:
    """What an audit covered."""

    events: int
    aggregates: int
    checkpoints: int
    log_root: str


@attrs.define
class _State:
    last: dict[str, Entry] = attrs.Factory(dict)
    aggregates: dict[str, Any] = attrs.Factory(dict)
    hashes: list[bytes] = attrs.Factory(list)


def audit_store(
    store: Store,
    roots: list[TrustRoot],
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Audit everything ``store`` holds; see the module rules."""
    with store.read() as connection:
        leaves = store.log.rows(connection)
        notes = store.log.checkpoint_notes(connection)
    state = _State()
    for stored in store.notifications():
        _check_event(store, state, stored, leaves)
        if progress is not None:
            progress(len(state.hashes), len(leaves))
    if len(state.hashes) != len(leaves):
        index, _, aggregate, version = leaves[len(state.hashes)]
        raise AuditError(
            f"log leaf {index}: aggregate {aggregate} version {version} is missing from the store"
        )
    size_now = len(state.hashes)
    tree = roots_at(state.hashes, [size for size, _ in notes if size <= size_now] + [size_now])
    for size, text in notes:
        _check_checkpoint(size, text, tree.get(size), roots)
    return AuditReport(size_now, len(state.aggregates), len(notes), tree[size_now].hex())


def _check_event(
    store: Store,
    state: _State,
    stored: StoredEvent,
    leaves: list[tuple[int, bytes, str, int]],
) -> None:
    position = len(state.hashes)
    where = (
        f"log leaf {position}, aggregate {stored.originator_id} version {stored.originator_version}"
    )
    try:
        entry = store.open(stored)
        check_link(state.last.get(entry.aggregate), entry)
        _check_leaf(position, stored, leaves)
        _check_rules(store, state, stored, entry)
    except AuditError:
        raise
    except LedgerError as e:
        detail = e.detail if isinstance(e, TamperError) else str(e)
        raise AuditError(f"{where}: {detail}") from e
    state.last[entry.aggregate] = entry
    state.hashes.append(leaf_hash(stored.state))


def _check_leaf(
    position: int, stored: StoredEvent, leaves: list[tuple[int, bytes, str, int]]
) -> None:
    if position >= len(leaves):
        raise AuditError(f"log leaf {position}: the event is stored but not in the log")
    index, hashed, aggregate, version = leaves[position]
    same = (aggregate, version) == (str(stored.originator_id), stored.originator_version)
    if index != position or not same or hashed != leaf_hash(stored.state):
        raise AuditError(
            f"log leaf {position} is aggregate {aggregate} version {version}, which does not"
            f" match the stored event aggregate {stored.originator_id} version"
            f" {stored.originator_version}"
        )


def _check_rules(store: Store, state: _State, stored: StoredEvent, entry: Entry) -> None:
    event: Any = store.event_of(stored, entry)
    before = state.aggregates.get(entry.aggregate)
    if entry.topic.startswith("ledger.credit-batch.") and (
        before is None or isinstance(before, CreditBatch)
    ):
        recheck(before, event)
    state.aggregates[entry.aggregate] = event.mutate(before)


def _check_checkpoint(
    size: int, text: str, tree_root: bytes | None, roots: list[TrustRoot]
) -> None:
    if not roots:
        raise AuditError("there are checkpoints but no trust root to check them with")
    latest = roots[-1]
    try:
        note = SignedNote.parse(text)
        logs = [k for k in latest.with_role("log") if k.actor == note.checkpoint.origin]
        if not any(_signed_by(note, key.actor, key.public_key) for key in logs):
            raise AuditError(f"checkpoint {size}: no log key of the trust root signed it")
    except AuditError:
        raise
    except LedgerError as e:
        raise AuditError(f"checkpoint {size}: {e}") from e
    if tree_root != note.checkpoint.root:
        raise AuditError(
            f"checkpoint {size}: the log's root at size {size} does not match the signed"
            " checkpoint (the log or the store was changed after it was signed)"
        )


def _signed_by(note: SignedNote, name: str, public_key: bytes) -> bool:
    try:
        note.verify_log(name, public_key)
    except LedgerError:
        return False
    return True
