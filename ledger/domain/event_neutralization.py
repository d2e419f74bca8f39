"""EventNeutralization: one large event's road to confirmed carbon neutrality (R1-R8, R10).

Rules:
- R1/R2: an event is registered with its kind, organisers, venue, times and participants; the
  tier follows from the participants. The registering organiser (the lead) acts for the event;
  a verifier, never the lead, evaluates it.
- R4: a plan (boundary, estimates by source, measures, planned offsets) is published before the
  event starts; each revision is a new version, never an edit.
- R5: measures are recorded with kind and expected effect, and later their achieved effect.
- R6: accounting happens after the event ends, from activity data; a new accounting is a new
  version; its total is the amount to offset.
- R7/R8: allocations reserve units for this event (never the same units twice); using a lower
  priority rank than the best planned or available one needs a stated reason, kept as a
  deviation. Each allocation is retired once, with the certificate of its batch.
- R3: the self-commitment comes only after an accounting and only when the retired tonnes cover
  it; it states every R3 field exactly as the record has them.
- Confirmation rests on the latest accounting and the current retired total: retired >=
  accounted, and the tier's confirmation made on that same basis: a verifier's evaluation
  concluding 'neutral' (third_party), the organiser's commitment (self_commitment), either
  (voluntary). A later accounting or retirement makes an earlier commitment or evaluation stale.
- Once confirmed, the record is closed: every command is refused. The rules allow no
  correction after confirmation (a correction would be its own signed event reopening the
  record, which this ledger does not offer).
- R10: neutralization is due within 6 months after the event ends; an unconfirmed event past
  that day is reported ``overdue``.
- :func:`recheck` re-runs, for a stored event, the command that should have made it on the
  record before it, and refuses an event that no command makes.

States and commands (the phase follows from the record; ``held`` and ``overdue`` are also
read from the clock). ``measure``, ``allocate`` and ``retire`` are allowed in every phase but
``confirmed``; the others only where the table lists them:

| phase | meaning | also allowed |
|---|---|---|
| registered | no plan yet | plan |
| planned | a plan, no accounting | plan, account |
| held | planned, and the event has ended (clock) | as planned |
| accounted | retired < accounted | account, evaluate |
| offset | retired >= accounted, no current commitment or evaluation | account, commit, evaluate |
| committed | a commitment on the current basis | account, evaluate, confirm |
| evaluated | an evaluation on the current basis | account, commit, confirm |
| confirmed | closed: nothing is allowed | none |
| overdue | not confirmed 6 months after the end (clock) | as its phase |

``plan`` is refused once the event starts (R4), ``account`` before it ends (R6), ``commit``
in ``evaluated`` while retired < accounted (R3), ``confirm`` unless the tier's confirmation is
current and neutral (R2, R3) and retired >= accounted (R7).
"""

from __future__ import annotations

import copy
import datetime
import enum
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
from eventsourcing.domain import Aggregate, event

from ledger.domain import topics
from ledger.domain._recheck import fields_of, made_by, require_same
from ledger.domain.deadlines import Deadline, DeadlineState, add_months
from ledger.domain.event_records import (
    Accounting,
    Allocation,
    CertificateRef,
    Commitment,
    Confirmation,
    Evaluation,
    Measure,
    Plan,
    PlannedOffset,
    Retirement,
    batch_id,
    plain,
)
from ledger.domain.event_values import (
    EventKind,
    Line,
    MeasureKind,
    Organiser,
    Source,
    Tier,
    exact,
    parse,
    tier_for,
    total_tonnes,
)
from ledger.domain.values import Instrument, SerialRange, require_text
from ledger.errors import AuthorizationError, InvalidInputError, RuleViolationError

__all__ = ["ALLOWED", "COMMITMENT_FIELDS", "EventNeutralization", "Phase", "recheck"]

REGISTERED = topics.Event.REGISTERED
PLANNED = topics.Event.PLANNED
MEASURED = topics.Event.MEASURED
MEASURE_REPORTED = topics.Event.MEASURE_REPORTED
ACCOUNTED = topics.Event.ACCOUNTED
ALLOCATED = topics.Event.ALLOCATED
RETIRED = topics.Event.RETIRED
COMMITTED = topics.Event.COMMITTED
EVALUATED = topics.Event.EVALUATED
CONFIRMED = topics.Event.CONFIRMED
TOPICS = topics.Event.ALL

#: R3: what a self-commitment must state.
COMMITMENT_FIELDS = (
    "event_name",
    "organisers",
    "scale",
    "time_held",
    "boundary_and_emissions",
    "offset_method_and_date",
    "confirmation_method",
)


class Phase(enum.StrEnum):
    """Where an event's neutralization stands (the table in the module docstring)."""

    REGISTERED = "registered"
    PLANNED = "planned"
    HELD = "held"
    ACCOUNTED = "accounted"
    OFFSET = "offset"
    COMMITTED = "committed"
    EVALUATED = "evaluated"
    CONFIRMED = "confirmed"
    OVERDUE = "overdue"


_OPEN = frozenset(Phase) - {Phase.CONFIRMED}
_ACCOUNTED = frozenset({Phase.ACCOUNTED, Phase.OFFSET, Phase.COMMITTED, Phase.EVALUATED})

#: The phases (read from the record alone) in which each command is allowed.
ALLOWED: Mapping[str, frozenset[Phase]] = {
    "plan": frozenset({Phase.REGISTERED, Phase.PLANNED}),
    "measure": _OPEN,
    "account": _ACCOUNTED | {Phase.PLANNED},
    "allocate": _OPEN,
    "retire": _OPEN,
    "commit": frozenset({Phase.OFFSET, Phase.EVALUATED}),
    "evaluate": frozenset({Phase.ACCOUNTED, Phase.OFFSET, Phase.COMMITTED}),
    "confirm": frozenset({Phase.COMMITTED, Phase.EVALUATED}),
}


def _when(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


class EventNeutralization(Aggregate):
    """The neutralization of one large event."""

    TOPIC = "ledger.event"

    class Event(Aggregate.Event):
        """Base of every EventNeutralization event."""

        TOPIC = "ledger.event.event"

    @classmethod
    def register(
        cls,
        *,
        kind: str,
        name: str,
        organisers: Sequence[Organiser],
        venue: str,
        starts: datetime.datetime,
        ends: datetime.datetime,
        participants: int,
        by: str,
    ) -> EventNeutralization:
        """Register an event (R1); ``by`` is the lead organiser's account."""
        if not organisers:
            raise InvalidInputError("an event has at least one organiser", rule="R1")
        if starts.tzinfo is None or ends.tzinfo is None or ends <= starts:
            raise InvalidInputError(
                "an event ends after it starts (times with UTC offset)", rule="R1"
            )
        if isinstance(participants, bool) or not isinstance(participants, int) or participants < 1:
            raise InvalidInputError(
                f"participants must be a positive integer, got {participants!r}", rule="R1"
            )
        return cls(
            kind=parse(EventKind, kind, "R1"),
            name=require_text("event name", name),
            organisers=[o.to_json() for o in organisers],
            venue=require_text("venue", venue),
            starts=starts.isoformat(),
            ends=ends.isoformat(),
            participants=participants,
            actor=require_text("lead organiser", by),
        )

    @event("Registered", topic=REGISTERED)
    def __init__(
        self,
        *,
        kind: str,
        name: str,
        organisers: list[dict[str, str]],
        venue: str,
        starts: str,
        ends: str,
        participants: int,
        actor: str,
    ) -> None:
        self.kind, self.name, self.venue = kind, name, venue
        self.organisers = tuple(Organiser(o["name"], o["type"]) for o in organisers)
        self.starts, self.ends = _when(starts), _when(ends)
        self.participants = participants
        self.lead = actor
        self.plans: tuple[Plan, ...] = ()
        self.measures: tuple[Measure, ...] = ()
        self.accountings: tuple[Accounting, ...] = ()
        self.allocations: tuple[Allocation, ...] = ()
        self.retirements: tuple[Retirement, ...] = ()
        self.commitment: Commitment | None = None
        self.evaluation: Evaluation | None = None
        self.confirmation: Confirmation | None = None

    # Derived ------------------------------------------------------------------------------

    @property
    def tier(self) -> Tier:
        """R2 tier, from the participant count."""
        return tier_for(self.participants)

    @property
    def label(self) -> str:
        """How reservations and retirements name this event: its name and id."""
        return f"{self.name} [event {self.id}]"

    @property
    def accounted(self) -> Decimal | None:
        """The latest accounted total in tCO2e (R6), if accounted."""
        return self.accountings[-1].total if self.accountings else None

    @property
    def retired(self) -> Decimal:
        """tCO2e retired for this event."""
        return sum((r.tonnes for r in self.retirements), Decimal(0))

    @property
    def confirmed_on(self) -> datetime.date | None:
        """The day the neutralization was confirmed, if it was."""
        return self.confirmation.on if self.confirmation else None

    @property
    def deviations(self) -> tuple[Allocation, ...]:
        """The R8 deviations: allocations of a lower rank than planned or available."""
        return tuple(a for a in self.allocations if a.deviation)

    @property
    def phase(self) -> Phase:
        """The phase the record alone shows (the module's table; never held or overdue)."""
        accounted = self.accounted
        if self.confirmation is not None:
            return Phase.CONFIRMED
        if accounted is None:
            return Phase.PLANNED if self.plans else Phase.REGISTERED
        if self._current(self.evaluation):
            return Phase.EVALUATED
        if self.retired < accounted:
            return Phase.ACCOUNTED
        return Phase.COMMITTED if self._current(self.commitment) else Phase.OFFSET

    def state(self, now: datetime.datetime) -> Phase:
        """The phase as reported on ``now``: also ``held`` and ``overdue`` (R10)."""
        phase = self.phase
        if phase is Phase.CONFIRMED:
            return phase
        if self.deadlines()[0].state(now.date()) is DeadlineState.MISSED:
            return Phase.OVERDUE
        if phase in (Phase.REGISTERED, Phase.PLANNED) and now >= self.ends:
            return Phase.HELD
        return phase

    def deadlines(self) -> list[Deadline]:
        """R10: neutralization completed within 6 months after the event ends."""
        due = add_months(self.ends.date(), 6)
        return [Deadline("event neutralization completed", due, self.confirmed_on)]

    def best_planned_rank(self) -> int:
        """The best (lowest) R8 rank among the latest plan's offset methods."""
        if not self.plans:
            return 4
        return min(offset.rank for offset in self.plans[-1].offsets)

    def records(self) -> dict[str, Any]:
        """The record as plain JSON-ready data (Decimals exact): plans, accountings, ..."""
        return {
            "phase": self.phase.value,
            "plans": [plain(p) for p in self.plans],
            "measures": [plain(m) for m in self.measures],
            "accountings": [plain(a) for a in self.accountings],
            "allocations": [plain(a) for a in self.allocations],
            "retirements": [plain(r) for r in self.retirements],
            "commitment": plain(self.commitment),
            "evaluation": plain(self.evaluation),
            "confirmation": plain(self.confirmation),
        }

    def commitment_statement(self, today: datetime.date) -> dict[str, Any]:
        """The organiser's R3 self-commitment, every field stated from the record."""
        return {
            "event_name": self.name,
            "organisers": [o.to_json() for o in self.organisers],
            "scale": self.participants,
            "time_held": f"{self.starts.isoformat()} / {self.ends.isoformat()}",
            "boundary_and_emissions": {
                "boundary": list(self.plans[-1].boundary) if self.plans else [],
                "accounted_tonnes": str(self.accounted),
            },
            "offset_method_and_date": {
                "retired_tonnes": str(self.retired),
                "certificates": [str(r.certificate) for r in self.retirements],
                "date": today.isoformat(),
            },
            "confirmation_method": "organiser's signed self-commitment (R2, R3)",
        }

    # Commands -----------------------------------------------------------------------------

    def publish_plan(
        self,
        *,
        boundary: Sequence[str],
        estimates: Mapping[str, Decimal | int],
        measures: Sequence[str],
        offsets: Sequence[Mapping[str, str]],
        now: datetime.datetime,
        by: str,
    ) -> None:
        """Publish a plan version before the event starts (R4)."""
        self._require_lead(by)
        if now >= self.starts:
            raise RuleViolationError(
                f"the plan of {self.name!r} is due before the event starts"
                f" ({self.starts.isoformat()})",
                rule="R4",
            )
        self._require_phase("plan")
        sources = [parse(Source, s, "R6") for s in boundary]
        if not sources or set(estimates) - set(sources):
            raise InvalidInputError(
                "the plan's estimates must be by sources inside its boundary", rule="R4"
            )
        planned = [
            {
                "instrument": Instrument.parse(o["instrument"]).value,
                "province": require_text("province", o["province"]),
            }
            for o in offsets
        ]
        if not planned:
            raise InvalidInputError("the plan names at least one planned offset method", rule="R4")
        self._plan_published(
            version=len(self.plans) + 1,
            boundary=sources,
            estimates={s: exact(f"estimate of {s}", v) for s, v in estimates.items()},
            measures=[require_text("measure", m) for m in measures],
            offsets=planned,
            actor=by,
        )

    def record_measure(
        self, *, kind: str, description: str, expected_tonnes: Decimal | int, by: str
    ) -> None:
        """Record a reduction measure and its expected effect (R5)."""
        self._require_lead(by)
        self._require_phase("measure")
        self._measure_recorded(
            number=len(self.measures) + 1,
            kind=parse(MeasureKind, kind, "R5"),
            description=require_text("measure", description),
            expected_tonnes=exact("expected effect", expected_tonnes),
            actor=by,
        )

    def report_measure(self, *, number: int, achieved_tonnes: Decimal | int, by: str) -> None:
        """Record the achieved effect of measure ``number`` (R5)."""
        self._require_lead(by)
        self._require_phase("measure")
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidInputError(f"measure number must be an integer, got {number!r}")
        if not 1 <= number <= len(self.measures):
            raise InvalidInputError(f"there is no measure {number}", rule="R5")
        self._measure_reported(
            number=number, achieved_tonnes=exact("achieved effect", achieved_tonnes), actor=by
        )

    def account(self, *, lines: Sequence[Line], now: datetime.datetime, by: str) -> None:
        """Account emissions from actual activity data, after the event (R6)."""
        self._require_lead(by)
        self._require_phase("account")
        if now < self.ends:
            raise RuleViolationError(
                f"{self.name!r} is accounted from actual data after it ends"
                f" ({self.ends.isoformat()})",
                rule="R6",
            )
        if not lines:
            raise InvalidInputError("an accounting has at least one line", rule="R6")
        self._accounted(
            version=len(self.accountings) + 1,
            lines=[line.to_json() for line in lines],
            total=total_tonnes(list(lines)),
            actor=by,
        )

    def allocate(
        self,
        *,
        batch: str,
        serials: SerialRange,
        tonnes: Decimal,
        rank: int,
        best_available: int | None,
        reason: str | None,
        by: str,
    ) -> None:
        """Allocate reserved units of a batch to this event (R7, R8)."""
        self._require_lead(by)
        self._require_phase("allocate")
        batch_uuid = batch_id(batch)
        if isinstance(rank, bool) or rank not in (1, 2, 3, 4):
            raise InvalidInputError(f"rank must be an R8 rank 1 to 4, got {rank!r}", rule="R8")
        if any(a.batch == batch_uuid and a.serials.overlaps(serials) for a in self.allocations):
            raise RuleViolationError(
                f"units {serials} of batch {batch} are already allocated to {self.name!r}",
                rule="R7",
            )
        best = min([self.best_planned_rank(), best_available or 4])
        deviation = rank > best
        if deviation and not (reason and reason.strip()):
            raise RuleViolationError(
                f"an offset of priority rank {rank} while rank {best} is planned or available"
                " needs a stated reason",
                rule="R8",
            )
        self._offset_allocated(
            batch=str(batch_uuid),
            serial_start=serials.start,
            serial_end=serials.end,
            tonnes=exact("tonnes", tonnes, positive=True),
            rank=rank,
            deviation=deviation,
            reason=require_text("reason", reason) if deviation else None,
            actor=by,
        )

    def record_retirement(
        self, *, batch: str, serials: SerialRange, certificate: str, by: str
    ) -> None:
        """Record that an allocation was retired for this event (R7, R11)."""
        self._require_lead(by)
        self._require_phase("retire")
        batch_uuid, ref = batch_id(batch), CertificateRef.parse(certificate)
        allocation = self._open_allocation(batch_uuid, serials)
        if allocation is None:
            raise RuleViolationError(
                f"units {serials} of batch {batch} are not an open allocation", rule="R7"
            )
        if ref.batch != batch_uuid or any(r.certificate == ref for r in self.retirements):
            raise RuleViolationError(
                f"certificate {certificate} is not a new certificate of batch {batch}",
                rule="R11",
            )
        self._offset_retired(
            batch=str(batch_uuid),
            serial_start=serials.start,
            serial_end=serials.end,
            tonnes=allocation.tonnes,
            certificate=str(ref),
            actor=by,
        )

    def commit(self, *, statement: Mapping[str, Any], by: str) -> None:
        """The organiser's signed self-commitment (R3): after an accounting it covers.

        Every R3 field is stated, and stated as the record has it (only the date is the
        organiser's); the retired tonnes must cover the latest accounting.
        """
        self._require_lead(by)
        missing = [f for f in COMMITMENT_FIELDS if not statement.get(f)]
        if missing:
            raise InvalidInputError(f"the commitment lacks {', '.join(missing)}", rule="R3")
        self._require_phase("commit")
        accounted = self.accounted
        if accounted is not None and self.retired < accounted:
            raise RuleViolationError(
                f"a commitment for {self.name!r} needs the retired tonnes ({self.retired} t)"
                f" to cover the {accounted} t accounted",
                rule="R3",
            )
        expected = self.commitment_statement(_stated_date(statement))
        wrong = [f for f in COMMITMENT_FIELDS if statement[f] != expected[f]]
        if wrong:
            raise InvalidInputError(
                f"the commitment's {', '.join(wrong)} must state the record"
                f" ({', '.join(repr(expected[f]) for f in wrong)})",
                rule="R3",
            )
        self._committed(statement=dict(statement), actor=by)

    def evaluate(
        self, *, conclusion: str, verified_tonnes: Decimal | int, report: str, by: str
    ) -> None:
        """A certified verifier's evaluation of the latest accounting and retirements (R2)."""
        if conclusion not in ("neutral", "not-neutral"):
            raise InvalidInputError("an evaluation concludes 'neutral' or 'not-neutral'", rule="R2")
        if require_text("verifier", by) == self.lead:
            raise AuthorizationError(
                f"the lead organiser {by!r} cannot evaluate its own event; a verifier does",
                rule="R2",
            )
        self._require_phase("evaluate")
        self._evaluated(
            conclusion=conclusion,
            verified_tonnes=exact("verified emissions", verified_tonnes),
            report=require_text("report", report),
            actor=by,
        )

    def confirm(self, *, now: datetime.datetime, by: str) -> None:
        """Confirm neutrality on the latest accounting and the current retired total."""
        self._require_lead(by)
        self._require_phase("confirm")
        accounted = self.accounted
        if accounted is not None and self.retired < accounted:
            raise RuleViolationError(
                f"{self.retired} t retired for {self.name!r}, less than the {accounted} t"
                " accounted",
                rule="R7",
            )
        self._require_confirmation()
        self._confirmed(on=now.date().isoformat(), actor=by)

    # Events -------------------------------------------------------------------------------

    @event("PlanPublished", topic=PLANNED)
    def _plan_published(
        self,
        *,
        version: int,
        boundary: list[str],
        estimates: dict[str, Decimal],
        measures: list[str],
        offsets: list[dict[str, str]],
        actor: str,
    ) -> None:
        plan = Plan(
            version=version,
            boundary=tuple(boundary),
            estimates=dict(estimates),
            measures=tuple(measures),
            offsets=tuple(
                PlannedOffset(Instrument(o["instrument"]), o["province"]) for o in offsets
            ),
        )
        self.plans = (*self.plans, plan)

    @event("MeasureRecorded", topic=MEASURED)
    def _measure_recorded(
        self, *, number: int, kind: str, description: str, expected_tonnes: Decimal, actor: str
    ) -> None:
        self.measures = (*self.measures, Measure(number, kind, description, expected_tonnes))

    @event("MeasureReported", topic=MEASURE_REPORTED)
    def _measure_reported(self, *, number: int, achieved_tonnes: Decimal, actor: str) -> None:
        measures = list(self.measures)
        measures[number - 1] = attrs.evolve(measures[number - 1], achieved=achieved_tonnes)
        self.measures = tuple(measures)

    @event("Accounted", topic=ACCOUNTED)
    def _accounted(
        self, *, version: int, lines: list[dict[str, Any]], total: Decimal, actor: str
    ) -> None:
        accounting = Accounting(version, tuple(Line(**line) for line in lines), total)
        self.accountings = (*self.accountings, accounting)

    @event("OffsetAllocated", topic=ALLOCATED)
    def _offset_allocated(
        self,
        *,
        batch: str,
        serial_start: int,
        serial_end: int,
        tonnes: Decimal,
        rank: int,
        deviation: bool,
        reason: str | None,
        actor: str,
    ) -> None:
        serials = SerialRange(serial_start, serial_end)
        allocation = Allocation(batch_id(batch), serials, tonnes, rank, deviation, reason)
        self.allocations = (*self.allocations, allocation)

    @event("OffsetRetired", topic=RETIRED)
    def _offset_retired(
        self,
        *,
        batch: str,
        serial_start: int,
        serial_end: int,
        tonnes: Decimal,
        certificate: str,
        actor: str,
    ) -> None:
        serials = SerialRange(serial_start, serial_end)
        ref = CertificateRef.parse(certificate)
        self.retirements = (*self.retirements, Retirement(batch_id(batch), serials, tonnes, ref))

    @event("Committed", topic=COMMITTED)
    def _committed(self, *, statement: dict[str, Any], actor: str) -> None:
        self.commitment = Commitment(statement, len(self.accountings), self.retired)

    @event("Evaluated", topic=EVALUATED)
    def _evaluated(
        self, *, conclusion: str, verified_tonnes: Decimal, report: str, actor: str
    ) -> None:
        self.evaluation = Evaluation(
            conclusion, verified_tonnes, report, actor, len(self.accountings), self.retired
        )

    @event("Confirmed", topic=CONFIRMED)
    def _confirmed(self, *, on: str, actor: str) -> None:
        self.confirmation = Confirmation(datetime.date.fromisoformat(on), actor)

    # Guards -------------------------------------------------------------------------------

    def _current(self, basis: Commitment | Evaluation | None) -> bool:
        """True if ``basis`` was made on the latest accounting and the current retired total."""
        return (
            basis is not None
            and basis.accounting_version == len(self.accountings)
            and basis.retired == self.retired
        )

    def _open_allocation(self, batch: Any, serials: SerialRange) -> Allocation | None:
        retired = {(r.batch, r.serials) for r in self.retirements}
        for allocation in self.allocations:
            same = (allocation.batch, allocation.serials) == (batch, serials)
            if same and (batch, serials) not in retired:
                return allocation
        return None

    def _require_lead(self, by: str) -> None:
        if by != self.lead:
            raise AuthorizationError(
                f"only the lead organiser {self.lead!r} acts for {self.name!r}, not {by!r}",
                rule="R1",
            )

    def _require_phase(self, command: str) -> None:
        """Refuse ``command`` outside the phases the module's table allows, naming the rule."""
        phase = self.phase
        if phase not in ALLOWED[command]:
            rule, message = _refusal(self, command, phase)
            raise RuleViolationError(message, rule=rule)

    def _require_confirmation(self) -> None:
        evaluation = self.evaluation
        evaluated = (
            self._current(evaluation)
            and evaluation is not None
            and evaluation.conclusion == "neutral"
            and evaluation.verified_tonnes <= self.retired
        )
        if self.tier is Tier.THIRD_PARTY and not evaluated:
            raise RuleViolationError(
                f"{self.name!r} has {self.participants} participants (tier third_party): it needs a"
                " certified verifier's evaluation concluding 'neutral' for the retired volume,"
                " made on the latest accounting",
                rule="R2",
            )
        if self._current(evaluation) and not evaluated:
            raise RuleViolationError(
                f"the verifier's evaluation of {self.name!r} on the latest accounting does not"
                " conclude 'neutral' for the retired volume",
                rule="R2",
            )
        if self.tier is not Tier.THIRD_PARTY and not (evaluated or self._current(self.commitment)):
            raise RuleViolationError(
                f"{self.name!r} (tier {self.tier.value}) needs the organiser's commitment or a"
                " verifier's evaluation, made on the latest accounting",
                rule="R3",
            )


def _stated_date(statement: Mapping[str, Any]) -> datetime.date:
    stated = statement.get("offset_method_and_date")
    text = stated.get("date") if isinstance(stated, Mapping) else None
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        raise InvalidInputError(
            f"the commitment's offset_method_and_date.date must be an ISO date, got {text!r}",
            rule="R3",
        ) from None


_WHY = {
    Phase.REGISTERED: ("R4", "it has no published plan"),
    Phase.PLANNED: ("R6", "it is not accounted yet"),
    Phase.ACCOUNTED: ("R7", "its retired tonnes do not cover the latest accounting"),
    Phase.OFFSET: ("R2", "it has no commitment or evaluation on its latest accounting"),
    Phase.COMMITTED: ("R3", "it is already committed on its latest accounting"),
    Phase.EVALUATED: ("R2", "it is already evaluated on its latest accounting"),
    Phase.CONFIRMED: ("R7", "it is already confirmed and its record is closed"),
}

_COMMAND_RULE = {"plan": "R4", "measure": "R5", "commit": "R3", "evaluate": "R2"}


def _refusal(aggregate: EventNeutralization, command: str, phase: Phase) -> tuple[str, str]:
    """The rule and the message refusing ``command`` in ``phase``."""
    rule, why = _WHY[phase]
    name = aggregate.name
    if command == "confirm" and phase is Phase.OFFSET:
        aggregate._require_confirmation()
    if command == "confirm" and phase is Phase.ACCOUNTED:
        return rule, (
            f"{aggregate.retired} t retired for {name!r}, less than the {aggregate.accounted} t"
            " accounted"
        )
    if phase is not Phase.CONFIRMED:
        rule = _COMMAND_RULE.get(command, rule)
    return rule, f"cannot {command} {name!r}: {why}"


def recheck(before: EventNeutralization | None, domain_event: Any) -> None:
    """Raise the rule's error if no command on ``before`` could have made ``domain_event``.

    ``before`` is the record just before the event (None for the first event) and is never
    changed: the command runs on a copy, and the event it makes must be ``domain_event``, field
    by field (except the aggregate id and the writer's timestamp). The signed events do not
    carry the clock the command read, so "plan before the event starts" (R4) and "account
    after it ends" (R6) are the command's checks and are not re-checked here.
    """
    kind = type(domain_event).TOPIC
    e = fields_of(domain_event)
    if kind == REGISTERED:
        if before is not None:
            raise RuleViolationError(f"event {before.id} is registered twice", rule="R1")
        made = made_by(
            EventNeutralization.register(
                kind=e["kind"],
                name=e["name"],
                organisers=[Organiser(o["name"], o["type"]) for o in e["organisers"]],
                venue=e["venue"],
                starts=_when(e["starts"]),
                ends=_when(e["ends"]),
                participants=e["participants"],
                by=e["actor"],
            )
        )
        require_same(made, domain_event, rule="R1", kind=kind)
        return
    if before is None:
        raise RuleViolationError(f"{kind} comes before the event is registered", rule="R1")
    command = _COMMANDS.get(kind)
    if command is None:
        raise RuleViolationError(f"{kind} is not an event of an event's neutralization")
    probe = copy.deepcopy(before)
    command[1](probe, e)
    require_same(made_by(probe), domain_event, rule=command[0], kind=kind)


def _serials(e: Mapping[str, Any]) -> SerialRange:
    return SerialRange(e["serial_start"], e["serial_end"])


def _plan(n: EventNeutralization, e: Mapping[str, Any]) -> None:
    n.publish_plan(
        boundary=e["boundary"],
        estimates=e["estimates"],
        measures=e["measures"],
        offsets=e["offsets"],
        now=n.starts - datetime.timedelta(microseconds=1),
        by=e["actor"],
    )


def _account(n: EventNeutralization, e: Mapping[str, Any]) -> None:
    n.account(lines=[Line(**line) for line in e["lines"]], now=n.ends, by=e["actor"])


def _allocate(n: EventNeutralization, e: Mapping[str, Any]) -> None:
    # The best rank the organiser held elsewhere is not in this record: a deviation is lawful
    # if any better rank could have been available, an absent one only if the plan allows it.
    n.allocate(
        batch=e["batch"],
        serials=_serials(e),
        tonnes=e["tonnes"],
        rank=e["rank"],
        best_available=1 if e["deviation"] else None,
        reason=e["reason"],
        by=e["actor"],
    )


def _confirm(n: EventNeutralization, e: Mapping[str, Any]) -> None:
    on = datetime.date.fromisoformat(e["on"])
    n.confirm(now=datetime.datetime.combine(on, datetime.time(), datetime.UTC), by=e["actor"])


_COMMANDS: dict[str, tuple[str, Callable[[EventNeutralization, Mapping[str, Any]], None]]] = {
    PLANNED: ("R4", _plan),
    MEASURED: (
        "R5",
        lambda n, e: n.record_measure(
            kind=e["kind"],
            description=e["description"],
            expected_tonnes=e["expected_tonnes"],
            by=e["actor"],
        ),
    ),
    MEASURE_REPORTED: (
        "R5",
        lambda n, e: n.report_measure(
            number=e["number"], achieved_tonnes=e["achieved_tonnes"], by=e["actor"]
        ),
    ),
    ACCOUNTED: ("R6", _account),
    ALLOCATED: ("R8", _allocate),
    RETIRED: (
        "R7",
        lambda n, e: n.record_retirement(
            batch=e["batch"], serials=_serials(e), certificate=e["certificate"], by=e["actor"]
        ),
    ),
    COMMITTED: ("R3", lambda n, e: n.commit(statement=e["statement"], by=e["actor"])),
    EVALUATED: (
        "R2",
        lambda n, e: n.evaluate(
            conclusion=e["conclusion"],
            verified_tonnes=e["verified_tonnes"],
            report=e["report"],
            by=e["actor"],
        ),
    ),
    CONFIRMED: ("R2", _confirm),
}
