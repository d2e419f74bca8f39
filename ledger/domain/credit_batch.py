"""CreditBatch: one issuance of serial units by one registry, and what happens to each unit.

Rules (SPEC section 4, R7, R8, R11):
- Only a registry issues, and the issuing actor is the registry (the key's role is checked by
  ``ledger.audit.policy``). A vintage is never in the future; the unit size is one the
  instrument allows (R7); the R8 priority rank is derived from instrument and province.
- Every serial unit is in exactly one state for one account: held, reserved (for an event),
  retired or exported; so issued = held + reserved + retired + exported, always.
- Only the holder moves, reserves, releases, retires, exports or donates its units; retired and
  exported units never move again (R11: a unit is cancelled once, for one stated use).
- Reserved units only leave their reservation by release, or by retirement for that same event.
- R9: a batch of a sink project's removals is bound to that project's event: its units are
  reserved and retired only for that event and never exported to another mechanism. A batch
  may name the parcels (land or sea areas) it credits; the claim on them is the database's.
- Commands validate and raise before any event is emitted; ``@event`` bodies only apply, because
  they run again on every replay. Every event names its ``actor``, whose key signs it.
- :func:`replay_checked` re-checks every rule on replay by re-running, for each stored event,
  the command that should have made it: a validly signed event that no command allows (a
  leaked key, a bug) fails with the same error the command would raise.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain import topics
from ledger.domain._units import Lot, UnitMap, UnitState
from ledger.domain.parcels import Parcel
from ledger.domain.values import (
    Instrument,
    SerialRange,
    priority_rank,
    require_text,
    require_unit,
    require_year,
)
from ledger.errors import AuthorizationError, InvalidInputError, RuleViolationError

__all__ = [
    "DONATED",
    "EXPORTED",
    "ISSUED",
    "RELEASED",
    "RESERVED",
    "RETIRED",
    "SPLIT",
    "TOPICS",
    "TRANSFERRED",
    "CreditBatch",
    "issue_facts",
    "recheck",
    "replay_checked",
]

ISSUED = topics.Batch.ISSUED
TRANSFERRED = topics.Batch.TRANSFERRED
DONATED = topics.Batch.DONATED
SPLIT = topics.Batch.SPLIT
RESERVED = topics.Batch.RESERVED
RELEASED = topics.Batch.RELEASED
RETIRED = topics.Batch.RETIRED
EXPORTED = topics.Batch.EXPORTED
TOPICS = topics.Batch.ALL

_MOVABLE = (UnitState.HELD,)


class CreditBatch(Aggregate):
    """A block of serial units issued by one registry."""

    TOPIC = "ledger.credit-batch"

    class Event(Aggregate.Event):
        """Base of every CreditBatch event."""

        TOPIC = "ledger.credit-batch.event"

    @classmethod
    def issue(
        cls,
        *,
        registry: str,
        instrument: str,
        vintage: int,
        project: str,
        province: str,
        methodology: str,
        serials: SerialRange,
        holder: str,
        today: datetime.date,
        unit: Decimal | int = 1,
        parcels: Sequence[Parcel] = (),
        source_project: str | None = None,
        bound_event: str | None = None,
    ) -> CreditBatch:
        """Issue ``serials`` to ``holder``; the registry is the acting party (R7)."""
        return cls(
            **issue_facts(
                registry=registry,
                instrument=instrument,
                vintage=vintage,
                project=project,
                province=province,
                methodology=methodology,
                serials=serials,
                holder=holder,
                today=today,
                unit=unit,
                parcels=parcels,
                source_project=source_project,
                bound_event=bound_event,
            )
        )

    @event("Issued", topic=ISSUED)
    def __init__(
        self,
        *,
        registry: str,
        instrument: str,
        vintage: int,
        project: str,
        province: str,
        methodology: str,
        unit: Decimal,
        serial_start: int,
        serial_end: int,
        holder: str,
        parcels: list[dict[str, str | None]],
        source_project: str | None,
        bound_event: str | None,
        actor: str,
    ) -> None:
        self.registry = registry
        self.parcels = tuple(Parcel.from_json(parcel) for parcel in parcels)
        self.source_project = source_project
        self.bound_event = bound_event
        self.instrument = Instrument(instrument)
        self.vintage = vintage
        self.project = project
        self.province = province
        self.methodology = methodology
        self.unit = unit
        self.serials = SerialRange(serial_start, serial_end)
        self.units = UnitMap.issued(self.serials, holder)

    @property
    def priority_rank(self) -> int:
        """R8 priority rank: 1 carbon-inclusion, 2 Shandong CCER/other, 3 CEA, 4 other."""
        return priority_rank(self.instrument, self.province)

    def tonnes(self, units: int) -> Decimal:
        """The tCO2e of ``units`` serial units of this batch, exactly."""
        return self.unit * units

    def lots(self) -> tuple[Lot, ...]:
        """Every run of units with its state and account."""
        return self.units.lots

    # Commands ---------------------------------------------------------------------------

    def transfer(self, serials: SerialRange, *, by: str, to: str) -> None:
        """Move held units to another account (R11: traceable to every holder)."""
        self._require(serials, by, _MOVABLE, verb="transfer")
        self._transferred(**_span(serials), actor=by, to=self._other(by, to))

    def donate(self, serials: SerialRange, *, by: str, to: str) -> None:
        """Give held units to another account; the donor stays on the record (R7)."""
        self._require(serials, by, _MOVABLE, verb="donate")
        self._donated(**_span(serials), actor=by, to=self._other(by, to))

    def split(self, at: int, *, by: str) -> None:
        """Divide the holding that contains serial ``at`` into two, the second from ``at``."""
        head = self._lot_containing(at)
        if head.serials.start == at:
            raise InvalidInputError(f"serial {at} already starts a holding of batch {self.id}")
        self._require(head.serials, by, (UnitState.HELD, UnitState.RESERVED), verb="split")
        self._split(at=at, actor=by)

    def reserve(self, serials: SerialRange, *, by: str, event_name: str) -> None:
        """Set held units aside for an event's neutralization."""
        self._require_bound_event(event_name, "reserve")
        self._require(serials, by, _MOVABLE, verb="reserve")
        self._reserved(**_span(serials), actor=by, event_name=require_text("event", event_name))

    def release(self, serials: SerialRange, *, by: str, event_name: str) -> None:
        """Return units reserved for ``event_name`` to the holder's free holding."""
        self._require(serials, by, (UnitState.RESERVED,), verb="release", purpose=event_name)
        self._released(**_span(serials), actor=by, event_name=event_name)

    def retire(
        self,
        serials: SerialRange,
        *,
        by: str,
        beneficiary: str,
        reason: str,
        event_name: str | None = None,
    ) -> None:
        """Cancel units for good, for an event and/or a beneficiary, with a reason (R11).

        Reserved units may be retired only for the event they are reserved for.
        """
        if event_name is not None:
            require_text("event", event_name)
        self._require_bound_event(event_name, "retire")
        self._require_retirable(serials, by, event_name)
        self._retired(
            **_span(serials),
            actor=by,
            event_name=event_name,
            beneficiary=require_text("beneficiary", beneficiary),
            reason=require_text("reason", reason),
        )

    def export(self, serials: SerialRange, *, by: str, target_registry: str, reason: str) -> None:
        """Cancel held units here so that ``target_registry`` can issue them (R11)."""
        target = require_text("target registry", target_registry)
        if self.bound_event is not None:
            raise RuleViolationError(
                f"batch {self.id} holds removals of sink project {self.source_project}, bound"
                f" to {self.bound_event!r}; they are never used under another mechanism",
                rule="R9",
            )
        if target == self.registry:
            raise InvalidInputError(
                f"cannot export batch {self.id} to its own registry", rule="R11"
            )
        self._require(serials, by, _MOVABLE, verb="export")
        self._exported(
            **_span(serials),
            actor=by,
            target_registry=target,
            reason=require_text("reason", reason),
        )

    # Events -----------------------------------------------------------------------------

    @event("Transferred", topic=TRANSFERRED)
    def _transferred(self, *, serial_start: int, serial_end: int, actor: str, to: str) -> None:
        self.units = self.units.assign(SerialRange(serial_start, serial_end), UnitState.HELD, to)

    @event("Donated", topic=DONATED)
    def _donated(self, *, serial_start: int, serial_end: int, actor: str, to: str) -> None:
        self.units = self.units.assign(SerialRange(serial_start, serial_end), UnitState.HELD, to)

    @event("Split", topic=SPLIT)
    def _split(self, *, at: int, actor: str) -> None:
        self.units = self.units.split(at)

    @event("Reserved", topic=RESERVED)
    def _reserved(self, *, serial_start: int, serial_end: int, actor: str, event_name: str) -> None:
        span = SerialRange(serial_start, serial_end)
        self.units = self.units.assign(span, UnitState.RESERVED, actor, event_name)

    @event("Released", topic=RELEASED)
    def _released(self, *, serial_start: int, serial_end: int, actor: str, event_name: str) -> None:
        self.units = self.units.assign(SerialRange(serial_start, serial_end), UnitState.HELD, actor)

    @event("Retired", topic=RETIRED)
    def _retired(
        self,
        *,
        serial_start: int,
        serial_end: int,
        actor: str,
        event_name: str | None,
        beneficiary: str,
        reason: str,
    ) -> None:
        span = SerialRange(serial_start, serial_end)
        self.units = self.units.assign(span, UnitState.RETIRED, actor, event_name)

    @event("Exported", topic=EXPORTED)
    def _exported(
        self, *, serial_start: int, serial_end: int, actor: str, target_registry: str, reason: str
    ) -> None:
        span = SerialRange(serial_start, serial_end)
        self.units = self.units.assign(span, UnitState.EXPORTED, actor, target_registry)

    # Guards -----------------------------------------------------------------------------

    def _require(
        self,
        serials: SerialRange,
        by: str,
        states: Iterable[UnitState],
        *,
        verb: str,
        purpose: str | None = None,
    ) -> None:
        allowed = tuple(states)
        for lot in self._lots_within(serials):
            if lot.state in (UnitState.RETIRED, UnitState.EXPORTED):
                raise RuleViolationError(
                    f"cannot {verb} units {lot.serials} of batch {self.id}: they are already"
                    f" {lot.state.value}, and {lot.state.value} units never move again",
                    rule="R11",
                )
            if lot.account != by:
                raise AuthorizationError(
                    f"cannot {verb} units {lot.serials} of batch {self.id}: held by"
                    f" {lot.account!r}, not {by!r}; only the holder may",
                    rule="R11",
                )
            if lot.state not in allowed or (purpose is not None and lot.purpose != purpose):
                raise RuleViolationError(
                    f"cannot {verb} units {lot.serials} of batch {self.id}: they are"
                    f" {_describe(lot)}",
                    rule="R11",
                )

    def _require_retirable(self, serials: SerialRange, by: str, event_name: str | None) -> None:
        self._require(serials, by, (UnitState.HELD, UnitState.RESERVED), verb="retire")
        for lot in self.units.within(serials):
            if lot.state is UnitState.RESERVED and lot.purpose != event_name:
                raise RuleViolationError(
                    f"cannot retire units {lot.serials} of batch {self.id} for"
                    f" {event_name!r}: they are {_describe(lot)}",
                    rule="R11",
                )

    def _require_bound_event(self, event_name: str | None, verb: str) -> None:
        if self.bound_event is not None and event_name != self.bound_event:
            raise RuleViolationError(
                f"cannot {verb} units of batch {self.id} for {event_name!r}: they are removals"
                f" of sink project {self.source_project}, bound to {self.bound_event!r}",
                rule="R9",
            )

    def _lots_within(self, serials: SerialRange) -> tuple[Lot, ...]:
        if not self.serials.contains(serials):
            raise RuleViolationError(
                f"units {serials} are not all in batch {self.id} (serials {self.serials})",
                rule="R11",
            )
        return self.units.within(serials)

    def _lot_containing(self, serial: int) -> Lot:
        for lot in self.units.lots:
            if lot.serials.start <= serial <= lot.serials.end:
                return lot
        raise RuleViolationError(f"serial {serial} is not in batch {self.id}", rule="R11")

    @staticmethod
    def _other(by: str, to: str) -> str:
        if require_text("receiving account", to) == by:
            raise InvalidInputError(f"cannot move units from {by!r} to itself")
        return to

    def __repr__(self) -> str:
        return f"CreditBatch(id={self.id}, registry={self.registry!r}, serials={self.serials})"


def _span(serials: SerialRange) -> dict[str, int]:
    return {"serial_start": serials.start, "serial_end": serials.end}


def _describe(lot: Lot) -> str:
    if lot.state is UnitState.RESERVED:
        return f"reserved for {lot.purpose!r}"
    return lot.state.value


def issue_facts(
    *,
    registry: str,
    instrument: str,
    vintage: int,
    project: str,
    province: str,
    methodology: str,
    serials: SerialRange,
    holder: str,
    today: datetime.date,
    unit: Decimal | int = 1,
    parcels: Sequence[Parcel] = (),
    source_project: str | None = None,
    bound_event: str | None = None,
) -> dict[str, Any]:
    """Every check of :meth:`CreditBatch.issue`: the Issued event's fields, or the error.

    The replay re-checks an issuance with this alone (the event's ``__init__`` body only
    applies the fields, and runs on the replayed event itself right after).
    """
    kind = Instrument.parse(instrument)
    if (source_project is None) != (bound_event is None):
        raise InvalidInputError("a sink-project batch names both its project and its event")
    return {
        "registry": require_text("registry", registry),
        "instrument": kind.value,
        "vintage": require_year("vintage", vintage, latest=today.year, rule="R7"),
        "project": require_text("project", project),
        "province": require_text("province", province),
        "methodology": require_text("methodology", methodology),
        "unit": require_unit(kind, unit),
        "serial_start": serials.start,
        "serial_end": serials.end,
        "holder": require_text("holder", holder),
        "parcels": [parcel.to_json() for parcel in parcels],
        "source_project": source_project,
        "bound_event": bound_event,
        "actor": registry,
    }


def replay_checked(events: Iterable[Any]) -> CreditBatch:
    """Replay ``events`` (domain events of one batch), re-checking every rule on the way."""
    batch: CreditBatch | None = None
    for domain_event in events:
        recheck(batch, domain_event)
        batch = domain_event.mutate(batch)
    if batch is None:
        raise RuleViolationError("no events to replay")
    return batch


def recheck(before: CreditBatch | None, domain_event: Any) -> None:
    """Raise the rule's error if no command on ``before`` could have made ``domain_event``."""
    e: dict[str, Any] = vars(domain_event)
    kind = type(domain_event).TOPIC
    if kind == ISSUED:
        if before is not None:
            raise RuleViolationError(f"batch {before.id} is issued twice", rule="R11")
        facts = {k: e[k] for k in ("registry", "instrument", "vintage", "project", "province")}
        facts |= {
            k: e[k] for k in ("methodology", "holder", "unit", "source_project", "bound_event")
        }
        facts["parcels"] = [Parcel.from_json(parcel) for parcel in e["parcels"]]
        serials = SerialRange(e["serial_start"], e["serial_end"])
        made = issue_facts(**facts, serials=serials, today=e["timestamp"].date())
        if str(made["unit"]) != str(e["unit"]):
            raise RuleViolationError(
                f"unit {e['unit']} is not written as the ledger signs it ({made['unit']})",
                rule="R7",
            )
        return
    if before is None:
        raise RuleViolationError(f"event {kind} comes before the issuance", rule="R11")
    probe = copy.deepcopy(before)
    _COMMANDS[kind](probe, e)


def _range(e: dict[str, Any]) -> SerialRange:
    return SerialRange(e["serial_start"], e["serial_end"])


_COMMANDS: dict[str, Callable[[CreditBatch, dict[str, Any]], None]] = {
    TRANSFERRED: lambda b, e: b.transfer(_range(e), by=e["actor"], to=e["to"]),
    DONATED: lambda b, e: b.donate(_range(e), by=e["actor"], to=e["to"]),
    SPLIT: lambda b, e: b.split(e["at"], by=e["actor"]),
    RESERVED: lambda b, e: b.reserve(_range(e), by=e["actor"], event_name=e["event_name"]),
    RELEASED: lambda b, e: b.release(_range(e), by=e["actor"], event_name=e["event_name"]),
    RETIRED: lambda b, e: b.retire(
        _range(e),
        by=e["actor"],
        beneficiary=e["beneficiary"],
        reason=e["reason"],
        event_name=e["event_name"],
    ),
    EXPORTED: lambda b, e: b.export(
        _range(e), by=e["actor"], target_registry=e["target_registry"], reason=e["reason"]
    ),
}
