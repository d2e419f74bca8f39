"""SinkProject: a new forest or marine sink project built for one event (R7, R9, R10).

The SPEC's ForestSinkProject and its marine sibling are one aggregate with an ``ecosystem``.

Rules:
- Registration records the parcels (land or sea areas), area, ecosystem, developer, expected
  removals and crediting period; only the developer acts for the project afterwards, except
  validation and measurement, which a verifier records, and issuance, which a registry records.
- R9: a project backs one event only: once bound, it can never be bound again. That its parcels
  are never reused by another project or mechanism is a claim the database enforces across
  aggregates (``ledger.store._claims``), not something one aggregate can see.
- R10: after the bound event ends, the application is due within 1 year and validation plus
  removals measurement within 2 years; reported against a day that is passed in.
- R9: a project is bound to an event by the event's id, with the event's label (how its
  batches name the event: ``<name> [event <id>]``, which must name that id) and the event's
  own end date; the commands read all three from the event, which must exist.
- The ``Bound`` event is at class version 2 (``event_id``, ``event_name``, ``event_ends``,
  ``actor``). A version 1 ``Bound`` (signed before the id had a field of its own) is upcast on
  reading: its id is read once from its label (:func:`event_id_of`); it is never parsed again.
- A verifier validates and measures, never the developer (R10). A re-measurement never falls
  below the removals already issued (R7).
- Issued removals never exceed the measured removals (R7: sink volume is what was measured);
  each issued batch is recorded once.
  They are issued as a credit batch the project makes (:meth:`SinkProject.issue_removals`):
  an inclusion-forest or inclusion-marine batch of the Shandong carbon-inclusion mechanism,
  over the project's parcels, retirable only for the bound event (R9); an unbound project
  issues nothing. The batch names the parcels by id only: their geometry stays in the
  project's signed registration (the batch's ``source_project``), never copied into the batch
  and so into every proof of its credits.
- :func:`recheck` re-runs, for a stored event, the command that should have made it on the
  project before it, and refuses an event that no command makes.
- :func:`check_binding` re-checks, across aggregates, that a signed binding names an event
  recorded before it, by that event's own label and end date (R9; the R10 deadlines follow
  from that date). The audit and the import run it on every binding they replay.
"""

from __future__ import annotations

import copy
import datetime
import enum
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain import topics
from ledger.domain._recheck import fields_of, made_by, require_same
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.deadlines import Deadline, add_months
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange, require_text
from ledger.errors import AuthorizationError, InvalidInputError, RuleViolationError

__all__ = [
    "APPLICATION_FILED",
    "BOUND",
    "MEASURED",
    "REGISTERED",
    "REMOVALS_ISSUED",
    "VALIDATED",
    "Ecosystem",
    "ForestSinkProject",
    "SinkProject",
    "check_binding",
    "event_id_of",
    "recheck",
]

REGISTERED = topics.Sink.REGISTERED
BOUND = topics.Sink.BOUND
APPLICATION_FILED = topics.Sink.APPLICATION_FILED
VALIDATED = topics.Sink.VALIDATED
MEASURED = topics.Sink.MEASURED
REMOVALS_ISSUED = topics.Sink.REMOVALS_ISSUED


class Ecosystem(enum.StrEnum):
    """Where the removals happen."""

    FOREST = "forest"
    MARINE = "marine"


def _positive(what: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value <= 0:
        raise InvalidInputError(f"{what} must be a positive exact number, got {value!r}")
    return Decimal(value)


_LABEL = re.compile(r".+ \[event ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]")


def event_id_of(label: str) -> uuid.UUID:
    """The event id in an event's label ``<name> [event <id>]``, or InvalidInputError (R9).

    Only a version 1 ``Bound`` event (which named its event by label alone) is read this way.
    """
    match = _LABEL.fullmatch(require_text("event", label))
    if match is None:
        raise InvalidInputError(
            f"a sink project is bound to an event by its label '<name> [event <id>]',"
            f" not {label!r}",
            rule="R9",
        )
    return uuid.UUID(match.group(1))


PROVINCE = "Shandong"
"""Where the sink projects of this mechanism lie (their removals rank first under R8)."""


class SinkProject(Aggregate):
    """A new forest or marine sink project, built for one event."""

    TOPIC = "ledger.sink-project"

    class Event(Aggregate.Event):
        """Base of every SinkProject event."""

        TOPIC = "ledger.sink-project.event"

    @classmethod
    def register(
        cls,
        *,
        name: str,
        ecosystem: str,
        developer: str,
        parcels: Sequence[Parcel],
        area_hectares: Decimal | int,
        expected_removals: Decimal | int,
        crediting_start: datetime.date,
        crediting_end: datetime.date,
    ) -> SinkProject:
        """Register a new sink project over ``parcels`` (ids unique within the project)."""
        ids = [parcel.id for parcel in parcels]
        if not ids:
            raise InvalidInputError("a sink project needs at least one parcel", rule="R9")
        if len(set(ids)) != len(ids):
            raise InvalidInputError(f"parcel ids repeat within the project: {ids}", rule="R9")
        if crediting_end <= crediting_start:
            raise InvalidInputError("the crediting period ends before it starts")
        try:
            kind = Ecosystem(ecosystem)
        except ValueError:
            raise InvalidInputError(
                f"ecosystem must be forest or marine, not {ecosystem!r}"
            ) from None
        return cls(
            name=require_text("project name", name),
            ecosystem=kind.value,
            developer=require_text("developer", developer),
            parcels=[parcel.to_json() for parcel in parcels],
            area_hectares=_positive("area", area_hectares),
            expected_removals=_positive("expected removals", expected_removals),
            crediting_start=crediting_start.isoformat(),
            crediting_end=crediting_end.isoformat(),
            actor=developer,
        )

    @event("Registered", topic=REGISTERED)
    def __init__(
        self,
        *,
        name: str,
        ecosystem: str,
        developer: str,
        parcels: list[dict[str, str | None]],
        area_hectares: Decimal,
        expected_removals: Decimal,
        crediting_start: str,
        crediting_end: str,
        actor: str,
    ) -> None:
        self.name = name
        self.ecosystem = Ecosystem(ecosystem)
        self.developer = developer
        self.parcels = tuple(Parcel.from_json(parcel) for parcel in parcels)
        self.area_hectares = area_hectares
        self.expected_removals = expected_removals
        self.crediting_period = (
            datetime.date.fromisoformat(crediting_start),
            datetime.date.fromisoformat(crediting_end),
        )
        self.event_name: str | None = None
        self.event_id: uuid.UUID | None = None
        self.batches: tuple[uuid.UUID, ...] = ()
        self.event_ends: datetime.date | None = None
        self.application_filed: datetime.date | None = None
        self.validated: datetime.date | None = None
        self.measured: datetime.date | None = None
        self.measured_removals = Decimal(0)
        self.issued_removals = Decimal(0)

    # Commands ---------------------------------------------------------------------------

    def bind(
        self, *, event_id: uuid.UUID, event_name: str, event_ends: datetime.date, by: str
    ) -> None:
        """Bind the project to the one event it neutralizes (R9: once, forever).

        Args:
            event_id: the event's id.
            event_name: the event's label, ``<name> [event <event_id>]``.
            event_ends: the event's own end date (the R10 deadlines follow from it).
            by: the acting developer.
        """
        self._require_developer(by, "bind")
        if self.event_id is not None:
            raise RuleViolationError(
                f"sink project {self.id} already backs event {self.event_name!r}; a sink"
                " project is used for one event only, forever",
                rule="R9",
            )
        if not isinstance(event_id, uuid.UUID):
            raise InvalidInputError(f"event must be an event id (a UUID), not {event_id!r}")
        if not require_text("event", event_name).endswith(f" [event {event_id}]"):
            raise InvalidInputError(
                f"a sink project bound to event {event_id} names it by its label"
                f" '<name> [event {event_id}]', not {event_name!r}",
                rule="R9",
            )
        if not isinstance(event_ends, datetime.date):
            raise InvalidInputError(f"event end must be a date, not {event_ends!r}")
        self._bound(
            event_id=event_id,
            event_name=event_name,
            event_ends=event_ends.isoformat(),
            actor=by,
        )

    def file_application(self, *, on: datetime.date, by: str) -> None:
        """Record that the project application was filed on ``on`` (R10)."""
        self._require_developer(by, "file the application of")
        self._require_bound("file its application")
        if self.application_filed is not None:
            raise RuleViolationError(
                f"the application of project {self.id} is already filed", rule="R10"
            )
        self._application_filed(on=on.isoformat(), actor=by)

    def complete_validation(self, *, on: datetime.date, by: str) -> None:
        """Record that a verifier completed the project's validation on ``on`` (R10)."""
        self._require_verifier(by, "validate")
        self._require_bound("validate it")
        if self.validated is not None:
            raise RuleViolationError(f"project {self.id} is already validated", rule="R10")
        self._validated(on=on.isoformat(), actor=by)

    def measure_removals(self, *, on: datetime.date, tonnes: Decimal | int, by: str) -> None:
        """Record the removals a verifier measured, in tCO2e (R10); never below those issued."""
        self._require_verifier(by, "measure")
        measured = _positive("measured removals", tonnes)
        self._require_bound("measure it")
        if measured < self.issued_removals:
            raise RuleViolationError(
                f"project {self.id} measured at {measured} t is below the {self.issued_removals} t"
                " already issued",
                rule="R7",
            )
        self._measured(on=on.isoformat(), tonnes=measured, actor=by)

    def record_issuance(self, *, batch: str, tonnes: Decimal, by: str) -> None:
        """Record removals issued as a credit batch; never more than measured (R7)."""
        self._require_bound("issue its removals")
        issued = _positive("issued removals", tonnes)
        if _batch_id(batch) in self.batches:
            raise RuleViolationError(
                f"batch {batch} of project {self.id} is already recorded", rule="R7"
            )
        if self.issued_removals + issued > self.measured_removals:
            raise RuleViolationError(
                f"issuing {tonnes} t from project {self.id} would exceed its measured removals"
                f" ({self.measured_removals} t, {self.issued_removals} t issued)",
                rule="R7",
            )
        self._removals_issued(batch=batch, tonnes=issued, actor=by)

    def issue_removals(
        self,
        *,
        registry: str,
        serials: SerialRange,
        holder: str,
        methodology: str,
        unit: Decimal | int,
        today: datetime.date,
    ) -> CreditBatch:
        """Issue measured removals as a new batch bound to the project's event (R7, R9)."""
        self._require_bound("issue its removals")
        kind = "inclusion-forest" if self.ecosystem is Ecosystem.FOREST else "inclusion-marine"
        batch = CreditBatch.issue(
            registry=registry,
            instrument=kind,
            vintage=(self.measured or today).year,
            project=f"{self.name} (sink project {self.id})",
            province=PROVINCE,
            methodology=methodology,
            serials=serials,
            holder=holder,
            today=today,
            unit=unit,
            parcels=[parcel.reference() for parcel in self.parcels],
            source_project=str(self.id),
            bound_event=self.event_name,
        )
        self.record_issuance(
            batch=str(batch.id), tonnes=batch.tonnes(serials.quantity), by=registry
        )
        return batch

    # Queries ----------------------------------------------------------------------------

    def deadlines(self) -> list[Deadline]:
        """R10 deadlines of the project (none before it is bound to an event)."""
        if self.event_ends is None:
            return []
        both = (self.validated, self.measured)
        done = None if None in both else max(d for d in both if d is not None)
        return [
            Deadline(
                "sink project application filed",
                add_months(self.event_ends, 12),
                self.application_filed,
            ),
            Deadline(
                "sink project validated and removals measured",
                add_months(self.event_ends, 24),
                done,
            ),
        ]

    # Events -----------------------------------------------------------------------------

    class Bound(Event):
        """The project is bound to its event (version 2: the event's id is a field)."""

        TOPIC = BOUND
        class_version = 2

        event_id: uuid.UUID
        event_name: str
        event_ends: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A version 1 binding named its event by label only: read the id from it once."""
            state["event_id"] = event_id_of(state["event_name"])

    @event(Bound)
    def _bound(self, *, event_id: uuid.UUID, event_name: str, event_ends: str, actor: str) -> None:
        self.event_id = event_id
        self.event_name = event_name
        self.event_ends = datetime.date.fromisoformat(event_ends)

    @event("ApplicationFiled", topic=APPLICATION_FILED)
    def _application_filed(self, *, on: str, actor: str) -> None:
        self.application_filed = datetime.date.fromisoformat(on)

    @event("Validated", topic=VALIDATED)
    def _validated(self, *, on: str, actor: str) -> None:
        self.validated = datetime.date.fromisoformat(on)

    @event("Measured", topic=MEASURED)
    def _measured(self, *, on: str, tonnes: Decimal, actor: str) -> None:
        self.measured = datetime.date.fromisoformat(on)
        self.measured_removals = tonnes

    @event("RemovalsIssued", topic=REMOVALS_ISSUED)
    def _removals_issued(self, *, batch: str, tonnes: Decimal, actor: str) -> None:
        self.issued_removals += tonnes
        self.batches = (*self.batches, uuid.UUID(batch))

    # Guards -----------------------------------------------------------------------------

    def _require_developer(self, by: str, verb: str) -> None:
        if by != self.developer:
            raise AuthorizationError(
                f"only the developer {self.developer!r} may {verb} project {self.id}, not {by!r}",
                rule="R9",
            )

    def _require_verifier(self, by: str, verb: str) -> None:
        if require_text("verifier", by) == self.developer:
            raise AuthorizationError(
                f"the developer {by!r} cannot {verb} its own project {self.id}; a verifier does",
                rule="R10",
            )

    def _require_bound(self, verb: str) -> None:
        if self.event_id is None:
            raise RuleViolationError(
                f"project {self.id} is not bound to an event yet; bind it before you {verb}",
                rule="R10",
            )


def _batch_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise InvalidInputError(f"batch must be a batch id (a UUID), got {text!r}") from None


def recheck(before: SinkProject | None, domain_event: Any) -> None:
    """Raise the rule's error if no command on ``before`` could have made ``domain_event``.

    ``before`` is the project just before the event (None for the first event) and is never
    changed: the command runs on a copy, and the event it makes must be ``domain_event``, field
    by field (except the aggregate id and the writer's timestamp). That a milestone's date was
    not in the future of the writer's clock is checked by the command only; that the bound
    event exists (:func:`check_binding`) and that the issued batch holds these removals are
    checked across aggregates, not here.
    """
    kind = type(domain_event).TOPIC
    e = fields_of(domain_event)
    if kind == REGISTERED:
        if before is not None:
            raise RuleViolationError(f"sink project {before.id} is registered twice", rule="R9")
        if e["actor"] != e["developer"]:
            raise AuthorizationError(
                f"only the developer {e['developer']!r} registers its project, not {e['actor']!r}",
                rule="R9",
            )
        made = made_by(
            SinkProject.register(
                name=e["name"],
                ecosystem=e["ecosystem"],
                developer=e["developer"],
                parcels=[Parcel.from_json(parcel) for parcel in e["parcels"]],
                area_hectares=e["area_hectares"],
                expected_removals=e["expected_removals"],
                crediting_start=_day(e["crediting_start"]),
                crediting_end=_day(e["crediting_end"]),
            )
        )
        require_same(made, domain_event, rule="R9", kind=kind)
        return
    if before is None:
        raise RuleViolationError(f"{kind} comes before the project is registered", rule="R9")
    command = _COMMANDS.get(kind)
    if command is None:
        raise RuleViolationError(f"{kind} is not an event of a sink project")
    probe = copy.deepcopy(before)
    command[1](probe, e)
    require_same(made_by(probe), domain_event, rule=command[0], kind=kind)


def check_binding(binding: Any, event: object) -> None:
    """Raise R9 unless ``binding`` (a Bound event) states the label and end date of ``event``.

    Args:
        binding: the (upcast) Bound event.
        event: the aggregate its ``event_id`` names in the history before it (None if none).
    """
    if not isinstance(event, EventNeutralization):
        raise RuleViolationError(
            f"sink project {binding.originator_id} is bound to event {binding.event_id}, which"
            " is not an event recorded before the binding",
            rule="R9",
        )
    if (binding.event_name, _day(binding.event_ends)) != (event.label, event.ends.date()):
        raise RuleViolationError(
            f"sink project {binding.originator_id} is bound to event {binding.event_id} as"
            f" {binding.event_name!r} ending {binding.event_ends}; that event is"
            f" {event.label!r} ending {event.ends.date().isoformat()}",
            rule="R9",
        )


def _day(text: object) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        raise InvalidInputError(f"a date must be an ISO date, got {text!r}") from None


_COMMANDS: dict[str, tuple[str, Callable[[SinkProject, Mapping[str, Any]], None]]] = {
    BOUND: (
        "R9",
        lambda p, e: p.bind(
            event_id=e["event_id"],
            event_name=e["event_name"],
            event_ends=_day(e["event_ends"]),
            by=e["actor"],
        ),
    ),
    APPLICATION_FILED: (
        "R10",
        lambda p, e: p.file_application(on=_day(e["on"]), by=e["actor"]),
    ),
    VALIDATED: ("R10", lambda p, e: p.complete_validation(on=_day(e["on"]), by=e["actor"])),
    MEASURED: (
        "R10",
        lambda p, e: p.measure_removals(on=_day(e["on"]), tonnes=e["tonnes"], by=e["actor"]),
    ),
    REMOVALS_ISSUED: (
        "R7",
        lambda p, e: p.record_issuance(batch=e["batch"], tonnes=e["tonnes"], by=e["actor"]),
    ),
}

#: The SPEC's name for a forest sink project: the same aggregate (``ecosystem="forest"``; a
#: marine sink is a ``SinkProject`` with ``ecosystem="marine"``).
ForestSinkProject = SinkProject
