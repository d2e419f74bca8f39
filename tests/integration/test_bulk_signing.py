"""A CSV import builds and signs its events faster, and writes the very bytes it wrote before.

Issue 13: a row's ``Issued`` event is built without the aggregate machinery and, in a big
import, signed by a pool of processes; both must give the bytes of the ordinary path (the
aggregate's event signed by the store's own mapper), and a refused signer is still refused.
"""

from __future__ import annotations

import datetime
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger import AuthorizationError, ImportRowsError, KeyDirectory, Ledger, LedgerError, Signer
from ledger.audit._sigpool import VerifierPool
from ledger.audit.trust import TrustRoot
from ledger.commands import Context, interchange
from ledger.domain.credit_batch import CreditBatch
from ledger.domain.parcels import Parcel
from ledger.domain.values import SerialRange
from ledger.store import _application
from ledger.store._signpool import SigningPool, signed

from conftest import Backend, checkpointed

HEADER = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
)
ROW = {
    "instrument": "cea",
    "vintage": "2023",
    "project": "P-1",
    "province": "Shandong",
    "methodology": "CM-001",
    "serial_start": "11",
    "serial_end": "20",
    "holder": "",
    "unit": "1",
    "parcels": "",
}


def _mapper(ledger: Ledger) -> Any:
    return ledger.store._app.store.mapper


def _rows(count: int, holder: str) -> str:
    lines = [
        f"ccer,2024,SIGN-{n},Shandong,CM-001,{n * 10 + 1},{n * 10 + 10},{holder},1,\n"
        for n in range(count)
    ]
    return HEADER + "".join(lines)


@pytest.fixture
def fixed_id_and_time(monkeypatch: pytest.MonkeyPatch) -> tuple[uuid.UUID, datetime.datetime]:
    """Both paths draw the same new id and the same time."""
    made = (uuid.UUID(int=42), datetime.datetime(2025, 3, 4, 5, 6, 7, 890123, datetime.UTC))
    monkeypatch.setattr(CreditBatch, "create_id", staticmethod(lambda *_, **__: made[0]))
    issued = CreditBatch.Issued  # type: ignore[attr-defined]
    monkeypatch.setattr(issued, "create_timestamp", staticmethod(lambda: made[1]))
    return made


@pytest.mark.parametrize(
    ("instrument", "unit", "parcels"),
    [("cea", "1", ""), ("inclusion-forest", "0.01", "330100;330102-07")],
)
def test_a_rows_issued_event_signs_to_the_very_bytes_of_the_aggregates_event(
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    fixed_id_and_time: tuple[uuid.UUID, datetime.datetime],
    instrument: str,
    unit: str,
    parcels: str,
) -> None:
    row = ROW | {"instrument": instrument, "unit": unit, "parcels": parcels}
    row["holder"] = organiser.actor
    today = datetime.date(2025, 6, 1)
    serials = SerialRange(11, 20)
    fast = interchange._issued(Context(ledger.store, ledger.clock), registry, row, serials, today)
    batch = CreditBatch.issue(
        registry=registry.actor,
        instrument=instrument,
        vintage=2023,
        project="P-1",
        province="Shandong",
        methodology="CM-001",
        serials=serials,
        holder=organiser.actor,
        today=today,
        unit=Decimal(unit),
        parcels=[Parcel.of(p) for p in parcels.split(";") if p],
    )
    (slow,) = batch.collect_events()
    mapper = _mapper(ledger)
    assert fast == slow
    assert mapper.sign(fast, registry).state == mapper.sign(slow, registry).state
    assert mapper.sign(fast, registry).topic == mapper.sign(slow, registry).topic


def test_the_signing_pool_writes_the_bytes_the_store_signs_a_page_to(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    today = datetime.date(2025, 6, 1)
    rows = [
        (
            ROW | {"holder": organiser.actor, "project": f"P-{n}"},
            SerialRange(n * 10 + 1, n * 10 + 10),
        )
        for n in range(600)
    ]
    events = [
        interchange._issued(Context(ledger.store, ledger.clock), registry, r, s, today)
        for r, s in rows
    ]
    mapper = _mapper(ledger)
    pool = SigningPool(registry, ledger.store.keys)
    try:
        chunks = pool.submit(events)
        from_pool = [stored for chunk, future in chunks for stored in signed(chunk, future) or []]
    finally:
        pool.close()
    assert len(chunks) == 3
    assert from_pool == [mapper.sign(event, registry) for event in events]


def test_a_big_csv_signed_by_a_key_that_may_not_issue_is_refused_as_before_and_writes_nothing(
    backend: Backend,
    ledger: Ledger,
    organiser: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interchange, "IMPORT_PAGE", 100)
    monkeypatch.setattr(_application, "IMPORT_PAGE", 100)
    with pytest.raises(AuthorizationError) as pooled:
        ledger.import_batches_csv(organiser, io.StringIO(_rows(250, organiser.actor)))
    with pytest.raises(AuthorizationError) as alone:
        ledger.import_batches_csv(organiser, io.StringIO(_rows(5, organiser.actor)))
    assert str(pooled.value) == str(alone.value)
    prefix = f"{backend.schema}." if backend.schema else ""
    assert backend.execute(f"SELECT count(*) FROM {prefix}ledger_events")[0][0] == 0


@pytest.fixture
def pooled_history(
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """A history of 40 events, imported with a verifier pool (it starts from 10 entries)."""
    monkeypatch.setattr(interchange, "POOL_FROM", 10)
    with Ledger(tmp_path / "source.db", root) as source:
        source.import_batches_csv(registry, io.StringIO(_rows(40, organiser.actor)))
        checkpointed(source, log_signer, witness)
        out = io.StringIO()
        source.export_history(out)
    return out.getvalue().splitlines(keepends=True)


def test_a_history_imported_with_a_verifier_pool_audits_whole(
    backend: Backend, pooled_history: list[str], root: TrustRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[VerifierPool] = []

    def pool(keys: dict[str, bytes]) -> VerifierPool:
        started.append(VerifierPool(keys))
        return started[-1]

    monkeypatch.setattr(interchange, "VerifierPool", pool)
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        assert copy.import_history(io.StringIO("".join(pooled_history))) == 40
        assert copy.audit(root).events == 40
    assert len(started) == 1
    assert set(started[0].keys) == {key.keyid for key in root.keys}


def test_a_history_with_a_signature_of_another_event_is_refused_with_a_verifier_pool(
    backend: Backend, pooled_history: list[str]
) -> None:
    lines = list(pooled_history)
    at = len(lines) - 6  # an event line: the header, a root, 40 events, the checkpoint
    theirs, ours = json.loads(lines[at - 1]), json.loads(lines[at])
    ours["envelope"]["signatures"] = theirs["envelope"]["signatures"]
    lines[at] = json.dumps(ours) + "\n"
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(LedgerError, match=rf"row {at + 1}: .* does not verify"):
            copy.import_history(io.StringIO("".join(lines)))
        assert copy.trust_roots() == []
    prefix = f"{backend.schema}." if backend.schema else ""
    assert backend.execute(f"SELECT count(*) FROM {prefix}ledger_events")[0][0] == 0


def test_an_event_line_the_first_read_only_recognised_is_still_parsed_and_refused(
    tmp_path: Path, pooled_history: list[str]
) -> None:
    lines = list(pooled_history)
    at = 10
    lines[at] = lines[at].replace('"envelope": {', '"envelope": {"extra": 1, ', 1)
    with Ledger(tmp_path / "copy.db", KeyDirectory()) as copy:
        with pytest.raises(ImportRowsError) as caught:
            copy.import_history(io.StringIO("".join(lines)))
        assert copy.trust_roots() == []
    ((number, _),) = caught.value.rows
    assert number == at + 1


def test_an_event_line_after_the_checkpoints_or_before_any_root_is_refused_by_the_first_read(
    tmp_path: Path, pooled_history: list[str]
) -> None:
    header, root_line, *events, checkpoint = pooled_history
    late = [header, root_line, *events[1:], checkpoint, events[0]]
    early = [header, events[0], root_line, *events[1:], checkpoint]
    with Ledger(tmp_path / "copy.db", KeyDirectory()) as copy:
        with pytest.raises(ImportRowsError) as caught:
            copy.import_history(io.StringIO("".join(late)))
        assert caught.value.rows == [(len(late), "log entries must come before the checkpoints")]
        with pytest.raises(LedgerError, match="does not begin with a trust root"):
            copy.import_history(io.StringIO("".join(early)))
        assert copy.trust_roots() == []
