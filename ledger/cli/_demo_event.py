"""The demo's event: a 1,200-participant forum in Jinan, from registration to confirmation.

Dates are simulated with an injected clock (plan in April, event in May, accounting and
confirmation in June 2026); signatures and timestamps are real.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger import Organiser, SerialRange
from ledger.accounting import FactorTable
from ledger.audit import Certificate, Signer

if TYPE_CHECKING:
    from ledger import Ledger

__all__ = ["EVENT", "SimulatedClock", "neutralize_forum"]

EVENT = "2026 Jinan Green Development Forum"
TZ = datetime.timezone(datetime.timedelta(hours=8))
STARTS = datetime.datetime(2026, 5, 20, 9, tzinfo=TZ)
ENDS = datetime.datetime(2026, 5, 22, 18, tzinfo=TZ)


class SimulatedClock:
    """A clock the demo moves along the event's timeline."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 4, 1, 10, tzinfo=TZ)

    def __call__(self) -> datetime.datetime:
        return self.now


def _batches(ledger: Ledger, s: dict[str, Signer]) -> dict[str, UUID]:
    organiser, sponsor = s["organiser"].actor, s["sponsor"].actor
    facts: dict[str, Any] = {"vintage": 2025, "methodology": "demo methodology"}
    forest = ledger.issue_batch(
        s["registry"],
        instrument="inclusion-forest",
        project="Mount Tai afforestation sink",
        province="Shandong",
        serials=SerialRange(100_001, 100_300),
        holder=organiser,
        **facts,
    )
    marine = ledger.issue_batch(
        s["registry"],
        instrument="inclusion-marine",
        project="Rongcheng kelp marine sink",
        province="Shandong",
        serials=SerialRange(200_001, 200_050),
        holder=organiser,
        **facts,
    )
    hebei = ledger.issue_batch(
        s["ccer"],
        instrument="ccer",
        project="Hebei wind farm CCER",
        province="Hebei",
        serials=SerialRange(1_000_001, 1_000_100),
        holder=sponsor,
        **facts,
    )
    ledger.donate(s["sponsor"], hebei, SerialRange(1_000_001, 1_000_015), to=organiser)
    return {"forest": forest, "marine": marine, "hebei": hebei}


def _plan(ledger: Ledger, organiser: Signer, event: UUID) -> None:
    ledger.publish_plan(
        organiser,
        event,
        boundary=[
            "purchased-electricity",
            "transport-air",
            "transport-rail",
            "transport-road",
            "transport-taxi",
            "lodging",
        ],
        estimates={
            "purchased-electricity": Decimal("115"),
            "transport-air": Decimal("55"),
            "transport-rail": Decimal("15"),
            "lodging": Decimal("95"),
        },
        measures=["shuttle buses instead of private cars", "no single-use cups"],
        offsets=[
            {"instrument": "inclusion-forest", "province": "Shandong"},
            {"instrument": "inclusion-marine", "province": "Shandong"},
        ],
    )
    ledger.record_measure(
        organiser,
        event,
        kind="clean-energy-transport",
        description="electric shuttle buses between hotels and venue",
        expected_tonnes=Decimal("4.5"),
    )
    ledger.record_measure(
        organiser,
        event,
        kind="fewer-disposables",
        description="reusable cups and badges",
        expected_tonnes=Decimal("0.8"),
    )


def _account(ledger: Ledger, organiser: Signer, event: UUID) -> Decimal:
    factors = FactorTable.default()
    lines = [
        factors["electricity-shandong-2022"].line(Decimal("180000")),
        factors["air-domestic"].line(Decimal("450000")),
        factors["rail-high-speed"].line(Decimal("480000")),
        factors["coach"].line(Decimal("72000")),
        factors["taxi"].line(Decimal("8000")),
        factors["hotel-room-night-china"].line(Decimal("1700")),
    ]
    ledger.report_measure(organiser, event, number=1, achieved_tonnes=Decimal("4.1"))
    ledger.report_measure(organiser, event, number=2, achieved_tonnes=Decimal("0.6"))
    return ledger.account_emissions(organiser, event, lines)


def neutralize_forum(
    ledger: Ledger, s: dict[str, Signer], clock: SimulatedClock
) -> tuple[UUID, list[Certificate]]:
    """Run the forum from registration to confirmation; return its id and certificates."""
    organiser = s["organiser"]
    batches = _batches(ledger, s)
    event = ledger.register_event(
        organiser,
        kind="forum",
        name=EVENT,
        organisers=[
            Organiser("Jinan Municipal People's Government (demo)", "party-government-organ"),
            Organiser("Jinan Green Development Association (demo)", "social-organisation"),
        ],
        venue="Jinan International Expo Center",
        starts=STARTS,
        ends=ENDS,
        participants=1200,
    )
    _plan(ledger, organiser, event)
    clock.now = datetime.datetime(2026, 6, 5, 10, tzinfo=TZ)
    _account(ledger, organiser, event)
    ledger.allocate_offsets(organiser, event, batches["forest"], SerialRange(100_001, 100_240))
    ledger.allocate_offsets(organiser, event, batches["marine"], SerialRange(200_001, 200_020))
    ledger.allocate_offsets(
        organiser,
        event,
        batches["hebei"],
        SerialRange(1_000_001, 1_000_015),
        reason="CCERs donated by a sponsor; Shandong carbon-inclusion volume kept for later events",
    )
    certificates = ledger.retire_offsets(organiser, event)
    clock.now = datetime.datetime(2026, 6, 15, 10, tzinfo=TZ)
    accounted = ledger.event(event).accounted or Decimal(0)
    ledger.evaluate_event(
        s["verifier"],
        event,
        conclusion="neutral",
        verified_tonnes=accounted,
        report="third-party evaluation report JN-GDF-2026-01 (demo)",
    )
    clock.now = datetime.datetime(2026, 6, 20, 10, tzinfo=TZ)
    ledger.confirm_event(organiser, event)
    return event, certificates
