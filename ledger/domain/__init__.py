"""The pure domain: aggregates and value objects, no storage, no crypto, no I/O.

Rules: this package imports only the standard library, ``attrs``, ``eventsourcing.domain`` and
``ledger.errors``; signing, storage and proofs sit around it. Names load on first use (PEP
562), so the verifier can read :mod:`ledger.domain.topics` and :mod:`ledger.domain.values`
without loading the aggregates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.domain._units import Lot, UnitMap, UnitState
    from ledger.domain.credit_batch import CreditBatch, replay_checked
    from ledger.domain.values import MAX_SERIAL, Instrument, SerialRange

_LAZY = {
    "MAX_SERIAL": "ledger.domain.values",
    "CreditBatch": "ledger.domain.credit_batch",
    "Instrument": "ledger.domain.values",
    "Lot": "ledger.domain._units",
    "SerialRange": "ledger.domain.values",
    "UnitMap": "ledger.domain._units",
    "UnitState": "ledger.domain._units",
    "replay_checked": "ledger.domain.credit_batch",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger.domain' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
