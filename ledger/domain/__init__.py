"""The pure domain: aggregates and value objects, no storage, no crypto, no I/O.

Rules: this package imports only the standard library, ``attrs``, ``eventsourcing.domain`` and
``ledger.errors``; signing, storage and proofs sit around it.
"""

from ledger.domain._units import Lot, UnitMap, UnitState
from ledger.domain.credit_batch import CreditBatch, replay_checked
from ledger.domain.values import MAX_SERIAL, Instrument, SerialRange

__all__ = [
    "MAX_SERIAL",
    "CreditBatch",
    "Instrument",
    "Lot",
    "SerialRange",
    "UnitMap",
    "UnitState",
    "replay_checked",
]
