"""Command groups: each takes the store (with the clock) and, per command, the acting signer.

``ledger.Ledger`` opens a :class:`~ledger.store.Store` and combines these groups; an integrator
may also build them directly on a store of its own.

Rules: a command validates through the pure domain, then saves every event it made in one
transaction, signed by the signer it was given; a refused command writes nothing.
"""

from ledger.commands._context import Clock, Context, utc_now
from ledger.commands.batches import BatchCommands
from ledger.commands.interchange import HISTORY_FORMAT, InterchangeCommands
from ledger.commands.neutralization import NeutralizationCommands
from ledger.commands.sinks import SinkCommands
from ledger.commands.transparency import TransparencyCommands

__all__ = [
    "HISTORY_FORMAT",
    "BatchCommands",
    "Clock",
    "Context",
    "InterchangeCommands",
    "NeutralizationCommands",
    "SinkCommands",
    "TransparencyCommands",
    "utc_now",
]
