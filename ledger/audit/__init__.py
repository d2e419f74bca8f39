"""The pure verifier and its formats: canonical JSON, keys, envelopes, chain, log, proofs (SPEC 5).

Everything here checks signed bytes and never touches a database: a verifier in another
system imports this package (and :mod:`ledger.errors`) and nothing else.

Rules: this package imports nothing from :mod:`ledger.store`, :mod:`ledger.commands`,
:mod:`ledger.projections` or the command line, and no storage library (tested in
``tests/unit/test_layers.py``).
"""

from ledger.audit import _strict_json as strict_json
from ledger.audit._canonical import TAGGED_TYPES, canonical_json, check_tagged
from ledger.audit.certificate import Certificate, certificates
from ledger.audit.chain import check_link
from ledger.audit.envelope import (
    Entry,
    Envelope,
    entry_hash,
    pae,
    payload_type_for,
    topic_of,
)
from ledger.audit.keys import KeyDirectory, PublicKey, Signer
from ledger.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.audit.note import Checkpoint, NoteSignature, SignedNote
from ledger.audit.proof import FORMAT, build_proof, verify_proof
from ledger.audit.timeline import CLOCK_TOLERANCE, Timeline, current_log_keys, root_leaf
from ledger.audit.trust import TrustRoot
from ledger.audit.witness import Witness
from ledger.errors import LogProofError, NoteError, TrustRootError

__all__ = [
    "CLOCK_TOLERANCE",
    "FORMAT",
    "TAGGED_TYPES",
    "Certificate",
    "Checkpoint",
    "Entry",
    "Envelope",
    "KeyDirectory",
    "LogProofError",
    "NoteError",
    "NoteSignature",
    "PublicKey",
    "SignedNote",
    "Signer",
    "Timeline",
    "TrustRoot",
    "TrustRootError",
    "Witness",
    "build_proof",
    "canonical_json",
    "certificates",
    "check_link",
    "check_tagged",
    "current_log_keys",
    "entry_hash",
    "leaf_hash",
    "pae",
    "payload_type_for",
    "root_leaf",
    "strict_json",
    "topic_of",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
]
