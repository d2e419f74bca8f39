"""Which trust root governs each position of the log: roots in the log, revocation by position.

Rules (SPEC 5a):
- Every trust-root version is itself a leaf of the Merkle log: its leaf data is the RFC 8785
  bytes of the whole root document, signatures included (:func:`root_leaf`). The log begins
  with version 1, which carries its own operator threshold; version k+1 comes after version k
  and is a valid rotation of it (:meth:`TrustRoot.verify_successor`). So no root can be
  inserted, dropped or reordered without changing the log, and so its signed checkpoints.
- An entry at log position p is governed by the latest root at a position below p; an entry
  before any root is refused.
- A key is *revoked* by the first root version that sets or brings forward its ``validUntil``
  (a key first listed with a ``validUntil`` only expires then). Every entry after that root's
  position signed by the key is refused, whatever timestamp it carries, for every role: event
  signers, the log key for checkpoints, witness keys for cosignatures. Besides, a key signs
  only inside its window (as the root in force lists it), by the entry's signed timestamp.
- Event timestamps never go backwards in log order by more than :data:`CLOCK_TOLERANCE`
  (5 minutes): concurrent writers take their time before they commit, so a slightly earlier
  time may follow a later one, never by more. No entry is dated after the earliest valid
  cosignature of a checkpoint that covers it (plus the tolerance): that names a future-dated
  entry, rather than the honest one after it that merely looks early. A root's ``issuedAt``
  is when its operators signed it, not when the log took it, so it is not part of that order;
  a root takes effect at its position.
- The trusted root (passed in by the auditor or verifier, never read from the store) must be in
  the log unchanged (the same canonical document) at its version. A verifier may trust a
  *later* version than a proof carries: then every key of the proof's last root must be in the
  trusted root with the same actor, role, public key and ``validFrom`` (a ``validUntil`` may be
  added or brought forward, never dropped or moved later), and every signature must also fall
  inside the trusted root's window for its key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import attrs

from ledger.audit._canonical import canonical_json
from ledger.audit.envelope import Entry, signed_at
from ledger.audit.keys import KeyDirectory, PublicKey
from ledger.audit.note import SignedNote
from ledger.audit.trust import TrustRoot
from ledger.errors import DatedError, LedgerError, SignatureError, TrustRootError

__all__ = [
    "CLOCK_TOLERANCE",
    "ROOT_LEAF",
    "Timeline",
    "current",
    "current_log_keys",
    "revokes",
    "root_leaf",
]

CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
Mark = tuple[datetime.datetime, str]

ROOT_LEAF = "trust-root"
"""The ``aggregate`` column of a root's row in the log table (its ``version`` is the root's)."""


def root_leaf(root: TrustRoot) -> bytes:
    """The leaf data of a trust-root version in the log: its whole canonical document."""
    return canonical_json(root.to_json())


def revokes(before: TrustRoot | None, root: TrustRoot, key: PublicKey) -> bool:
    """True when ``root`` sets or brings forward ``key``'s ``validUntil`` (a revocation).

    A key first listed with a ``validUntil`` merely expires then (checked by timestamp).
    """
    if key.valid_until is None or before is None:
        return False
    earlier = next((k for k in before.keys if k.keyid == key.keyid), None)
    if earlier is None:
        return False
    return earlier.valid_until is None or key.valid_until < earlier.valid_until


def current(key: PublicKey, at: datetime.datetime) -> bool:
    """True when ``key``'s window is open at ``at`` (the operator's own tools choose by it)."""
    return (key.valid_from is None or key.valid_from <= at) and (
        key.valid_until is None or at < key.valid_until
    )


def current_log_keys(root: TrustRoot, at: datetime.datetime) -> list[PublicKey]:
    """The log keys of ``root``'s origin open at ``at``, the last listed first."""
    keys = [k for k in root.with_role("log") if k.actor == root.origin and current(k, at)]
    return keys[::-1]


@attrs.define
class Timeline:
    """Walks a log in order and says which keys may sign at each position.

    Args:
        trusted: the root the caller already trusts.
        newer_trusted: allow the trusted root to be a later version than the log's last root
            (a proof made before a rotation); an audit of a whole store never allows it.
    """

    trusted: TrustRoot
    newer_trusted: bool = False
    roots: list[tuple[int, TrustRoot]] = attrs.Factory(list)
    revoked: dict[str, tuple[int, int]] = attrs.Factory(dict)
    latest: datetime.datetime | None = None
    latest_where: str = ""
    violation: tuple[str, str] | None = None
    keys: KeyDirectory = attrs.Factory(KeyDirectory)
    last_version: int | None = None
    """The last root version the log (or proof) holds, when known before the walk."""

    @property
    def current(self) -> TrustRoot:
        """The root that governs the next position."""
        if not self.roots:
            raise TrustRootError("an entry comes before any trust root in the log")
        return self.roots[-1][1]

    def admit(self, root: TrustRoot, position: int) -> None:
        """Take ``root`` found at log ``position``; raise TrustRootError if it may not be there."""
        if not self.roots:
            if root.version != 1:
                raise TrustRootError(
                    f"the log begins with trust root version {root.version}, not version 1"
                )
            root.verify_alone()
        else:
            self.current.verify_successor(root)
        if root.version == self.trusted.version and root_leaf(root) != root_leaf(self.trusted):
            raise TrustRootError(
                f"trust root version {root.version} in the log is not the trusted root"
            )
        before = self.roots[-1][1] if self.roots else None
        for key in root.keys:
            if key.keyid not in self.revoked and revokes(before, root, key):
                self.revoked[key.keyid] = (root.version, position)
        self.roots.append((position, root))
        self.keys = root.directory()

    def check_time(self, moment: datetime.datetime, where: str) -> None:
        """Note (not raise) the first time more than the tolerance before the latest one.

        Which of the two is misdated is decided later, by the checkpoints' cosignature times
        (:meth:`check_dated`); :attr:`violation` holds (where, message) until then.
        """
        if (
            self.latest is not None
            and moment < self.latest - CLOCK_TOLERANCE
            and self.violation is None
        ):
            self.violation = (
                where,
                f"dated {moment.isoformat()}, before {self.latest.isoformat()} of"
                f" {self.latest_where}, earlier in the log (more than {CLOCK_TOLERANCE} back):"
                " timestamps go forward",
            )
        if self.latest is None or moment > self.latest:
            self.latest, self.latest_where = moment, where

    def check_dated(
        self, size: int, cosigned: Mapping[str, int], mark: Mark | None, needed: int = 0
    ) -> None:
        """Refuse an entry dated after the checkpoint covering it was cosigned (+ tolerance).

        ``mark`` is the latest time among the checkpoint's leaves and where it is
        (:meth:`mark`). The bound is the time the checkpoint reached its quorum: the
        ``needed``-th earliest witness's cosignature (the latest one when none is needed), so
        one witness alone cannot make honest entries look misdated when more are required.
        """
        if not cosigned or mark is None:
            return
        moment, where = mark
        times = sorted(cosigned.values())
        quorum = times[needed - 1] if 0 < needed <= len(times) else times[-1]
        signed = datetime.datetime.fromtimestamp(quorum, datetime.UTC)
        if moment > signed + CLOCK_TOLERANCE:
            raise DatedError(
                where,
                f"dated {moment.isoformat()}, after checkpoint {size} that covers it was"
                f" cosigned ({signed.isoformat()}): a misdated entry",
            )

    def mark(self) -> Mark | None:
        """The latest time so far and where it is."""
        return None if self.latest is None else (self.latest, self.latest_where)

    def check_key(self, key: PublicKey, moment: datetime.datetime | None = None) -> None:
        """Refuse ``key`` if a root before here revoked it, or the trusted root's window."""
        revoked = self.revoked.get(key.keyid)
        if revoked is not None:
            version, position = revoked
            raise SignatureError(
                f"key of {key.actor!r} ({key.role}) was revoked by trust root version {version}"
                f" at log leaf {position}; nothing after it may carry its signature"
            )
        if moment is not None and self._trusted_is_newer():
            self.trusted.directory().get(key.keyid).check_window(moment)

    def check_entry(self, entry: Entry, where: str) -> None:
        """Refuse a verified ``entry`` signed with a revoked key; note its time (``where``)."""
        moment = signed_at(entry.event)
        self.check_key(entry.signer, moment)
        self.check_time(moment, where)

    def finish(self) -> TrustRoot:
        """Check the log reached the trusted root; return the root in force at its end."""
        last = self.current
        if last.version < self.trusted.version:
            if not self.newer_trusted:
                raise TrustRootError(
                    f"the log's latest trust root is version {last.version}, but you trust"
                    f" version {self.trusted.version}: this is an older or cut-short copy"
                )
            _check_kept(last, self.trusted)
        return last

    def governing(self, size: int) -> TrustRoot:
        """The root in force for a checkpoint of the first ``size`` leaves."""
        found = [root for position, root in self.roots if position < size]
        if not found:
            raise TrustRootError(f"a checkpoint of size {size} covers no trust root")
        return found[-1]

    def check_checkpoint(self, note: SignedNote) -> dict[str, int]:
        """Verify a checkpoint's log signature and cosignatures; each witness's cosigning time.

        Witnesses are counted by actor (two keys of one witness are one witness).

        The checkpoint must name the version of the root in force at its size (its
        ``trust-root`` line). The log key and the witness keys are that root's, not revoked;
        a cosignature by a known witness key that does not verify is an error, one by an
        unknown name is ignored (C2SP signed-note).
        """
        root = self.governing(note.checkpoint.size)
        if note.checkpoint.origin != root.origin:
            raise SignatureError(f"origin {note.checkpoint.origin!r} is not {root.origin!r}")
        if note.checkpoint.trust_root != root.version:
            raise SignatureError(
                f"it names trust root version {note.checkpoint.trust_root}, but the latest root"
                f" among its {note.checkpoint.size} leaves is version {root.version}"
            )
        errors: list[str] = []
        for key in (k for k in root.with_role("log") if k.actor == root.origin):
            try:
                self._check_before(key, note.checkpoint.size)
                note.verify_log(key.actor, key.public_key)
                break
            except LedgerError as e:
                errors.append(str(e))
        else:
            raise SignatureError(
                "no log key of trust root version"
                f" {root.version} signed it" + (f" ({errors[0]})" if errors else "")
            )
        return self._witnessed(note, root)

    def _trusted_is_newer(self) -> bool:
        """True when the trusted root is later than every root the log (or proof) holds.

        Only then do the trusted root's windows apply on top; while a walk has not yet reached
        a trusted root that the log does hold, the root in force decides alone.
        """
        return self.last_version is not None and self.trusted.version > self.last_version

    def _witnessed(self, note: SignedNote, root: TrustRoot) -> dict[str, int]:
        witnessed: dict[str, int] = {}
        names = {signature.name for signature in note.signatures}
        for key in root.with_role("witness"):
            if key.actor not in names:
                continue
            moment = note.cosigned_at(key.actor, key.public_key)  # raises if its line is bad
            if moment is None:
                continue  # no line under this key (another key of the same witness, say)
            self._check_before(key, note.checkpoint.size)
            when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
            latest = self.trusted if self._trusted_is_newer() else self.current
            _window(latest, key).check_window(when)
            witnessed[key.actor] = min(moment, witnessed.get(key.actor, moment))
        return witnessed

    def _check_before(self, key: PublicKey, size: int) -> None:
        revoked = self.revoked.get(key.keyid)
        if revoked is not None and revoked[1] < size:
            self.check_key(key)


def _window(root: TrustRoot, key: PublicKey) -> PublicKey:
    return next((k for k in root.keys if k.keyid == key.keyid), key)


def _check_kept(last: TrustRoot, trusted: TrustRoot) -> None:
    later: Mapping[str, PublicKey] = {k.keyid: k for k in trusted.keys}
    if trusted.origin != last.origin:
        raise TrustRootError(f"the trusted root names log {trusted.origin!r}, not {last.origin!r}")
    for key in last.keys:
        kept = later.get(key.keyid)
        if kept is None or (kept.actor, kept.role, kept.valid_from) != (
            key.actor,
            key.role,
            key.valid_from,
        ):
            raise TrustRootError(
                f"the trusted root version {trusted.version} does not keep the key of"
                f" {key.actor!r} ({key.role}) that version {last.version} lists"
            )
        if key.valid_until is not None and (
            kept.valid_until is None or kept.valid_until > key.valid_until
        ):
            raise TrustRootError(
                f"the trusted root version {trusted.version} reopens the window of the key of"
                f" {key.actor!r} that version {last.version} closed"
            )
