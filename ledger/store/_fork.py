"""The write guard: a ledger writes only onto a log that extends its latest checkpoint (SPEC 5a).

Rules: the latest stored checkpoint must verify under a ``log`` key of the keys in force (for
its origin), and the Merkle root of the log's first ``size`` leaves must equal its root. If
not, entries were deleted, replaced or reordered behind the ledger's back; writing on would
bury that, so the ledger refuses (:class:`~ledger.errors.LogForkError`).
"""

from __future__ import annotations

from ledger.audit.keys import KeyDirectory
from ledger.audit.merkle import root
from ledger.audit.note import SignedNote
from ledger.errors import LedgerError, LogForkError

__all__ = ["check_extends"]


def check_extends(text: str, size: int, hashes: list[bytes], keys: KeyDirectory) -> None:
    """Raise LogForkError unless ``hashes`` (the log's first leaves) extend the checkpoint."""
    where = f"the latest signed checkpoint (size {size})"
    try:
        note = SignedNote.parse(text)
    except LedgerError as e:
        raise LogForkError(f"{where} does not parse: {e}") from e
    origin = note.checkpoint.origin
    logs = [key for key in keys if key.role == "log" and key.actor == origin]
    if not any(_verifies(note, key.actor, key.public_key) for key in logs):
        raise LogForkError(f"{where} is not signed by a log key of {origin!r}")
    if note.checkpoint.size != size or len(hashes) != size or root(hashes) != note.checkpoint.root:
        raise LogForkError(
            f"the log no longer extends {where}: entries were deleted, replaced or reordered;"
            " nothing more is written (run ledger audit)"
        )


def _verifies(note: SignedNote, name: str, public_key: bytes) -> bool:
    try:
        note.verify_log(name, public_key)
    except LedgerError:
        return False
    return True
