"""The kinds of signed events (topics), one namespace per aggregate: plain constants.

Rules: a topic names an event kind and its version and never changes once signed; the
verifier (:mod:`ledger.audit`) reads these without loading the aggregates.
"""

from __future__ import annotations

__all__ = ["Batch", "Event", "Sink"]


class Batch:
    """Credit-batch events (CreditBatch)."""

    ISSUED = "ledger.credit-batch.issued.v1"
    TRANSFERRED = "ledger.credit-batch.transferred.v1"
    DONATED = "ledger.credit-batch.donated.v1"
    SPLIT = "ledger.credit-batch.split.v1"
    RESERVED = "ledger.credit-batch.reserved.v1"
    RELEASED = "ledger.credit-batch.released.v1"
    RETIRED = "ledger.credit-batch.retired.v1"
    EXPORTED = "ledger.credit-batch.exported.v1"
    ALL = (ISSUED, TRANSFERRED, DONATED, SPLIT, RESERVED, RELEASED, RETIRED, EXPORTED)


class Sink:
    """Sink-project events (SinkProject, the SPEC's ForestSinkProject)."""

    REGISTERED = "ledger.sink-project.registered.v1"
    BOUND = "ledger.sink-project.bound.v1"
    APPLICATION_FILED = "ledger.sink-project.application-filed.v1"
    VALIDATED = "ledger.sink-project.validated.v1"
    MEASURED = "ledger.sink-project.measured.v1"
    REMOVALS_ISSUED = "ledger.sink-project.removals-issued.v1"
    ALL = (REGISTERED, BOUND, APPLICATION_FILED, VALIDATED, MEASURED, REMOVALS_ISSUED)


class Event:
    """Event-neutralization events (EventNeutralization)."""

    REGISTERED = "ledger.event.registered.v1"
    PLANNED = "ledger.event.plan-published.v1"
    MEASURED = "ledger.event.measure-recorded.v1"
    MEASURE_REPORTED = "ledger.event.measure-reported.v1"
    ACCOUNTED = "ledger.event.accounted.v1"
    ALLOCATED = "ledger.event.offset-allocated.v1"
    RETIRED = "ledger.event.offset-retired.v1"
    COMMITTED = "ledger.event.committed.v1"
    EVALUATED = "ledger.event.evaluated.v1"
    CONFIRMED = "ledger.event.confirmed.v1"
    ALL = (
        REGISTERED,
        PLANNED,
        MEASURED,
        MEASURE_REPORTED,
        ACCOUNTED,
        ALLOCATED,
        RETIRED,
        COMMITTED,
        EVALUATED,
        CONFIRMED,
    )
