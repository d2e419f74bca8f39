"""CreditBatch: one issuance of serial units by one registry, and what happens to each unit.

Rules (SPEC section 4, R7, R11):
- Only a registry issues, and the issuing actor is the registry (the role check of the key is
  the application's, see ``ledger._app``).
- A retirement covers units of this batch only, held by the acting account, never retired
  before (R11: a unit is cancelled once, for one stated use).
- Commands validate and raise before any event is emitted; ``@event`` bodies only apply, because
  they run again on every replay.
- Every event names its ``actor``: the signer of the event must be that actor's key.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from ledger.domain._units import Lot, UnitMap, UnitState
from ledger.domain.values import Instrument, SerialRange, require_text, require_year
from ledger.errors import AuthorizationError, RuleViolationError

__all__ = ["ISSUED", "RETIRED", "CreditBatch"]

ISSUED = "ledger.credit-batch.issued.v1"
RETIRED = "ledger.credit-batch.retired.v1"


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
        serials: SerialRange,
        holder: str,
    ) -> CreditBatch:
        """Issue ``serials`` to ``holder``; the registry is the acting party."""
        return cls(
            registry=require_text("registry", registry),
            instrument=Instrument.parse(instrument).value,
            vintage=require_year("vintage", vintage),
            project=require_text("project", project),
            serial_start=serials.start,
            serial_end=serials.end,
            holder=require_text("holder", holder),
            actor=registry,
        )

    @event("Issued", topic=ISSUED)
    def __init__(
        self,
        *,
        registry: str,
        instrument: str,
        vintage: int,
        project: str,
        serial_start: int,
        serial_end: int,
        holder: str,
        actor: str,
    ) -> None:
        self.registry = registry
        self.instrument = Instrument(instrument)
        self.vintage = vintage
        self.project = project
        self.serials = SerialRange(serial_start, serial_end)
        self.units = UnitMap.issued(self.serials, holder)

    def retire(
        self, serials: SerialRange, *, by: str, event_name: str, beneficiary: str, reason: str
    ) -> None:
        """Retire ``serials`` for ``event_name`` on behalf of ``beneficiary`` (R11)."""
        self._require_held_by(serials, by)
        self._retired(
            serial_start=serials.start,
            serial_end=serials.end,
            actor=by,
            event_name=require_text("event name", event_name),
            beneficiary=require_text("beneficiary", beneficiary),
            reason=require_text("reason", reason),
        )

    @event("Retired", topic=RETIRED)
    def _retired(
        self,
        *,
        serial_start: int,
        serial_end: int,
        actor: str,
        event_name: str,
        beneficiary: str,
        reason: str,
    ) -> None:
        retired = SerialRange(serial_start, serial_end)
        self.units = self.units.assign(retired, UnitState.RETIRED, actor)

    def lots(self) -> tuple[Lot, ...]:
        """Every run of units with its state and account."""
        return self.units.lots

    def _require_held_by(self, serials: SerialRange, account: str) -> None:
        if not self.serials.contains(serials):
            raise RuleViolationError(
                f"units {serials} are not all in batch {self.id} (serials {self.serials})",
                rule="R11",
            )
        for lot in self.units.within(serials):
            if lot.state is UnitState.RETIRED:
                raise RuleViolationError(
                    f"units {lot.serials} of batch {self.id} are already retired", rule="R11"
                )
            if lot.account != account:
                raise AuthorizationError(
                    f"units {lot.serials} of batch {self.id} are held by {lot.account!r},"
                    f" not {account!r}; only the holder may retire them",
                    rule="R11",
                )

    def __repr__(self) -> str:
        return f"CreditBatch(id={self.id}, registry={self.registry!r}, serials={self.serials})"
