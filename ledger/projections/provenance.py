"""The life of one serial unit, folded from its batch's verified history (R11).

Rules: a unit's provenance lists, in order, every event whose serial range covers it:
issuance, each transfer or donation (with the receiving account), reservations and releases,
and its retirement or export; each step carries the signer and the entry hash that proves it.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ledger.audit.envelope import Entry
from ledger.domain import credit_batch as cb

__all__ = ["Step", "kind_of", "provenance"]


@attrs.frozen
class Step:
    """One event in the life of a serial unit."""

    version: int
    kind: str
    actor: str
    account: str
    purpose: str | None
    at: str
    entry: str


def kind_of(topic: str) -> str:
    """The short kind of a credit-batch event topic (``retired``)."""
    return topic.removeprefix("ledger.credit-batch.").rsplit(".", 1)[0]


def covers(entry: Entry, serial: int) -> bool:
    """True if the event of ``entry`` acts on ``serial``."""
    event = entry.event
    if "serial_start" not in event or entry.topic == cb.SPLIT:
        return False
    return bool(event["serial_start"] <= serial <= event["serial_end"])


def provenance(history: Iterable[Entry], serial: int) -> list[Step]:
    """Every step of ``serial``'s life in one batch's history."""
    return [_step(entry) for entry in history if covers(entry, serial)]


def _step(entry: Entry) -> Step:
    event = entry.event
    account = event.get("to") or event.get("holder") or event["actor"]
    purpose = event.get("event_name") or event.get("target_registry")
    return Step(
        version=entry.version,
        kind=kind_of(entry.topic),
        actor=event["actor"],
        account=account,
        purpose=purpose,
        at=event["timestamp"]["_data_"],
        entry=entry.hash,
    )
