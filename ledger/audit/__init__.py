"""Signing, hash chains and proofs around the pure domain (SPEC section 5)."""

from ledger.audit.envelope import Entry, Envelope, entry_hash
from ledger.audit.keys import KeyDirectory, PublicKey, Signer
from ledger.audit.proof import FORMAT, build_proof, verify_proof

__all__ = [
    "FORMAT",
    "Entry",
    "Envelope",
    "KeyDirectory",
    "PublicKey",
    "Signer",
    "build_proof",
    "entry_hash",
    "verify_proof",
]
