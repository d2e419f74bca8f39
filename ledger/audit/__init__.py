"""The pure verifier and its formats: canonical JSON, keys, envelopes, chain, log, proofs (SPEC 5).

Everything here checks signed bytes and never touches a database: a verifier in another
system imports this package (and :mod:`ledger.errors`) and nothing else.

Rules: this package imports nothing from :mod:`ledger.store`, :mod:`ledger.commands`,
:mod:`ledger.projections` or the command line, and no storage library (tested in
``tests/unit/test_layers.py``). Names load on first use (PEP 562): ``from ledger.audit import
TrustRoot`` loads :mod:`ledger.audit.trust` and what it imports, not every module listed here
(``tests/unit/test_startup.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.errors import LogProofError, NoteError, TrustRootError

if TYPE_CHECKING:
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

#: Public name -> the module that defines it (``strict_json`` is the module itself).
_LAZY = {
    "CLOCK_TOLERANCE": "ledger.audit.timeline",
    "FORMAT": "ledger.audit.proof",
    "TAGGED_TYPES": "ledger.audit._canonical",
    "Certificate": "ledger.audit.certificate",
    "Checkpoint": "ledger.audit.note",
    "Entry": "ledger.audit.envelope",
    "Envelope": "ledger.audit.envelope",
    "KeyDirectory": "ledger.audit.keys",
    "NoteSignature": "ledger.audit.note",
    "PublicKey": "ledger.audit.keys",
    "SignedNote": "ledger.audit.note",
    "Signer": "ledger.audit.keys",
    "Timeline": "ledger.audit.timeline",
    "TrustRoot": "ledger.audit.trust",
    "Witness": "ledger.audit.witness",
    "build_proof": "ledger.audit.proof",
    "canonical_json": "ledger.audit._canonical",
    "certificates": "ledger.audit.certificate",
    "check_link": "ledger.audit.chain",
    "check_tagged": "ledger.audit._canonical",
    "current_log_keys": "ledger.audit.timeline",
    "entry_hash": "ledger.audit.envelope",
    "leaf_hash": "ledger.audit.merkle",
    "pae": "ledger.audit.envelope",
    "payload_type_for": "ledger.audit.envelope",
    "root_leaf": "ledger.audit.timeline",
    "strict_json": "ledger.audit._strict_json",
    "topic_of": "ledger.audit.envelope",
    "verify_consistency": "ledger.audit.merkle",
    "verify_inclusion": "ledger.audit.merkle",
    "verify_proof": "ledger.audit.proof",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger.audit' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if name == "strict_json" else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
