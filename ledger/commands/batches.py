"""Credit-batch commands and queries (R7, R8, R11): issue, move, reserve, retire, export.

Rules:
- Every command takes the acting :class:`~ledger.audit.keys.Signer` explicitly; its events are
  signed by that key, whose role must allow them (:mod:`ledger.audit.policy`) and whose actor
  the domain rules must allow (only the holder moves or retires its units).
- A command either saves all its events or raises a LedgerError and saves nothing. When another
  writer saved the same batch first, the command is re-read and re-run (a few times).
- Queries rebuild from verified events; certificates are folded from the signed history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.audit.certificate import Certificate, Trail, certificate_of, followed
from ledger.audit.envelope import Entry
from ledger.audit.keys import Signer
from ledger.commands._context import Context
from ledger.domain import credit_batch
from ledger.domain._units import UnitState
from ledger.domain.credit_batch import CreditBatch, replay_checked
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange
from ledger.errors import NotFoundError
from ledger.projections.provenance import Step, provenance
from ledger.store import retrying

__all__ = ["BatchCommands"]

_KEPT_TRAILS = 256


class BatchCommands:
    """Commands and queries for credit batches."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._store = context.store
        self._trails: dict[UUID, tuple[int, Trail]] = {}

    # Commands -------------------------------------------------------------------------------

    def issue_batch(
        self,
        signer: Signer,
        *,
        instrument: str,
        vintage: int,
        project: str,
        province: str,
        methodology: str,
        serials: SerialRange,
        holder: str,
        unit: Decimal | int = 1,
        parcels: Sequence[Parcel] = (),
    ) -> UUID:
        """Issue a block of serial units to ``holder``; ``signer`` is the registry's key (R7).

        ``parcels`` are the land or sea areas the credits come from (for forestry and marine
        projects, also when imported from another registry): none may be an area already used
        (R9).

        Returns:
            The new batch's id.
        """
        self._context.account(holder)

        def attempt() -> UUID:
            batch = CreditBatch.issue(
                registry=signer.actor,
                instrument=instrument,
                vintage=vintage,
                project=project,
                province=province,
                methodology=methodology,
                serials=serials,
                holder=holder,
                today=self._context.today(),
                unit=unit,
                parcels=parcels,
            )
            self._store.save(signer, batch)
            return batch.id

        return retrying(attempt)

    def transfer(self, signer: Signer, batch_id: UUID, serials: SerialRange, *, to: str) -> None:
        """Move held units of a batch to the account ``to``."""
        self._context.account(to)
        self._update(signer, batch_id, lambda b: b.transfer(serials, by=signer.actor, to=to))

    def donate(self, signer: Signer, batch_id: UUID, serials: SerialRange, *, to: str) -> None:
        """Give held units to the account ``to``; the donor appears on certificates (R7)."""
        self._context.account(to)
        self._update(signer, batch_id, lambda b: b.donate(serials, by=signer.actor, to=to))

    def split(self, signer: Signer, batch_id: UUID, at: int) -> None:
        """Divide the holding that contains serial ``at`` into two, the second from ``at``."""
        self._update(signer, batch_id, lambda b: b.split(at, by=signer.actor))

    def reserve(
        self, signer: Signer, batch_id: UUID, serials: SerialRange, *, event_name: str
    ) -> None:
        """Set held units aside for an event's neutralization."""
        self._update(
            signer, batch_id, lambda b: b.reserve(serials, by=signer.actor, event_name=event_name)
        )

    def release(
        self, signer: Signer, batch_id: UUID, serials: SerialRange, *, event_name: str
    ) -> None:
        """Release units reserved for ``event_name`` back to the holder."""
        self._update(
            signer, batch_id, lambda b: b.release(serials, by=signer.actor, event_name=event_name)
        )

    def retire(
        self,
        signer: Signer,
        batch_id: UUID,
        serials: SerialRange,
        *,
        beneficiary: str,
        reason: str,
        event_name: str | None = None,
    ) -> Certificate:
        """Retire units for good, for an event and/or a beneficiary (R11).

        Returns:
            The retirement certificate.
        """
        version = self._update(
            signer,
            batch_id,
            lambda b: b.retire(
                serials,
                by=signer.actor,
                beneficiary=beneficiary,
                reason=reason,
                event_name=event_name,
            ),
        )
        return self.certificate(batch_id, version)

    def export(
        self,
        signer: Signer,
        batch_id: UUID,
        serials: SerialRange,
        *,
        target_registry: str,
        reason: str,
    ) -> None:
        """Cancel held units here for export to another registry (R11)."""
        self._update(
            signer,
            batch_id,
            lambda b: b.export(
                serials, by=signer.actor, target_registry=target_registry, reason=reason
            ),
        )

    # Queries --------------------------------------------------------------------------------

    def batch(self, batch_id: UUID) -> CreditBatch:
        """The current state of a batch, rebuilt from its verified events."""
        return self._store.load(batch_id, CreditBatch)

    def recheck(self, batch_id: UUID) -> CreditBatch:
        """Rebuild a batch from its verified events, re-checking every domain rule on the way.

        Raises:
            LedgerError: the first event that breaks a signature, the chain or a rule.
        """
        events = self._store.events(batch_id)
        if not events:
            raise NotFoundError(f"no credit batch {batch_id}")
        return replay_checked(events)

    def batch_list(self) -> list[CreditBatch]:
        """Every credit batch, folded in memory from the verified history, in issuance order.

        Read-only: nothing is written to the store (no read model is kept).
        """
        batches: dict[UUID, CreditBatch] = self._store.aggregates(credit_batch.TOPICS)
        return list(batches.values())

    def holdings(self, account: str | None = None) -> list[tuple[str, UUID, str, int]]:
        """Units per (account, batch, state): held, reserved, retired or exported.

        Folded in memory from the verified history (nothing written); ``account`` limits the
        rows to one account. Rows are sorted by account, then batch issuance order, then state.

        Returns:
            (account, batch id, state, units) rows.
        """
        rows: dict[tuple[str, UUID, str], int] = {}
        for batch in self.batch_list():
            for lot in batch.lots():
                if account is not None and lot.account != account:
                    continue
                key = (lot.account, batch.id, lot.state.value)
                rows[key] = rows.get(key, 0) + lot.serials.quantity
        order = {batch_id: n for n, batch_id in enumerate(dict.fromkeys(k[1] for k in rows))}
        return [
            (who, batch_id, state, units)
            for (who, batch_id, state), units in sorted(
                rows.items(), key=lambda item: (item[0][0], order[item[0][1]], item[0][2])
            )
        ]

    def held_ranks(self, account: str) -> dict[UUID, int]:
        """Batches in which ``account`` holds free units, with each batch's R8 rank."""
        batches = self._store.aggregates(credit_batch.TOPICS)
        return {
            batch_id: batch.priority_rank
            for batch_id, batch in batches.items()
            if any(lot.state is UnitState.HELD and lot.account == account for lot in batch.lots())
        }

    def history(self, batch_id: UUID, *, upto: int | None = None) -> list[Entry]:
        """The verified signed entries of a batch, from issuance (up to version ``upto``)."""
        entries = self._store.entries(batch_id, upto=upto)
        if not entries:
            raise NotFoundError(f"no credit batch {batch_id}")
        return entries

    def provenance(self, batch_id: UUID, serial: int) -> list[Step]:
        """Every event in the life of one serial unit, from issuance (R11)."""
        steps = provenance(self.history(batch_id), serial)
        if not steps:
            raise NotFoundError(f"serial {serial} is not in batch {batch_id}")
        return steps

    def certificate(self, batch_id: UUID, version: int) -> Certificate:
        """The certificate of the retirement saved as version ``version`` of the batch.

        The batch's trail (issuance and moves) is kept and followed from where it was, so a
        certificate costs the entries since the last one, not the whole history.
        """
        kept = self._trails.get(batch_id)
        after = kept[0] if kept is not None and kept[0] < version else 0
        entries = self._store.kept_entries(batch_id, version, after=after)
        if not entries and after == 0:
            raise NotFoundError(f"no credit batch {batch_id}")
        trail = followed(kept[1] if after and kept else None, entries[:-1])
        retirement = entries[-1] if entries else None
        if (
            trail is None
            or retirement is None
            or retirement.version != version
            or retirement.topic != credit_batch.RETIRED
        ):
            raise NotFoundError(f"version {version} of batch {batch_id} is not a retirement")
        self._trails[batch_id] = (version - 1, trail)
        while len(self._trails) > _KEPT_TRAILS:
            self._trails.pop(next(iter(self._trails)))
        return certificate_of(trail, retirement)

    def _update(self, signer: Signer, batch_id: UUID, action: Callable[[CreditBatch], Any]) -> int:
        return self._store.update(signer, batch_id, CreditBatch, action)
