"""Event-neutralization commands and queries (R1-R8, R10).

Rules:
- Allocation reserves the units in their batch for this event and records the allocation in
  the event, in one transaction; its R8 rank is compared with the best rank planned and with
  the best rank the organiser still holds free units of.
- Retirement retires every open allocation for this event (the batch names the event) and
  records each in the event, in one transaction. The signed reason of a retirement that
  deviates from the R8 priority order states the deviation and its stated reason, so the
  certificate (and every proof of those units) carries them, in the certificate's ``reason``.
- Deadlines (R10) are the event's and those of the sink projects bound to it.
- Every command takes the acting signer explicitly; the batch and sink groups it reads from
  are given to it, not reached through a host.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.audit.certificate import Certificate
from ledger.audit.keys import Signer
from ledger.commands._context import Context
from ledger.commands.batches import BatchCommands
from ledger.commands.sinks import SinkCommands
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.deadlines import Deadline, DeadlineState
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.event_records import Allocation, Retirement
from ledger.domain.event_values import Line, Organiser
from ledger.domain.sink_project import SinkProject
from ledger.domain.values import SerialRange
from ledger.store import retrying

__all__ = ["NeutralizationCommands"]


class NeutralizationCommands:
    """Commands and queries for event neutralizations."""

    def __init__(self, context: Context, batches: BatchCommands, sinks: SinkCommands) -> None:
        self._context = context
        self._store = context.store
        self._batches = batches
        self._sinks = sinks

    def register_event(
        self,
        organiser: Signer,
        *,
        kind: str,
        name: str,
        organisers: Sequence[Organiser],
        venue: str,
        starts: datetime.datetime,
        ends: datetime.datetime,
        participants: int,
    ) -> UUID:
        """Register a large event (R1); its tier follows from ``participants`` (R2)."""
        event = EventNeutralization.register(
            kind=kind,
            name=name,
            organisers=organisers,
            venue=venue,
            starts=starts,
            ends=ends,
            participants=participants,
            by=organiser.actor,
        )
        self._store.save(organiser, event)
        return event.id

    def event(self, event_id: UUID) -> EventNeutralization:
        """The current state of an event's neutralization."""
        return self._store.load(event_id, EventNeutralization)

    def publish_plan(
        self,
        organiser: Signer,
        event_id: UUID,
        *,
        boundary: Sequence[str],
        estimates: Mapping[str, Decimal | int],
        measures: Sequence[str],
        offsets: Sequence[Mapping[str, str]],
    ) -> None:
        """Publish a new plan version before the event starts (R4)."""
        now = self._context.clock()
        self._store.update(
            organiser,
            event_id,
            EventNeutralization,
            lambda e: e.publish_plan(
                boundary=boundary,
                estimates=estimates,
                measures=measures,
                offsets=offsets,
                now=now,
                by=organiser.actor,
            ),
        )

    def record_measure(
        self,
        organiser: Signer,
        event_id: UUID,
        *,
        kind: str,
        description: str,
        expected_tonnes: Decimal | int,
    ) -> None:
        """Record a reduction measure with its expected effect (R5)."""
        self._store.update(
            organiser,
            event_id,
            EventNeutralization,
            lambda e: e.record_measure(
                kind=kind,
                description=description,
                expected_tonnes=expected_tonnes,
                by=organiser.actor,
            ),
        )

    def report_measure(
        self,
        organiser: Signer,
        event_id: UUID,
        *,
        number: int,
        achieved_tonnes: Decimal | int,
    ) -> None:
        """Record a measure's achieved effect (R5)."""
        self._store.update(
            organiser,
            event_id,
            EventNeutralization,
            lambda e: e.report_measure(
                number=number,
                achieved_tonnes=achieved_tonnes,
                by=organiser.actor,
            ),
        )

    def account_emissions(
        self, organiser: Signer, event_id: UUID, lines: Sequence[Line]
    ) -> Decimal:
        """Account the event's emissions after it ends (R6); returns the total in tCO2e."""
        now = self._context.clock()
        self._store.update(
            organiser,
            event_id,
            EventNeutralization,
            lambda e: e.account(lines=lines, now=now, by=organiser.actor),
        )
        total = self.event(event_id).accounted
        return total if total is not None else Decimal(0)

    def allocate_offsets(
        self,
        organiser: Signer,
        event_id: UUID,
        batch_id: UUID,
        serials: SerialRange,
        *,
        reason: str | None = None,
    ) -> None:
        """Reserve units of a batch for the event and allocate them to it (R7, R8)."""
        retrying(lambda: self._allocate(organiser, event_id, batch_id, serials, reason))

    def retire_offsets(self, organiser: Signer, event_id: UUID) -> list[Certificate]:
        """Retire every open allocation for the event; returns the certificates (R7, R11)."""
        retired = retrying(lambda: self._retire_open(organiser, event_id))
        return [
            self._batches.certificate(r.certificate.batch, r.certificate.version) for r in retired
        ]

    def commit_neutrality(self, organiser: Signer, event_id: UUID) -> dict[str, Any]:
        """Sign the organiser's self-commitment, stating every R3 field from the record."""
        today = self._context.today()
        statement: dict[str, Any] = {}

        def commit(event: EventNeutralization) -> None:
            statement.clear()
            statement.update(event.commitment_statement(today))
            event.commit(statement=statement, by=organiser.actor)

        self._store.update(organiser, event_id, EventNeutralization, commit)
        return statement

    def evaluate_event(
        self,
        verifier: Signer,
        event_id: UUID,
        *,
        conclusion: str,
        verified_tonnes: Decimal | int,
        report: str,
    ) -> None:
        """Record a certified verifier's signed evaluation (R2)."""
        self._store.update(
            verifier,
            event_id,
            EventNeutralization,
            lambda e: e.evaluate(
                conclusion=conclusion,
                verified_tonnes=verified_tonnes,
                report=report,
                by=verifier.actor,
            ),
        )

    def confirm_event(self, organiser: Signer, event_id: UUID) -> None:
        """Confirm the event's neutrality (accounted, offset, confirmed as its tier needs)."""
        now = self._context.clock()
        self._store.update(
            organiser,
            event_id,
            EventNeutralization,
            lambda e: e.confirm(now=now, by=organiser.actor),
        )

    def event_deadlines(self, event_id: UUID) -> list[tuple[Deadline, DeadlineState]]:
        """R10: the event's deadline and its bound sink projects', with their state today."""
        event = self.event(event_id)
        deadlines = event.deadlines()
        for project in self._sinks.bound_projects(event.id):
            deadlines += self._store.load(project, SinkProject).deadlines()
        today = self._context.today()
        return [(d, d.state(today)) for d in deadlines]

    def _allocate(
        self,
        organiser: Signer,
        event_id: UUID,
        batch_id: UUID,
        serials: SerialRange,
        reason: str | None,
    ) -> None:
        event = self.event(event_id)
        batch = self._store.load(batch_id, CreditBatch)
        others = [
            rank
            for held, rank in self._batches.held_ranks(organiser.actor).items()
            if held != batch_id
        ]
        batch.reserve(serials, by=organiser.actor, event_name=event.label)
        event.allocate(
            batch=str(batch_id),
            serials=serials,
            tonnes=batch.tonnes(serials.quantity),
            rank=batch.priority_rank,
            best_available=min(others, default=None),
            reason=reason,
            by=organiser.actor,
        )
        self._store.save(organiser, batch, event)

    def _retire_open(self, organiser: Signer, event_id: UUID) -> tuple[Retirement, ...]:
        event = self.event(event_id)
        done = len(event.retirements)
        retired = {(r.batch, r.serials) for r in event.retirements}
        batches: dict[UUID, CreditBatch] = {}
        for allocation in event.allocations:
            if (allocation.batch, allocation.serials) in retired:
                continue
            batch = batches.get(allocation.batch) or self._store.load(allocation.batch, CreditBatch)
            batches[allocation.batch] = batch
            batch.retire(
                allocation.serials,
                by=organiser.actor,
                beneficiary=event.name,
                reason=_retirement_reason(event.name, allocation),
                event_name=event.label,
            )
            event.record_retirement(
                batch=str(allocation.batch),
                serials=allocation.serials,
                certificate=f"{allocation.batch}:{batch.version}",
                by=organiser.actor,
            )
        self._store.save(organiser, *batches.values(), event)
        return event.retirements[done:]


def _retirement_reason(event_name: str, allocation: Allocation) -> str:
    """The signed reason of a retirement for an event; an R8 deviation and its reason, if any."""
    reason = f"carbon neutralization of {event_name} (R7)"
    if allocation.deviation:
        reason += (
            f"; R8 deviation: priority rank {allocation.rank} used instead of a higher-ranked"
            f" offset, because: {allocation.reason}"
        )
    return reason
