"""Interchange with other registry systems, on SQLite and PostgreSQL (issue 7, R12)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ledger import ImportRowsError, KeyDirectory, Ledger, LedgerError, SerialRange, Signer
from ledger.audit.trust import TrustRoot

from conftest import Backend, checkpointed, issue


@pytest.fixture
def exported(
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
) -> tuple[str, dict[str, object]]:
    with Ledger(tmp_path / "source.db", root) as source:
        batch = issue(source, registry, organiser, 1, 500)
        source.transfer(organiser, batch, SerialRange(1, 100), to=stranger.actor)
        certificate = source.retire(
            stranger, batch, SerialRange(1, 40), beneficiary="b", reason="r"
        )
        checkpointed(source, log_signer, witness)
        out = io.StringIO()
        steps: list[tuple[int, int]] = []
        source.export_history(out, lambda done, total: steps.append((done, total)))
        facts = {
            "progress": steps,
            "batch": batch,
            "lots": source.batch(batch).lots(),
            "certificate": certificate,
            "root": source.audit(root).log_root,
        }
    return out.getvalue(), facts


def test_an_exported_history_imports_into_an_empty_store_and_audits_the_same(
    backend: Backend, exported: tuple[str, dict[str, object]], root: TrustRoot
) -> None:
    text, facts = exported
    verified: list[tuple[int, int]] = []
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        assert copy.import_history(io.StringIO(text), lambda *p: verified.append(p)) == 3
        assert copy.audit(root).log_root == facts["root"]
        assert verified == facts["progress"] == [(1, 4), (2, 4), (3, 4), (4, 4)]
        batch = facts["batch"]
        assert copy.batch(batch).lots() == facts["lots"]  # type: ignore[arg-type]
        assert copy.certificate(batch, 3) == facts["certificate"]  # type: ignore[arg-type]


def test_a_changed_line_imports_nothing(
    backend: Backend, exported: tuple[str, dict[str, object]]
) -> None:
    text, _ = exported
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace('"version": 2', '"version": 3')
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(
            LedgerError, match=r"row 4: log entry 2, .* version 3: stored here, but signed as .*2"
        ):
            copy.import_history(io.StringIO("".join(lines)))
        assert copy.trust_roots() == []
    count = backend.execute("SELECT count(*) FROM {table}")[0][0]
    assert count == 0


CSV_HEADER = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
)


def test_a_csv_with_one_bad_row_imports_nothing_and_names_the_row(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    holder = organiser.actor
    text = (
        CSV_HEADER
        + f"ccer,2024,P-1,Shandong,CM-001,1,100,{holder},1,\n"
        + f"ccer,2024,P-2,Shandong,CM-001,101,200,{holder},0.1,\n"
        + f"ccer,2024,P-3,Shandong,CM-001,150,250,{holder},1,\n"
        + f"cea,2024,P-4,Shandong,CM-001,300,200,{holder},1,\n"
        + "inclusion-other,2025,P-5,Shandong,CM-001,400,499,nobody,0.001,LAND-1;LAND-2\n"
    )
    with pytest.raises(ImportRowsError) as caught:
        ledger.import_batches_csv(registry, io.StringIO(text))
    assert [n for n, _ in caught.value.rows] == [3, 4, 5, 6]
    message = str(caught.value)
    assert "row 3: R7: ccer is issued in whole tonnes" in message
    assert "row 4: R11: serials 150-250 overlap serials 101-200 of row 3" in message
    assert "row 5: R11: serial range 300-200 is reversed" in message
    assert "row 6: R11: unknown account 'nobody'" in message
    assert backend.execute("SELECT count(*) FROM {table}")[0][0] == 0


def test_a_valid_csv_issues_every_row_in_one_transaction(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    holder = organiser.actor
    text = (
        CSV_HEADER
        + f"ccer,2024,P-1,Shandong,CM-001,1,100,{holder},1,\n"
        + f"inclusion-other,2025,P-2,Shandong,SD-01,101,3100,{holder},0.001,LAND-9\n"
    )
    first, second = ledger.import_batches_csv(registry, io.StringIO(text))
    assert ledger.batch(second).tonnes(3000) == 3
    assert [p.id for p in ledger.batch(second).parcels] == ["LAND-9"]
    with pytest.raises(ImportRowsError, match=r"row 2: R11: serials 1-100 overlap batch"):
        ledger.import_batches_csv(
            registry, io.StringIO(CSV_HEADER + f"cea,2024,P,Shandong,M,1,100,{holder},,\n")
        )
    assert ledger.batch(first).version == 1


def test_projections_of_an_imported_copy_equal_the_originals(
    backend: Backend,
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    from ledger.projections.runner import ProjectionRunner
    from ledger.projections.views import DisclosureRegister, SerialUnits

    with Ledger(tmp_path / "original.db", root) as original:
        for n in range(3):
            batch = issue(original, registry, organiser, n * 100 + 1, n * 100 + 100)
            original.transfer(
                organiser, batch, SerialRange(n * 100 + 1, n * 100 + 30), to=stranger.actor
            )
            original.retire(
                stranger, batch, SerialRange(n * 100 + 1, n * 100 + 10), beneficiary="b", reason="r"
            )
        checkpointed(original, log_signer, witness)
        history = io.StringIO()
        original.export_history(history)
        views = {}
        for view in (SerialUnits(), DisclosureRegister()):
            runner = ProjectionRunner(original.store, view)
            runner.catch_up()
            views[view.name] = runner.snapshot()
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        copy.import_history(io.StringIO(history.getvalue()))
        for view in (SerialUnits(), DisclosureRegister()):
            runner = ProjectionRunner(copy.store, view, backend.schema)
            runner.catch_up()
            assert runner.snapshot() == views[view.name]
