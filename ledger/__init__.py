"""ledger: an event-sourced, signed offset and retirement ledger for large events.

Import what you need from here; modules whose names start with ``_`` are internal.
"""

from ledger._ledger import Ledger, database_url
from ledger.accounting import Factor, FactorTable
from ledger.audit.keys import KeyDirectory, PublicKey, Signer
from ledger.audit.proof import verify_proof
from ledger.audit.trust import TrustRoot
from ledger.audit.witness import Witness
from ledger.domain.event_values import Line, Organiser
from ledger.domain.parcels import Parcel
from ledger.domain.values import Instrument, SerialRange
from ledger.errors import (
    AuthorizationError,
    ChainError,
    ConcurrencyError,
    InvalidInputError,
    LedgerError,
    NotFoundError,
    ProofError,
    RuleViolationError,
    SignatureError,
    StorageError,
    TamperError,
    UnknownSignerError,
)
from ledger.projections.certificates import Certificate

__all__ = [
    "AuthorizationError",
    "Certificate",
    "ChainError",
    "ConcurrencyError",
    "Factor",
    "FactorTable",
    "Instrument",
    "InvalidInputError",
    "KeyDirectory",
    "Ledger",
    "LedgerError",
    "Line",
    "NotFoundError",
    "Organiser",
    "Parcel",
    "ProofError",
    "PublicKey",
    "RuleViolationError",
    "SerialRange",
    "SignatureError",
    "Signer",
    "StorageError",
    "TamperError",
    "TrustRoot",
    "UnknownSignerError",
    "Witness",
    "database_url",
    "verify_proof",
]
__version__ = "0.1.0"
