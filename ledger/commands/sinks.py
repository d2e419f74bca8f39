"""Sink-project commands and queries (R7, R9, R10).

Rules:
- The developer registers, binds (to an event that exists, with that event's end date) and
  files; a verifier validates and measures; a registry
  issues the measured removals as a credit batch bound to the project's event (R9), never
  more than measured (R7). Issuance writes the batch and the project in one transaction.
- Dates of milestones default to today (the injected clock) and are never in the future.
- Every command takes the acting signer explicitly.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from ledger.audit.keys import Signer
from ledger.commands._context import Context
from ledger.domain.deadlines import Deadline, DeadlineState
from ledger.domain.event_neutralization import EventNeutralization
from ledger.domain.parcels import Parcel
from ledger.domain.sink_project import SinkProject
from ledger.domain.values import SerialRange
from ledger.store import retrying

__all__ = ["SinkCommands"]


class SinkCommands:
    """Commands and queries for sink projects."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._store = context.store

    def register_sink_project(
        self,
        developer: Signer,
        *,
        name: str,
        ecosystem: str,
        parcels: Sequence[Parcel],
        area_hectares: Decimal | int,
        expected_removals: Decimal | int,
        crediting_start: datetime.date,
        crediting_end: datetime.date,
    ) -> UUID:
        """Register a new forest or marine sink project over ``parcels`` (R9).

        Raises:
            RuleViolationError: a parcel id, or an overlapping area, is already used (R9).
        """
        project = SinkProject.register(
            name=name,
            ecosystem=ecosystem,
            developer=developer.actor,
            parcels=parcels,
            area_hectares=area_hectares,
            expected_removals=expected_removals,
            crediting_start=crediting_start,
            crediting_end=crediting_end,
        )
        self._store.save(developer, project)
        return project.id

    def bind_sink_project(self, developer: Signer, project_id: UUID, *, event_id: UUID) -> None:
        """Bind a project to the one event whose neutralization it backs (R9).

        The event must exist; the binding names it by its id (and its label, as its batches
        name it) and takes its own end date, from which the R10 deadlines follow.

        Raises:
            NotFoundError: there is no event ``event_id``.
        """
        event = self._store.load(event_id, EventNeutralization)
        self._store.update(
            developer,
            project_id,
            SinkProject,
            lambda p: p.bind(
                event_id=event.id,
                event_name=event.label,
                event_ends=event.ends.date(),
                by=developer.actor,
            ),
        )

    def file_sink_application(
        self, developer: Signer, project_id: UUID, *, on: datetime.date | None = None
    ) -> None:
        """Record that the project's application was filed (R10)."""
        day = self._context.past(on)
        self._store.update(
            developer,
            project_id,
            SinkProject,
            lambda p: p.file_application(on=day, by=developer.actor),
        )

    def validate_sink_project(
        self, verifier: Signer, project_id: UUID, *, on: datetime.date | None = None
    ) -> None:
        """Record that a verifier completed the project's validation (R10)."""
        day = self._context.past(on)
        self._store.update(
            verifier,
            project_id,
            SinkProject,
            lambda p: p.complete_validation(on=day, by=verifier.actor),
        )

    def measure_sink_removals(
        self,
        verifier: Signer,
        project_id: UUID,
        *,
        tonnes: Decimal | int,
        on: datetime.date | None = None,
    ) -> None:
        """Record the removals a verifier measured, in tCO2e (R10)."""
        day = self._context.past(on)
        self._store.update(
            verifier,
            project_id,
            SinkProject,
            lambda p: p.measure_removals(on=day, tonnes=tonnes, by=verifier.actor),
        )

    def issue_sink_removals(
        self,
        registry: Signer,
        project_id: UUID,
        *,
        serials: SerialRange,
        holder: str,
        methodology: str,
        unit: Decimal | int = 1,
    ) -> UUID:
        """Issue measured removals as a batch that retires only for the bound event (R9).

        Returns:
            The new batch's id.
        """
        self._context.account(holder)
        return retrying(
            lambda: self._issue_removals(registry, project_id, serials, holder, methodology, unit)
        )

    def sink_project(self, project_id: UUID) -> SinkProject:
        """The current state of a sink project."""
        return self._store.load(project_id, SinkProject)

    def sink_deadlines(self, project_id: UUID) -> list[tuple[Deadline, DeadlineState]]:
        """The project's R10 deadlines with their state today (the injected clock)."""
        today = self._context.today()
        return [(d, d.state(today)) for d in self.sink_project(project_id).deadlines()]

    def bound_projects(self, event_id: UUID) -> list[UUID]:
        """The sink projects bound to the event ``event_id`` (R9)."""
        return self._store.bound_projects(event_id)

    def _issue_removals(
        self,
        registry: Signer,
        project_id: UUID,
        serials: SerialRange,
        holder: str,
        methodology: str,
        unit: Decimal | int,
    ) -> UUID:
        project = self._store.load(project_id, SinkProject)
        batch = project.issue_removals(
            registry=registry.actor,
            serials=serials,
            holder=holder,
            methodology=methodology,
            unit=unit,
            today=self._context.today(),
        )
        self._store.save(registry, project, batch)
        return batch.id
