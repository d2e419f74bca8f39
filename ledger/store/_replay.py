"""Replay of a signed history from the history alone: the core of audit and import (SPEC 5a).

Rules: the log is taken item by item, in log order (trust roots and events interleaved), and
- each trust root must be where :class:`~ledger.audit.timeline.Timeline` allows it;
- each event is verified with the keys of the root in force at its position (canonical
  envelope, signature, actor, role, stored columns, revocation by position, time order), must
  follow its aggregate's previous event in the hash chain, and must be one that a command of
  its aggregate kind could have made on the state before it (each kind's ``recheck``), and a
  sink project's binding must name an event replayed before it, by its label and end date;
- the claims every event makes (serial blocks per registry, parcels and areas, bindings) are
  made again in a claim index of their own (:mod:`ledger.store._replay_claims`, a scratch
  SQLite file), so R9 and R11 are re-checked from the signed history, never from the claim
  tables;
- the leaf hash of each item is computed, never read, so a caller can compare it with a log;
  the tree hash at each size asked for is folded as the leaves pass (at most log n subtree
  hashes are kept), so a caller that does not ask for every leaf hash (``keep_hashes``) holds
  no memory per leaf;
- each event is canonicalized once; its signature check may have been done already by the
  audit's verifier pool (``verified``: the raw public key it verified with), which counts only
  if that is the key in force for it here.
What is kept per aggregate is its latest state and its chain head (version and entry hash),
never its events or envelopes; a caller that knows an aggregate has no later event in the log
(the audit reads it from the log's leaves) lets both go (:meth:`Replay.forget`), except the
state of a finished event neutralization, which a later sink binding may name (R9; events are
few beside batches).
Nothing here reads the store's trust roots, claims or checkpoints to decide what is true.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent

from ledger.audit._sigpool import Opened
from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry
from ledger.audit.keys import KeyDirectory
from ledger.audit.merkle import Frontier, leaf_hash
from ledger.audit.note import SignedNote
from ledger.audit.policy import authority_problem
from ledger.audit.timeline import Mark, Timeline, root_leaf
from ledger.audit.trust import TrustRoot
from ledger.domain import sink_project
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.replay import decode, domain_event, replay_event
from ledger.errors import AuditError, DatedError, LedgerError, TamperError
from ledger.store._claims import claims_for
from ledger.store._mapper import _check_columns
from ledger.store._replay_claims import ReplayClaims

if TYPE_CHECKING:
    from ledger.store import Store

__all__ = ["Replay"]


@attrs.frozen
class _Head:
    """An aggregate's chain head: all :func:`check_link` reads of the event before."""

    aggregate: str
    version: int
    hash: str


def _opened_entry(stored: StoredEvent, keys: KeyDirectory, opened: Opened | None) -> Entry | None:
    """The entry :meth:`Mapper.open <ledger.store._mapper.Mapper.open>` would return, or None.

    ``opened``: a verifier pool read the envelope strictly from these very bytes, checked its
    payload's body and verified its signature with ``opened.key``. The checks that depend on
    the log position are run here as ``open`` runs them: the key in force for its key id must
    be that very key, then its window, the actor, the stored columns and the authority. None
    (the caller then runs ``open`` itself, which names any failure exactly as before) when
    there is no such result, or when any of these checks does not pass.
    """
    if opened is None or opened.body is None:
        return None
    try:
        key = keys.get(opened.envelope.keyid)
        if key.public_key != opened.key:
            return None
        entry = Entry.from_body(opened.envelope, key, opened.body)
        _check_columns(stored, entry)
        if authority_problem(entry.topic, entry.signer, entry.event) is not None:
            return None
    except Exception:  # named by ``open``, the old way
        return None
    return entry


def _domain_event(stored: StoredEvent, entry: Entry) -> Any:
    """What :meth:`Store.event_of <ledger.store.Store.event_of>` rebuilds, decoded directly.

    The entry's event passed :func:`~ledger.audit.check_tagged` (every tagged object is
    exactly a known ``_type_`` with its ``_data_`` text), where :func:`decode` and the store's
    transcoder (the same three transcodings) give the same fields.
    """
    found = stored.originator_id
    aggregate = found if type(found) is UUID else UUID(str(found))
    return domain_event(stored.topic, aggregate, stored.originator_version, decode(entry.event))


class Replay:
    """Checks a history item by item; see the module rules.

    Args:
        store: the store whose mapper decodes events (nothing is read from its tables).
        trusted: the trust root the caller already trusts.
        sizes: the log sizes whose tree hash (:attr:`roots`) and time mark are wanted.
        keep_hashes: keep every leaf hash in :attr:`hashes` (the import needs them).
    """

    def __init__(
        self,
        store: Store,
        trusted: TrustRoot,
        *,
        newer_trusted: bool = False,
        sizes: Iterable[int] = (),
        keep_hashes: bool = True,
    ):
        self.store = store
        self.timeline = Timeline(trusted, newer_trusted)
        self.sizes = set(sizes)
        self.marks: dict[int, Mark | None] = {}
        self.last: dict[str, _Head] = {}
        self.aggregates: dict[str, Any] = {}
        self.finished_events: dict[str, EventNeutralization] = {}
        self.hashes: list[bytes] = []
        self.keep_hashes = keep_hashes
        self.tree = Frontier(self.sizes)
        self.last_hash: bytes | None = None
        self.events = 0
        self.aggregate_count = 0
        self.claims = ReplayClaims()

    @property
    def size(self) -> int:
        """How many log items were taken."""
        return self.tree.count

    @property
    def roots(self) -> dict[int, bytes]:
        """The tree hash at each size asked for that was reached, and at the current size."""
        return self.tree.roots | {self.tree.count: self.tree.root()}

    def _leaf(self, hashed: bytes) -> None:
        self.last_hash = hashed
        if self.keep_hashes:
            self.hashes.append(hashed)
        self.tree.add(hashed)

    def root(self, root: TrustRoot, where: str) -> None:
        """Take a trust-root version at the next log position."""
        try:
            self.timeline.admit(root, self.size)
        except LedgerError as e:
            raise AuditError(f"{where}: {e}") from e
        self._leaf(leaf_hash(root_leaf(root)))
        self._mark()

    def event(
        self,
        stored: StoredEvent,
        where: str,
        verified: bytes | None = None,
        opened: Opened | None = None,
    ) -> tuple[Entry, Any]:
        """Take a stored event at the next log position; return its entry and domain event.

        ``verified``: the raw public key a verifier pool checked its signature with, if any;
        ``opened``: what the pool found reading its envelope (:func:`_opened_entry`).
        """
        try:
            entry = _opened_entry(stored, self.timeline.keys, opened) or self.store.open(
                stored, self.timeline.keys, verified
            )
            check_link(self.last.get(entry.aggregate), entry)
            self.timeline.check_entry(entry, where)
            domain_event = _domain_event(stored, entry)
            self._rules(entry, domain_event)
            claims = claims_for([domain_event])
            if claims:
                self.claims.claim(claims)
        except AuditError:
            raise
        except LedgerError as e:
            detail = e.detail if isinstance(e, TamperError) else str(e)
            raise AuditError(f"{where}: {detail}") from e
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
            raise AuditError(f"{where}: not a well-formed event ({e!r})") from e
        if entry.version == 1:
            self.aggregate_count += 1
        self.last[entry.aggregate] = _Head(entry.aggregate, entry.version, entry.hash)
        self._leaf(bytes.fromhex(entry.hash))  # SHA-256(0x00 || stored bytes): the leaf hash
        self.events += 1
        self._mark()
        return entry, domain_event

    def forget(self, aggregate: str) -> None:
        """Drop an aggregate's state and chain head: the caller knows no later event is of it."""
        self.last.pop(aggregate, None)
        state = self.aggregates.pop(aggregate, None)
        if isinstance(state, EventNeutralization):
            self.finished_events[aggregate] = state  # a later binding may name it (R9)

    def _mark(self) -> None:
        if self.size in self.sizes:
            self.marks[self.size] = self.timeline.mark()

    def dated(self, size: int, cosigned: Mapping[str, int]) -> None:
        """Refuse the entry dated after checkpoint ``size`` (``cosigned``: its witness times)."""
        needed = self.timeline.governing(size).witnesses
        try:
            self.timeline.check_dated(size, cosigned, self.marks.get(size), needed)
        except DatedError as e:
            raise AuditError(f"{e.where}: {e}") from e

    def finish_time(self) -> None:
        """Raise the first timestamp that went backwards, once no entry was found misdated."""
        if self.timeline.violation is not None:
            where, message = self.timeline.violation
            raise AuditError(f"{where}: {message}")

    def _rules(self, entry: Entry, domain_event: Any) -> None:
        before = self.aggregates.get(entry.aggregate)
        self.aggregates[entry.aggregate] = replay_event(before, domain_event)
        if entry.topic == sink_project.BOUND:
            named = str(domain_event.event_id)
            sink_project.check_binding(
                domain_event, self.aggregates.get(named) or self.finished_events.get(named)
            )

    def checkpoint(
        self, size: int, text: str, tree: dict[int, bytes], *, witnessed: bool = False
    ) -> None:
        """Check a signed checkpoint of ``size`` against the replayed log (``tree``: roots).

        ``witnessed``: it must also carry the cosignatures its trust root asks for.
        """
        try:
            note = SignedNote.parse(text)
            if note.checkpoint.size != size:
                raise AuditError(f"checkpoint {size}: the note says size {note.checkpoint.size}")
            if size > self.size:
                raise AuditError(
                    f"checkpoint {size}: covers {size} leaves but the log has"
                    f" {self.size} (entries were deleted or cut off)"
                )
            cosigned = self.timeline.check_checkpoint(note)
            needed = self.timeline.governing(size).witnesses
            if witnessed and len(cosigned) < needed:
                raise AuditError(
                    f"checkpoint {size}: {len(cosigned)} witness cosignatures; its trust root"
                    f" needs {needed}"
                )
        except AuditError:
            raise
        except LedgerError as e:
            raise AuditError(f"checkpoint {size}: {e}") from e
        self.dated(size, cosigned)
        if tree.get(size) != note.checkpoint.root:
            raise AuditError(
                f"checkpoint {size}: the log's root at size {size} does not match the signed"
                " checkpoint (the log or the store was changed after it was signed)"
            )

    def claim_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the replayed claim tables, sorted by table."""
        return self.claims.rows()

    def close(self) -> None:
        """Release the replay's claim index."""
        self.claims.close()
