"""Sink-project commands of the facade (R7, R9, R10); mixed into :class:`ledger.Ledger`.

Rules:
- The developer registers, binds and files; a verifier validates and measures; a registry
  issues the measured removals as a credit batch bound to the project's event (R9), never
  more than measured (R7). Issuance writes the batch and the project in one transaction.
- Dates of milestones default to today (the injected clock) and are never in the future.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger._retry import retrying
from ledger.audit.keys import Signer
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.deadlines import Deadline, DeadlineState
from ledger.domain.parcels import Parcel
from ledger.domain.sink_project import Ecosystem, SinkProject
from ledger.domain.values import SerialRange
from ledger.errors import InvalidInputError

__all__ = ["SinkCommands"]

A = TypeVar("A", bound=Aggregate)


class _Host(Protocol):
    """What the mixin needs from :class:`ledger.Ledger`."""

    clock: Callable[[], datetime.datetime]

    def _load(self: _Host, aggregate_id: UUID, kind: type[A]) -> A: ...

    def _save(self: _Host, signer: Signer, *aggregates: Aggregate) -> None: ...

    def _update(
        self: _Host, signer: Signer, aggregate_id: UUID, kind: type[A], action: Callable[[A], Any]
    ) -> int: ...

    def _account(self: _Host, name: str) -> str: ...

    def _past(self: _Host, on: datetime.date | None) -> datetime.date: ...

    def sink_project(self: _Host, project_id: UUID) -> SinkProject: ...


class SinkCommands:
    """Commands and queries for sink projects."""

    def register_sink_project(
        self: _Host,
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
        self._save(developer, project)
        return project.id

    def bind_sink_project(
        self: _Host,
        developer: Signer,
        project_id: UUID,
        *,
        event_name: str,
        event_ends: datetime.date,
    ) -> None:
        """Bind a project to the one event whose neutralization it backs (R9)."""
        self._update(
            developer,
            project_id,
            SinkProject,
            lambda p: p.bind(event_name=event_name, event_ends=event_ends, by=developer.actor),
        )

    def file_sink_application(
        self: _Host, developer: Signer, project_id: UUID, *, on: datetime.date | None = None
    ) -> None:
        """Record that the project's application was filed (R10)."""
        day = self._past(on)
        self._update(
            developer,
            project_id,
            SinkProject,
            lambda p: p.file_application(on=day, by=developer.actor),
        )

    def validate_sink_project(
        self: _Host, verifier: Signer, project_id: UUID, *, on: datetime.date | None = None
    ) -> None:
        """Record that a verifier completed the project's validation (R10)."""
        day = self._past(on)
        self._update(
            verifier,
            project_id,
            SinkProject,
            lambda p: p.complete_validation(on=day, by=verifier.actor),
        )

    def measure_sink_removals(
        self: _Host,
        verifier: Signer,
        project_id: UUID,
        *,
        tonnes: Decimal | int,
        on: datetime.date | None = None,
    ) -> None:
        """Record the removals a verifier measured, in tCO2e (R10)."""
        day = self._past(on)
        self._update(
            verifier,
            project_id,
            SinkProject,
            lambda p: p.measure_removals(on=day, tonnes=tonnes, by=verifier.actor),
        )

    def issue_sink_removals(
        self: _Host,
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
        self._account(holder)
        return retrying(
            lambda: _issue_removals(self, registry, project_id, serials, holder, methodology, unit)
        )

    def sink_project(self: _Host, project_id: UUID) -> SinkProject:
        """The current state of a sink project."""
        return self._load(project_id, SinkProject)

    def sink_deadlines(self: _Host, project_id: UUID) -> list[tuple[Deadline, DeadlineState]]:
        """The project's R10 deadlines with their state today (the injected clock)."""
        today = self.clock().date()
        return [(d, d.state(today)) for d in self.sink_project(project_id).deadlines()]

    def _past(self: _Host, on: datetime.date | None) -> datetime.date:
        today = self.clock().date()
        if on is None:
            return today
        if on > today:
            raise InvalidInputError(f"date {on} is in the future (today is {today})", rule="R10")
        return on


def _issue_removals(
    host: _Host,
    registry: Signer,
    project_id: UUID,
    serials: SerialRange,
    holder: str,
    methodology: str,
    unit: Decimal | int,
) -> UUID:
    project = host._load(project_id, SinkProject)
    kind = "inclusion-forest" if project.ecosystem is Ecosystem.FOREST else "inclusion-marine"
    today = host.clock().date()
    batch = CreditBatch.issue(
        registry=registry.actor,
        instrument=kind,
        vintage=(project.measured or today).year,
        project=f"{project.name} (sink project {project.id})",
        province="Shandong",
        methodology=methodology,
        serials=serials,
        holder=holder,
        today=today,
        unit=unit,
        parcels=project.parcels,
        source_project=str(project.id),
        bound_event=project.event_name,
    )
    tonnes = batch.tonnes(serials.quantity)
    project.record_issuance(batch=str(batch.id), tonnes=tonnes, by=registry.actor)
    host._save(registry, project, batch)
    return batch.id
