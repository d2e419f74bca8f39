"""Trust roots, checkpoints, cosignatures, audit, read models and retirement proofs (SPEC 5).

Rules:
- The first trust root must carry its own operator threshold; every later one must be a valid
  rotation of the last adopted one. The ledger then accepts exactly the keys of the latest root.
- A checkpoint covers the whole log at the moment it is signed; a cosignature is kept only if
  it verifies under a ``witness`` key of the trust root.
- A proof is made against the latest checkpoint, which must cover every entry it proves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import attrs
import sqlalchemy as sa

from ledger.audit import strict_json
from ledger.audit.certificate import certificates
from ledger.audit.envelope import Entry
from ledger.audit.keys import Signer
from ledger.audit.merkle import root
from ledger.audit.note import Checkpoint, NoteError, NoteSignature, SignedNote, sign_checkpoint
from ledger.audit.proof import build_proof
from ledger.audit.timeline import current, current_log_keys, revokes
from ledger.audit.trust import TrustRoot, TrustRootError
from ledger.commands._context import Context
from ledger.commands.batches import BatchCommands
from ledger.errors import InvalidInputError, NotFoundError
from ledger.projections.check import check_read_models, fresh
from ledger.projections.reports import CertificateView
from ledger.projections.views import DisclosureRegister
from ledger.store import AuditReport, Store

__all__ = ["TransparencyCommands"]


class TransparencyCommands:
    """Trust roots, the log's checkpoints, audit, the public read models and proofs."""

    def __init__(self, context: Context, batches: BatchCommands) -> None:
        self._context = context
        self._store = context.store
        self._batches = batches

    def trust_roots(self) -> list[TrustRoot]:
        """Every adopted trust root, oldest first."""
        with self._store.read() as connection:
            documents = self._store.log.root_documents(connection)
        return [_root(document) for document in documents]

    def adopt_root(self, root: TrustRoot) -> None:
        """Adopt the first trust root, or a rotation of the last one, and accept its keys.

        Raises:
            TrustRootError: the root lacks its threshold, or is not a valid rotation.
        """
        adopted = self.trust_roots()
        if adopted:
            adopted[-1].verify_successor(root)
        else:
            root.verify_alone()
        self._store.check_log()

        def add(connection: sa.Connection) -> None:
            if self._store.log.root_rows(connection).keys() != {r.version for r in adopted}:
                raise TrustRootError("another root was adopted meanwhile; read the roots again")
            self._store.log.add_root(connection, root)

        self._store.transact(add)
        self._store.keys.replace(root.keys)

    def sign_checkpoint(self, log: Signer) -> SignedNote:
        """Sign a checkpoint of the whole log with the trust root's ``log`` key."""
        roots = self.trust_roots()
        latest = _latest(roots)
        revoked = _revoked(roots)
        if log.public.keyid in revoked or log.public.keyid not in {
            k.keyid for k in current_log_keys(latest, self._context.clock())
        }:
            raise InvalidInputError(
                f"the signer is not a current (unrevoked) log key of {latest.origin!r} in trust"
                f" root version {latest.version}"
            )
        origin = latest.origin
        self._store.check_log()

        def sign(connection: sa.Connection) -> SignedNote:
            hashes = self._store.log.hashes(connection)
            checkpoint = Checkpoint(origin, len(hashes), root(hashes), latest.version)
            note = sign_checkpoint(checkpoint, log)
            self._store.log.save_checkpoint(connection, len(hashes), note.text())
            return note

        return self._store.transact(sign)

    def latest_checkpoint(self) -> SignedNote | None:
        """The latest signed checkpoint, with the cosignatures it gathered."""
        with self._store.read() as connection:
            latest = self._store.log.latest_checkpoint(connection)
        return None if latest is None else SignedNote.parse(latest[1])

    def consistency(self, first: int, second: int) -> list[bytes]:
        """An RFC 9162 consistency proof from tree size ``first`` to ``second``."""
        with self._store.read() as connection:
            size = self._store.log.size(connection)
            if size < second:
                raise NotFoundError(f"the log has {size} leaves, not {second}")
            return self._store.log.consistency_path(connection, first, second)

    def add_cosignature(self, signature: NoteSignature) -> SignedNote:
        """Keep a witness's cosignature on the latest checkpoint, if it verifies."""
        note = self.latest_checkpoint()
        if note is None:
            raise NotFoundError("there is no checkpoint to cosign")
        roots = self.trust_roots()
        latest = _latest(roots)
        revoked = _revoked(roots)
        witness = [
            k
            for k in latest.with_role("witness")
            if k.actor == signature.name
            and current(k, self._context.clock())
            and k.keyid not in revoked
        ]
        if not witness:
            raise NoteError(
                f"{signature.name!r} is not a current (unrevoked) witness of trust root version"
                f" {latest.version}"
            )
        alone = attrs.evolve(note, signatures=(signature,))  # this cosignature, not an earlier one
        if all(alone.cosigned_at(signature.name, k.public_key) is None for k in witness):
            raise NoteError(f"the cosignature of {signature.name} does not match its key")
        size, line = note.checkpoint.size, signature.line()
        text = self._store.transact(lambda c: self._store.log.add_signature(c, size, line))
        if text is None:
            raise NotFoundError(f"the checkpoint of size {note.checkpoint.size} is gone")
        return SignedNote.parse(text)

    def audit(
        self,
        trusted: TrustRoot,
        checkpoint: SignedNote | Checkpoint | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditReport:
        """Re-verify the whole store against the trust you bring, and every rule.

        Args:
            trusted: the trust root you already trust (never read from the store).
            checkpoint: the latest checkpoint you hold: a signed note (verified as the root
                in force at its size asks), or your own record of one (a witness's state);
                the store's log must be proven to extend it.
            progress: called with (leaves done, leaves in all).

        Raises:
            AuditError: naming the first log leaf, checkpoint or claim row that fails.
        """
        report = self._store.audit(trusted, checkpoint, progress)
        self._store.keys.replace(_latest(self.trust_roots()).keys)  # the roots just audited
        return attrs.evolve(report, read_models=check_read_models(self._store))

    def disclosures(self) -> list[dict[str, Any]]:
        """The public disclosure register (R12), folded from the verified history."""
        register = DisclosureRegister()
        runner = fresh(self._store, register)
        with runner.engine.connect() as connection:
            return register.listing(connection)

    def certificate_list(self) -> list[dict[str, Any]]:
        """Every retirement certificate, in the order retired, folded from the verified history."""
        view = CertificateView()
        runner = fresh(self._store, view)
        with runner.engine.connect() as connection:
            rows = connection.execute(sa.select(view.certificates.c.body))
            bodies = [json.loads(row[0]) for row in rows]
        return sorted(bodies, key=lambda body: (body["retiredAt"], body["id"]))

    def proof(self, batch_id: UUID, version: int) -> dict[str, Any]:
        """The offline-verifiable proof of the retirement saved as version ``version``.

        Its cost does not grow with the log: the batch's history (and the event's) is read
        and verified once, and the log is read by index only (each entry's leaf by aggregate
        and version, the trust-root leaves, the latest checkpoint, and the O(log n) stored
        nodes of every inclusion path, in a few queries).
        """
        history = self._batches.history(batch_id, upto=version)
        found = certificates(history, version=version)
        if not found:
            raise NotFoundError(f"version {version} of batch {batch_id} is not a retirement")
        certificate = found[0]
        event = _event_history(self._store, certificate.event_name)
        log = self._store.log
        with self._store.read() as connection:
            latest = log.latest_checkpoint(connection)
            if latest is None:
                raise NotFoundError("no checkpoint covers this retirement yet; sign one first")
            note = SignedNote.parse(latest[1])
            size = note.checkpoint.size
            documents = log.root_documents(connection)
            root_at = log.root_indices(connection)
            placed = _indexed(self._store, connection, history, size)
            if len(placed) < len(history):
                raise NotFoundError("no checkpoint covers this retirement yet; sign one first")
            placed_event = _indexed(self._store, connection, event, size)
            roots = [
                (root, root_at[root.version])
                for root in map(_root, documents)
                if root_at.get(root.version, size) < size
            ]
            indices = [i for _, i in placed] + [i for _, i in placed_event]
            paths = log.inclusion_paths(connection, indices + [i for _, i in roots], size)
        return build_proof(
            certificate,
            [(entry, index, paths[index]) for entry, index in placed],
            note,
            [(root, index, paths[index]) for root, index in roots],
            [(entry, index, paths[index]) for entry, index in placed_event],
        )


def _root(document: str) -> TrustRoot:
    return TrustRoot.from_json(strict_json.loads(document, source="a stored trust root"))


def _event_history(store: Store, label: str | None) -> list[Entry]:
    match = re.search(r"\[event ([0-9a-f-]{36})\]$", label or "")
    if match is None:
        return []
    return store.entries(UUID(match.group(1)))


def _indexed(
    store: Store, connection: sa.Connection, entries: Sequence[Entry], size: int
) -> list[tuple[Entry, int]]:
    """The entries with their leaf index, up to the first one the checkpoint does not cover."""
    if not entries:
        return []
    at = store.log.indices_of(connection, entries[0].aggregate, [e.version for e in entries])
    placed = []
    for entry in entries:
        index = at.get(entry.version)
        if index is None or index >= size:
            break
        placed.append((entry, index))
    return placed


def _revoked(roots: Sequence[TrustRoot]) -> set[str]:
    """Key ids that a later root revoked (by position in the log, whatever the clock says)."""
    found: set[str] = set()
    for before, version in zip([None, *roots], roots, strict=False):
        found |= {k.keyid for k in version.keys if revokes(before, version, k)}
    return found


def _latest(roots: Sequence[TrustRoot]) -> TrustRoot:
    if not roots:
        raise TrustRootError("no trust root is adopted yet; adopt one first")
    return roots[-1]
