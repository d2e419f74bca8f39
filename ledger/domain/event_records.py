"""The records an event's neutralization keeps: frozen values rebuilt from its signed events.

Rules:
- Each record is a frozen attrs class; the aggregate replaces a record, it never edits one.
- Links are held as ids: an allocation and a retirement name their batch by its UUID, a
  retirement names its certificate as (batch id, batch version), never as text parsed again.
- A commitment and an evaluation remember the basis they were made on (the accounting version
  and the tonnes retired then), so a later accounting or retirement makes them stale (R2, R3).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ledger.domain.event_values import Line
from ledger.domain.values import Instrument, SerialRange, priority_rank
from ledger.errors import InvalidInputError

__all__ = [
    "Accounting",
    "Allocation",
    "CertificateRef",
    "Commitment",
    "Confirmation",
    "Evaluation",
    "Measure",
    "Plan",
    "PlannedOffset",
    "Retirement",
    "batch_id",
    "plain",
]


def batch_id(text: object) -> uuid.UUID:
    """The batch id written as ``text`` (a UUID), or InvalidInputError naming the field."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise InvalidInputError(f"batch must be a batch id (a UUID), got {text!r}") from None


def _plain_value(instance: object, field: object, value: Any) -> Any:
    if isinstance(value, uuid.UUID | CertificateRef):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def plain(record: attrs.AttrsInstance | None) -> Any:
    """``record`` (an attrs record, or None) as plain JSON-ready data (Decimals kept exact)."""
    if record is None:
        return None
    return attrs.asdict(record, value_serializer=_plain_value)


@attrs.frozen
class PlannedOffset:
    """One planned offset method of a plan (R4) and its R8 rank."""

    instrument: Instrument
    province: str

    @property
    def rank(self) -> int:
        """The R8 priority rank of this method."""
        return priority_rank(self.instrument, self.province)

    def to_json(self) -> dict[str, str]:
        """The form kept in events."""
        return {"instrument": self.instrument.value, "province": self.province}


@attrs.frozen
class Plan:
    """One published plan version (R4)."""

    version: int
    boundary: tuple[str, ...]
    estimates: Mapping[str, Decimal]
    measures: tuple[str, ...]
    offsets: tuple[PlannedOffset, ...]


@attrs.frozen
class Measure:
    """One reduction measure with its expected and, once reported, achieved effect (R5)."""

    number: int
    kind: str
    description: str
    expected: Decimal
    achieved: Decimal | None = None


@attrs.frozen
class Accounting:
    """One accounting version (R6): its lines and total in tCO2e."""

    version: int
    lines: tuple[Line, ...]
    total: Decimal


@attrs.frozen
class Allocation:
    """Units of a batch reserved for the event (R7), with their R8 rank and any deviation."""

    batch: uuid.UUID
    serials: SerialRange
    tonnes: Decimal
    rank: int
    deviation: bool
    reason: str | None


@attrs.frozen
class CertificateRef:
    """The certificate of a retirement: its batch and the batch version of the retirement."""

    batch: uuid.UUID
    version: int

    @classmethod
    def parse(cls, text: object) -> CertificateRef:
        """Read ``"<batch id>:<version>"``, or InvalidInputError naming the field."""
        head, _, tail = str(text).rpartition(":")
        if not tail.isascii() or not tail.isdigit() or int(tail) < 2:
            raise InvalidInputError(
                f"certificate must be '<batch id>:<batch version>', got {text!r}"
            )
        return cls(batch_id(head), int(tail))

    def __str__(self) -> str:
        return f"{self.batch}:{self.version}"


@attrs.frozen
class Retirement:
    """An allocation retired for the event (R7, R11) and its certificate."""

    batch: uuid.UUID
    serials: SerialRange
    tonnes: Decimal
    certificate: CertificateRef


@attrs.frozen
class Commitment:
    """The organiser's signed R3 self-commitment and the basis it was made on."""

    statement: Mapping[str, Any]
    accounting_version: int
    retired: Decimal


@attrs.frozen
class Evaluation:
    """A certified verifier's evaluation (R2) and the basis it was made on."""

    conclusion: str
    verified_tonnes: Decimal
    report: str
    verifier: str
    accounting_version: int
    retired: Decimal


@attrs.frozen
class Confirmation:
    """The confirmation that closes the record."""

    on: datetime.date
    by: str
