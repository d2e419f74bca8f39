"""Retirement certificates, folded from a batch's verified, signed history (R7, R8, R11).

Rules:
- A certificate is derived, never typed in: every field comes from the signed events, so an
  offline verifier re-derives it from a proof and compares field by field.
- Each retirement event yields one certificate, identified ``<batch id>:<version>``, tracing its
  units to the issuance entry, every account they passed through (``holders``), every donor
  (``donors``, R7) and its own entry (RFC 9162 leaf hashes).
- Quantities are exact: ``quantity`` counts serial units, ``tonnes`` is the decimal text of
  quantity x unit; the R8 ``priorityRank`` is derived from instrument and province.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from ledger.audit.envelope import Entry
from ledger.domain.topics import Batch
from ledger.domain.values import Instrument, SerialRange, priority_rank
from ledger.errors import InvalidInputError

__all__ = ["Certificate", "Trail", "certificate_of", "certificates", "followed"]


@attrs.frozen
class Certificate:
    """A traceable record that units were retired for a stated use."""

    id: str
    batch: str
    registry: str
    instrument: str
    vintage: int
    project: str
    province: str
    methodology: str
    priority_rank: int
    serial_start: int
    serial_end: int
    quantity: int
    unit: str
    tonnes: str
    event_name: str | None
    beneficiary: str
    reason: str
    holders: list[str]
    donors: list[str]
    retired_by: str
    retired_at: str
    issued_at: str
    issuance_entry: str
    retirement_entry: str
    retirement_version: int
    source_project: str | None

    @property
    def batch_id(self) -> UUID:
        """The batch's id as a UUID."""
        return UUID(self.batch)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (camelCase keys), as in certificate and proof files."""
        return {_camel(name): value for name, value in attrs.asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        """Parse the JSON form; exactly the certificate's fields."""
        names = {_camel(field.name): field.name for field in attrs.fields(cls)}
        if not isinstance(data, Mapping) or set(data) != set(names):
            raise InvalidInputError(f"a certificate has exactly the fields {sorted(names)}")
        return cls(**{names[key]: value for key, value in data.items()})


@attrs.define
class Trail:
    """What a certificate needs of a batch's past: its issuance and every move of units."""

    issued: dict[str, Any]
    issued_hash: str
    moves: list[tuple[str, dict[str, Any]]] = attrs.Factory(list)

    def accounts(self, serials: SerialRange) -> tuple[list[str], list[str]]:
        """The holders and donors of units of ``serials``, first appearance first."""
        holders = [self.issued["holder"]]
        donors: list[str] = []
        for topic, move in self.moves:
            if SerialRange(move["serial_start"], move["serial_end"]).overlaps(serials):
                _add(holders, move["to"])
                if topic == Batch.DONATED:
                    _add(donors, move["actor"])
        return holders, donors


def followed(trail: Trail | None, entries: Iterable[Entry]) -> Trail | None:
    """A new trail: ``trail`` (None before the issuance) followed through later ``entries``.

    ``trail`` itself is not changed, so a kept trail can be extended by several readers.
    """
    if trail is not None:
        trail = Trail(trail.issued, trail.issued_hash, list(trail.moves))
    for entry in entries:
        if entry.topic == Batch.ISSUED:
            trail = Trail(entry.event, entry.hash)
        elif trail is not None and entry.topic in (Batch.TRANSFERRED, Batch.DONATED):
            trail.moves.append((entry.topic, entry.event))
    return trail


def certificates(history: Iterable[Entry], *, version: int | None = None) -> list[Certificate]:
    """Every certificate in one batch's history, in order (only ``version``'s, if given)."""
    trail: Trail | None = None
    found: list[Certificate] = []
    for entry in history:
        if entry.topic == Batch.ISSUED:
            trail = Trail(entry.event, entry.hash)
        elif trail is not None and entry.topic in (Batch.TRANSFERRED, Batch.DONATED):
            trail.moves.append((entry.topic, entry.event))
        elif (
            trail is not None
            and entry.topic == Batch.RETIRED
            and (version is None or entry.version == version)
        ):
            found.append(certificate_of(trail, entry))
    return found


def certificate_of(trail: Trail, retirement: Entry) -> Certificate:
    """The certificate of one retirement entry, given its batch's trail."""
    issued, retired = trail.issued, retirement.event
    span = _span(retirement)
    unit = Decimal(issued["unit"]["_data_"])
    holders, donors = trail.accounts(span)
    return Certificate(
        id=f"{retirement.aggregate}:{retirement.version}",
        batch=retirement.aggregate,
        registry=issued["registry"],
        instrument=issued["instrument"],
        vintage=issued["vintage"],
        project=issued["project"],
        province=issued["province"],
        methodology=issued["methodology"],
        priority_rank=priority_rank(Instrument(issued["instrument"]), issued["province"]),
        serial_start=span.start,
        serial_end=span.end,
        quantity=span.quantity,
        unit=str(unit),
        tonnes=str(unit * span.quantity),
        event_name=retired["event_name"],
        beneficiary=retired["beneficiary"],
        reason=retired["reason"],
        holders=holders,
        donors=donors,
        retired_by=retired["actor"],
        retired_at=retired["timestamp"]["_data_"],
        issued_at=issued["timestamp"]["_data_"],
        issuance_entry=trail.issued_hash,
        retirement_entry=retirement.hash,
        retirement_version=retirement.version,
        source_project=issued["source_project"],
    )


def _span(entry: Entry) -> SerialRange:
    return SerialRange(entry.event["serial_start"], entry.event["serial_end"])


def _add(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
