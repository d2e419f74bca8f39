"""EventNeutralization: one large event's road to confirmed carbon neutrality (R1-R8, R10).

Rules:
- R1/R2: an event is registered with its kind, organisers, venue, times and participants; the
  tier follows from the participants. The registering organiser (the lead) acts for the event.
- R4: a plan (boundary, estimates by source, measures, planned offsets) is published before the
  event starts; each revision is a new version, never an edit.
- R5: measures are recorded with kind and expected effect, and later their achieved effect.
- R6: accounting happens after the event ends, from activity data; a new accounting is a new
  version; its total is the amount to offset.
- R7/R8: allocations reserve units for this event; using a lower priority rank than the best
  planned or available one needs a stated reason, kept as a deviation.
- Confirmation: accounted, retired >= accounted with every retirement naming this event, and
  the tier's confirmation present: a verifier's evaluation (third_party), the organiser's
  commitment with every R3 field (self_commitment), either (voluntary).
- R10: neutralization is due within 6 months after the event ends.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain import topics
from ledger.domain.deadlines import Deadline, add_months
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
from ledger.domain.values import Instrument, SerialRange, priority_rank, require_text
from ledger.errors import AuthorizationError, InvalidInputError, RuleViolationError

__all__ = ["COMMITMENT_FIELDS", "EventNeutralization"]

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
        if starts.tzinfo is None or ends <= starts:
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
        self.organisers = organisers
        self.starts, self.ends = _when(starts), _when(ends)
        self.participants = participants
        self.lead = actor
        self.plans: list[dict[str, Any]] = []
        self.measures: list[dict[str, Any]] = []
        self.accountings: list[dict[str, Any]] = []
        self.allocations: list[dict[str, Any]] = []
        self.retirements: list[dict[str, Any]] = []
        self.commitment: dict[str, Any] | None = None
        self.evaluation: dict[str, Any] | None = None
        self.confirmed_on: datetime.date | None = None

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
        return self.accountings[-1]["total"] if self.accountings else None

    @property
    def retired(self) -> Decimal:
        """tCO2e retired for this event."""
        return sum((r["tonnes"] for r in self.retirements), Decimal(0))

    def state(self, now: datetime.datetime) -> str:
        """registered, planned, held, accounted, offset or confirmed."""
        if self.confirmed_on is not None:
            return "confirmed"
        if self.accounted is not None:
            return "offset" if self.retired >= self.accounted else "accounted"
        if now >= self.ends:
            return "held"
        return "planned" if self.plans else "registered"

    def deadlines(self) -> list[Deadline]:
        """R10: neutralization completed within 6 months after the event ends."""
        due = add_months(self.ends.date(), 6)
        return [Deadline("event neutralization completed", due, self.confirmed_on)]

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
        if not 1 <= number <= len(self.measures):
            raise InvalidInputError(f"there is no measure {number}", rule="R5")
        self._measure_reported(
            number=number, achieved_tonnes=exact("achieved effect", achieved_tonnes), actor=by
        )

    def account(self, *, lines: Sequence[Line], now: datetime.datetime, by: str) -> None:
        """Account emissions from actual activity data, after the event (R6)."""
        self._require_lead(by)
        if now < self.ends:
            raise RuleViolationError(
                f"{self.name!r} is accounted from actual data after it ends"
                f" ({self.ends.isoformat()})",
                rule="R6",
            )
        if not self.plans:
            raise RuleViolationError(f"{self.name!r} has no published plan", rule="R4")
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
        self._require_open()
        best = min([self.best_planned_rank(), best_available or 4])
        deviation = rank > best
        if deviation and not (reason and reason.strip()):
            raise RuleViolationError(
                f"an offset of priority rank {rank} while rank {best} is planned or available"
                " needs a stated reason",
                rule="R8",
            )
        self._offset_allocated(
            batch=batch,
            serial_start=serials.start,
            serial_end=serials.end,
            tonnes=tonnes,
            rank=rank,
            deviation=deviation,
            reason=reason if deviation else None,
            actor=by,
        )

    def record_retirement(
        self, *, batch: str, serials: SerialRange, certificate: str, by: str
    ) -> None:
        """Record that an allocation was retired for this event (R7, R11)."""
        self._require_lead(by)
        match = [
            a
            for a in self.allocations
            if a["batch"] == batch
            and (a["serial_start"], a["serial_end"]) == (serials.start, serials.end)
        ]
        if not match or any(r["certificate"] == certificate for r in self.retirements):
            raise RuleViolationError(
                f"units {serials} of batch {batch} are not an open allocation", rule="R7"
            )
        self._offset_retired(
            batch=batch,
            serial_start=serials.start,
            serial_end=serials.end,
            tonnes=match[0]["tonnes"],
            certificate=certificate,
            actor=by,
        )

    def commitment_statement(self, today: datetime.date) -> dict[str, Any]:
        """The organiser's R3 self-commitment, every field stated from the record."""
        return {
            "event_name": self.name,
            "organisers": self.organisers,
            "scale": self.participants,
            "time_held": f"{self.starts.isoformat()} / {self.ends.isoformat()}",
            "boundary_and_emissions": {
                "boundary": self.plans[-1]["boundary"] if self.plans else [],
                "accounted_tonnes": str(self.accounted),
            },
            "offset_method_and_date": {
                "retired_tonnes": str(self.retired),
                "certificates": [r["certificate"] for r in self.retirements],
                "date": today.isoformat(),
            },
            "confirmation_method": "organiser's signed self-commitment (R2, R3)",
        }

    def commit(self, *, statement: Mapping[str, Any], by: str) -> None:
        """The organiser's signed self-commitment; it must state every R3 field."""
        self._require_lead(by)
        missing = [f for f in COMMITMENT_FIELDS if not statement.get(f)]
        if missing:
            raise InvalidInputError(f"the commitment lacks {', '.join(missing)}", rule="R3")
        if statement["event_name"] != self.name or statement["scale"] != self.participants:
            raise InvalidInputError(
                "the commitment's event name and scale must be the event's", rule="R3"
            )
        self._committed(statement=dict(statement), actor=by)

    def evaluate(
        self, *, conclusion: str, verified_tonnes: Decimal | int, report: str, by: str
    ) -> None:
        """A certified verifier's evaluation of the accounting and neutrality (R2)."""
        if conclusion not in ("neutral", "not-neutral"):
            raise InvalidInputError("an evaluation concludes 'neutral' or 'not-neutral'", rule="R2")
        if self.accounted is None:
            raise RuleViolationError(f"{self.name!r} has no accounting to evaluate", rule="R6")
        self._evaluated(
            conclusion=conclusion,
            verified_tonnes=exact("verified emissions", verified_tonnes),
            report=require_text("report", report),
            actor=by,
        )

    def confirm(self, *, now: datetime.datetime, by: str) -> None:
        """Confirm neutrality: accounted, offset, and confirmed as the tier requires."""
        self._require_lead(by)
        self._require_open()
        accounted = self.accounted
        if accounted is None:
            raise RuleViolationError(f"{self.name!r} is not accounted yet", rule="R6")
        if self.retired < accounted:
            raise RuleViolationError(
                f"{self.retired} t retired for {self.name!r}, less than the {accounted} t"
                " accounted",
                rule="R7",
            )
        self._require_confirmation(accounted)
        self._confirmed(on=now.date().isoformat(), actor=by)

    def best_planned_rank(self) -> int:
        """The best (lowest) R8 rank among the latest plan's offset methods."""
        if not self.plans:
            return 4
        return min(
            priority_rank(Instrument(o["instrument"]), o["province"])
            for o in self.plans[-1]["offsets"]
        )

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
        self.plans.append(
            {
                "version": version,
                "boundary": boundary,
                "estimates": estimates,
                "measures": measures,
                "offsets": offsets,
            }
        )

    @event("MeasureRecorded", topic=MEASURED)
    def _measure_recorded(
        self, *, number: int, kind: str, description: str, expected_tonnes: Decimal, actor: str
    ) -> None:
        self.measures.append(
            {
                "number": number,
                "kind": kind,
                "description": description,
                "expected": expected_tonnes,
                "achieved": None,
            }
        )

    @event("MeasureReported", topic=MEASURE_REPORTED)
    def _measure_reported(self, *, number: int, achieved_tonnes: Decimal, actor: str) -> None:
        self.measures[number - 1]["achieved"] = achieved_tonnes

    @event("Accounted", topic=ACCOUNTED)
    def _accounted(
        self, *, version: int, lines: list[dict[str, Any]], total: Decimal, actor: str
    ) -> None:
        self.accountings.append({"version": version, "lines": lines, "total": total})

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
        self.allocations.append(
            {
                "batch": batch,
                "serial_start": serial_start,
                "serial_end": serial_end,
                "tonnes": tonnes,
                "rank": rank,
                "deviation": deviation,
                "reason": reason,
            }
        )

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
        self.retirements.append(
            {
                "batch": batch,
                "serial_start": serial_start,
                "serial_end": serial_end,
                "tonnes": tonnes,
                "certificate": certificate,
            }
        )

    @event("Committed", topic=COMMITTED)
    def _committed(self, *, statement: dict[str, Any], actor: str) -> None:
        self.commitment = statement

    @event("Evaluated", topic=EVALUATED)
    def _evaluated(
        self, *, conclusion: str, verified_tonnes: Decimal, report: str, actor: str
    ) -> None:
        self.evaluation = {
            "conclusion": conclusion,
            "verified_tonnes": verified_tonnes,
            "report": report,
            "verifier": actor,
        }

    @event("Confirmed", topic=CONFIRMED)
    def _confirmed(self, *, on: str, actor: str) -> None:
        self.confirmed_on = datetime.date.fromisoformat(on)

    # Guards -------------------------------------------------------------------------------

    def _require_lead(self, by: str) -> None:
        if by != self.lead:
            raise AuthorizationError(
                f"only the lead organiser {self.lead!r} acts for {self.name!r}, not {by!r}",
                rule="R1",
            )

    def _require_open(self) -> None:
        if self.confirmed_on is not None:
            raise RuleViolationError(f"{self.name!r} is already confirmed", rule="R7")

    def _require_confirmation(self, accounted: Decimal) -> None:
        evaluation = self.evaluation
        evaluated = (
            evaluation is not None
            and evaluation["conclusion"] == "neutral"
            and evaluation["verified_tonnes"] <= self.retired
        )
        if self.tier is Tier.THIRD_PARTY and not evaluated:
            raise RuleViolationError(
                f"{self.name!r} has {self.participants} participants (tier third_party): it needs a"
                " certified verifier's evaluation concluding 'neutral' for the retired volume",
                rule="R2",
            )
        if self.tier is not Tier.THIRD_PARTY and not (evaluated or self.commitment is not None):
            raise RuleViolationError(
                f"{self.name!r} (tier {self.tier.value}) needs the organiser's commitment or a"
                " verifier's evaluation",
                rule="R3",
            )
