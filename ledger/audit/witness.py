"""A witness: cosigns a log's checkpoints only after checking each extends the last it saw.

Rules (tlog-cosignature v1 semantics): a witness verifies the log's signature on a new
checkpoint, refuses a smaller tree (a rollback) or one that is not consistent with the last
checkpoint it cosigned (RFC 9162 consistency proof), and only then cosigns and remembers it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.audit.keys import PublicKey, Signer
from ledger.audit.merkle import verify_consistency
from ledger.audit.note import Checkpoint, NoteError, NoteSignature, SignedNote, cosign

__all__ = ["Witness"]


class Witness:
    """One witness of one log, with the last checkpoint it cosigned."""

    def __init__(self, signer: Signer, log_key: PublicKey, last: Checkpoint | None = None) -> None:
        self.signer = signer
        self.log_key = log_key
        self.last = last

    def cosign(self, note: SignedNote, proof: Sequence[bytes], moment: int) -> NoteSignature:
        """Cosign ``note`` at POSIX time ``moment``; ``proof`` runs from the last cosigned size."""
        note.verify_log(self.log_key.actor, self.log_key.public_key)
        new = note.checkpoint
        last = self.last
        if last is not None and last.size > 0:
            if new.size < last.size:
                raise NoteError(
                    f"checkpoint size {new.size} is smaller than {last.size}: a rollback"
                )
            verify_consistency(last.size, new.size, last.root, new.root, proof)
        self.last = new
        return cosign(note, self.signer, moment)
