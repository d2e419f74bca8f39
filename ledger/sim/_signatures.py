"""What a command leaves in the signed history, and what each signed event says it was.

Rules:
- A signature is a short tuple naming one signed event: its kind, its aggregate (when the
  command knows it beforehand), the acting actor and the fields that tell two commands of that
  kind apart (serials, receiver, event, split point; a unique name for issuances and
  registrations). The worker computes the signatures a command would leave from its arguments;
  the auditor computes them from every stored event. The same function serves both.
- Two commands may leave equal signatures; the auditor counts them (a multiset).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.domain.topics import Batch, Event, Sink

__all__ = ["Sig", "batch_move", "signature"]

Sig = tuple[str, ...]

_MOVES = {
    Batch.TRANSFERRED: "to",
    Batch.DONATED: "to",
    Batch.RESERVED: "event_name",
    Batch.RELEASED: "event_name",
    Batch.RETIRED: "event_name",
    Batch.EXPORTED: "target_registry",
}


def batch_move(topic: str, batch: object, actor: str, start: int, end: int, extra: object) -> Sig:
    """The signature of a batch event that moves serials ``start..end``."""
    return (topic, str(batch), actor, str(start), str(end), str(extra))


def signature(topic: str, aggregate: object, fields: Mapping[str, Any]) -> Sig:
    """The signature of a signed event of kind ``topic`` with ``fields``."""
    if topic == Batch.ISSUED:
        return (topic, str(fields["project"]))
    if topic in (Sink.REGISTERED, Event.REGISTERED):
        return (topic, str(fields["name"]))
    if topic == Batch.SPLIT:
        return (topic, str(aggregate), str(fields["actor"]), str(fields["at"]))
    if topic in _MOVES:
        extra = fields[_MOVES[topic]]
        return batch_move(
            topic, aggregate, fields["actor"], fields["serial_start"], fields["serial_end"], extra
        )
    return (topic, str(aggregate), str(fields["actor"]))
