"""Large imports are all or nothing, on SQLite and PostgreSQL (issue 13: set-based imports, R12).

The pages of an import are written as it goes, in one transaction; these tests make the pages
small so that several are written before the bad row, and check that nothing is left.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ledger import ImportRowsError, KeyDirectory, Ledger, LedgerError, Signer
from ledger.audit.trust import TrustRoot
from ledger.commands import interchange
from ledger.store import _application

from conftest import Backend, checkpointed

ROWS = 2000
HEADER = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
)
TABLES = ("ledger_events", "ledger_log", "ledger_log_nodes", "ledger_serial_blocks")


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interchange, "IMPORT_PAGE", 300)
    monkeypatch.setattr(_application, "IMPORT_PAGE", 300)


def _row(n: int, holder: str, unit: str = "1") -> str:
    start = n * 10 + 1
    return f"ccer,2024,BULK-{n},Shandong,CM-001,{start},{start + 9},{holder},{unit},\n"


def _csv(rows: int, holder: str, first: int = 0) -> list[str]:
    return [_row(n, holder) for n in range(first, first + rows)]


def _counts(backend: Backend) -> dict[str, int]:
    prefix = f"{backend.schema}." if backend.schema else ""
    return {t: backend.execute(f"SELECT count(*) FROM {prefix}{t}")[0][0] for t in TABLES}


def test_a_2000_row_csv_with_a_bad_field_near_the_end_writes_nothing_and_names_it(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    ledger.import_batches_csv(registry, io.StringIO(HEADER + _row(10**6, organiser.actor)))
    before = _counts(backend)
    rows = _csv(ROWS, organiser.actor)
    rows[ROWS - 10] = _row(ROWS - 10, organiser.actor, unit="0.1")
    with pytest.raises(ImportRowsError) as caught:
        ledger.import_batches_csv(registry, io.StringIO(HEADER + "".join(rows)))
    assert caught.value.rows == [
        (ROWS - 8, "R7: ccer is issued in whole tonnes; unit 0.1 is not allowed")
    ]
    assert _counts(backend) == before


def test_a_2000_row_csv_whose_last_row_overlaps_the_store_writes_nothing(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    (earlier,) = ledger.import_batches_csv(registry, io.StringIO(HEADER + _row(5, organiser.actor)))
    before = _counts(backend)
    rows = [*_csv(ROWS - 1, organiser.actor, first=10), _row(5, organiser.actor)]
    with pytest.raises(ImportRowsError) as caught:
        ledger.import_batches_csv(registry, io.StringIO(HEADER + "".join(rows)))
    ((number, message),) = caught.value.rows
    assert number == ROWS + 1
    assert message == f"R11: serials 51-60 overlap batch {earlier} (51-60) already in the ledger"
    assert _counts(backend) == before
    ids = ledger.import_batches_csv(registry, io.StringIO(HEADER + "".join(rows[:-1])))
    assert len(ids) == ROWS - 1
    assert _counts(backend)["ledger_events"] == ROWS


def test_every_bad_row_of_a_2000_row_csv_is_named_even_after_pages_were_written(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    before = _counts(backend)
    rows = _csv(ROWS, organiser.actor)
    rows[1500] = _row(1400, organiser.actor).replace("BULK-1400", "AGAIN")
    rows[1900] = _row(1900, "nobody")
    with pytest.raises(ImportRowsError) as caught:
        ledger.import_batches_csv(registry, io.StringIO(HEADER + "".join(rows)))
    assert [n for n, _ in caught.value.rows] == [1502, 1902]
    assert "overlap serials 14001-14010 of row 1402" in caught.value.rows[0][1]
    assert _counts(backend) == before


@pytest.fixture(scope="module")
def long_history(
    tmp_path_factory: pytest.TempPathFactory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> list[str]:
    path: Path = tmp_path_factory.mktemp("history") / "source.db"
    with Ledger(path, root) as source:
        source.import_batches_csv(
            registry, io.StringIO(HEADER + "".join(_csv(ROWS, organiser.actor)))
        )
        checkpointed(source, log_signer, witness)
        out = io.StringIO()
        source.export_history(out)
    return out.getvalue().splitlines(keepends=True)


def test_a_2000_event_history_with_a_changed_line_near_the_end_writes_nothing(
    backend: Backend, long_history: list[str]
) -> None:
    lines = list(long_history)
    at = len(lines) - 5  # an event line: the header, a root, 2,000 events, the checkpoint
    assert '"kind": "event"' in lines[at]
    lines[at] = lines[at].replace('"version": 1', '"version": 2')
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(LedgerError, match=rf"row {at + 1}: log entry {at - 1}, .* version 2"):
            copy.import_history(io.StringIO("".join(lines)))
        assert copy.trust_roots() == []
    assert all(count == 0 for count in _counts(backend).values())


def test_a_2000_event_history_read_from_a_stream_imports_whole(
    backend: Backend, long_history: list[str], root: TrustRoot
) -> None:
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        assert copy.import_history(line.encode() for line in long_history) == ROWS
        assert copy.audit(root).events == ROWS
    assert _counts(backend)["ledger_log"] == ROWS + 1
