"""Signing, hash chains and proofs around the pure domain (SPEC section 5)."""

from ledger.audit.envelope import Entry, Envelope, entry_hash
from ledger.audit.keys import KeyDirectory, PublicKey, Signer
from ledger.audit.merkle import LogProofError
from ledger.audit.note import Checkpoint, NoteError, SignedNote
from ledger.audit.proof import FORMAT, build_proof, verify_proof
from ledger.audit.trust import TrustRoot, TrustRootError
from ledger.audit.witness import Witness

__all__ = [
    "FORMAT",
    "Checkpoint",
    "Entry",
    "Envelope",
    "KeyDirectory",
    "LogProofError",
    "NoteError",
    "PublicKey",
    "SignedNote",
    "Signer",
    "TrustRoot",
    "TrustRootError",
    "Witness",
    "build_proof",
    "entry_hash",
    "verify_proof",
]
