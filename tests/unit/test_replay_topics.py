"""The replay refuses a signed creating event that names another aggregate class (SPEC 5a).

A registry-key holder could sign an ``Issued`` event whose ``originator_topic`` names any
importable class; replaying it would load that module and build the wrong aggregate.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain.credit_batch import ISSUED, CreditBatch
from ledger.domain.replay import domain_event, replay_event
from ledger.errors import TamperError


def issued_fields(originator_topic: str) -> dict[str, Any]:
    return {
        "originator_topic": originator_topic,
        "timestamp": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        "registry": "reg",
        "instrument": "ccer",
        "vintage": 2023,
        "project": "P",
        "province": "Shandong",
        "methodology": "M",
        "unit": Decimal(1),
        "serial_start": 1,
        "serial_end": 10,
        "holder": "h",
        "parcels": [],
        "source_project": None,
        "bound_event": None,
        "actor": "reg",
    }


def test_an_issuance_naming_its_own_aggregate_class_replays_into_a_credit_batch() -> None:
    event = domain_event(ISSUED, uuid.uuid4(), 1, issued_fields(CreditBatch.TOPIC))
    assert isinstance(replay_event(None, event), CreditBatch)


@pytest.mark.parametrize(
    "named",
    [
        "eventsourcing.domain:Aggregate",
        "ledger.domain.sink_project:SinkProject",
        "no_such_module_anywhere:X",
    ],
)
def test_an_issuance_naming_another_aggregate_class_is_refused_as_tampered(named: str) -> None:
    with pytest.raises(TamperError, match="creates an aggregate of class"):
        domain_event(ISSUED, uuid.uuid4(), 1, issued_fields(named))
