"""Retirement certificates, folded from a batch's verified, signed history (R11).

Rules:
- A certificate is derived, never typed in: every field comes from the signed issuance and
  retirement events, so an offline verifier re-derives it from a proof and compares.
- Each retirement event yields one certificate, identified ``<batch id>:<version>``, tracing its
  units to the issuance entry and its own entry (RFC 9162 leaf hashes).
- Quantities are exact integers of units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ledger.audit.envelope import Entry
from ledger.domain.credit_batch import ISSUED, RETIRED
from ledger.errors import InvalidInputError

__all__ = ["Certificate", "certificates"]


@attrs.frozen
class Certificate:
    """A traceable record that units were retired for a stated use."""

    id: str
    batch: str
    registry: str
    instrument: str
    vintage: int
    project: str
    serial_start: int
    serial_end: int
    quantity: int
    event_name: str
    beneficiary: str
    reason: str
    retired_by: str
    retired_at: str
    issued_at: str
    issuance_entry: str
    retirement_entry: str
    retirement_version: int

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


def certificates(history: Iterable[Entry]) -> list[Certificate]:
    """Every certificate in one batch's history, in order."""
    issuance: Entry | None = None
    found: list[Certificate] = []
    for entry in history:
        if entry.topic == ISSUED:
            issuance = entry
        elif entry.topic == RETIRED and issuance is not None:
            found.append(_certificate(issuance, entry))
    return found


def _certificate(issuance: Entry, retirement: Entry) -> Certificate:
    issued, retired = issuance.event, retirement.event
    return Certificate(
        id=f"{retirement.aggregate}:{retirement.version}",
        batch=retirement.aggregate,
        registry=issued["registry"],
        instrument=issued["instrument"],
        vintage=issued["vintage"],
        project=issued["project"],
        serial_start=retired["serial_start"],
        serial_end=retired["serial_end"],
        quantity=retired["serial_end"] - retired["serial_start"] + 1,
        event_name=retired["event_name"],
        beneficiary=retired["beneficiary"],
        reason=retired["reason"],
        retired_by=retired["actor"],
        retired_at=_time(retired["timestamp"]),
        issued_at=_time(issued["timestamp"]),
        issuance_entry=issuance.hash,
        retirement_entry=retirement.hash,
        retirement_version=retirement.version,
    )


def _time(tagged: Mapping[str, str]) -> str:
    return tagged["_data_"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
