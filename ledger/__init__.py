"""ledger: an event-sourced, signed offset and retirement ledger for large events.

Import what you need from here; modules whose names start with ``_`` are internal.

Rules: names are loaded on first use (PEP 562), so a verifier that needs only
:func:`verify_proof` and the trust root never loads the storage libraries (SQLAlchemy,
eventsourcing's persistence, shapely) that :class:`Ledger` needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.errors import (
    AuditError,
    AuthorizationError,
    ChainError,
    ConcurrencyError,
    DatedError,
    ImportRowsError,
    InvalidInputError,
    LedgerError,
    LogForkError,
    LogProofError,
    NoteError,
    NotFoundError,
    ProofError,
    RuleViolationError,
    SignatureError,
    StorageError,
    TamperError,
    TrustRootError,
    UnknownSignerError,
)

if TYPE_CHECKING:
    from ledger._ledger import Ledger, database_url, holds_ledger
    from ledger.accounting import Factor, FactorTable
    from ledger.audit.certificate import Certificate
    from ledger.audit.keys import KeyDirectory, PublicKey, Signer
    from ledger.audit.proof import verify_proof
    from ledger.audit.trust import TrustRoot
    from ledger.audit.witness import Witness
    from ledger.domain.credit_batch import CreditBatch
    from ledger.domain.event_neutralization import EventNeutralization
    from ledger.domain.event_values import Line, Organiser
    from ledger.domain.parcels import Parcel
    from ledger.domain.sink_project import ForestSinkProject, SinkProject
    from ledger.domain.values import Instrument, SerialRange

_LAZY = {
    "Certificate": "ledger.audit.certificate",
    "CreditBatch": "ledger.domain.credit_batch",
    "EventNeutralization": "ledger.domain.event_neutralization",
    "Factor": "ledger.accounting",
    "ForestSinkProject": "ledger.domain.sink_project",
    "FactorTable": "ledger.accounting",
    "Instrument": "ledger.domain.values",
    "KeyDirectory": "ledger.audit.keys",
    "Ledger": "ledger._ledger",
    "Line": "ledger.domain.event_values",
    "Organiser": "ledger.domain.event_values",
    "Parcel": "ledger.domain.parcels",
    "PublicKey": "ledger.audit.keys",
    "SerialRange": "ledger.domain.values",
    "Signer": "ledger.audit.keys",
    "SinkProject": "ledger.domain.sink_project",
    "TrustRoot": "ledger.audit.trust",
    "Witness": "ledger.audit.witness",
    "database_url": "ledger._ledger",
    "holds_ledger": "ledger._ledger",
    "verify_proof": "ledger.audit.proof",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AuditError",
    "AuthorizationError",
    "Certificate",
    "ChainError",
    "ConcurrencyError",
    "CreditBatch",
    "DatedError",
    "EventNeutralization",
    "Factor",
    "FactorTable",
    "ForestSinkProject",
    "ImportRowsError",
    "Instrument",
    "InvalidInputError",
    "KeyDirectory",
    "Ledger",
    "LedgerError",
    "Line",
    "LogForkError",
    "LogProofError",
    "NotFoundError",
    "NoteError",
    "Organiser",
    "Parcel",
    "ProofError",
    "PublicKey",
    "RuleViolationError",
    "SerialRange",
    "SignatureError",
    "Signer",
    "SinkProject",
    "StorageError",
    "TamperError",
    "TrustRoot",
    "TrustRootError",
    "UnknownSignerError",
    "Witness",
    "database_url",
    "holds_ledger",
    "verify_proof",
]
__version__ = "0.1.0"
