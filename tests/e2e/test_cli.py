"""The command line as a user runs it: demo, verify, and a tampered proof rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shell import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e") / "demo"
    result = run("demo", "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    assert f"Ledger demo in {folder}" in result.stdout
    assert "1,200 participants, tier third_party" in result.stdout
    assert "accounted    274.953 tCO2e from 6 activity lines" in result.stdout
    assert (
        "factors      6 of 6 lines at shipped factors checked against their sources"
        in result.stdout
    )
    assert "R8 rank 4); deviation: CCERs donated by a sponsor" in result.stdout
    assert "confirmed    2026-06-20 on the evaluation of certified-verifier-demo" in result.stdout
    return folder


def test_the_demo_writes_a_store_keys_a_certificate_and_a_proof(demo: Path) -> None:
    names = {path.name for path in demo.iterdir()}
    assert names == {
        "ledger.db",
        "root.json",
        "secrets",
        "certificate.json",
        "proof.json",
        "event.json",
    }
    certificate = json.loads((demo / "certificate.json").read_text())
    proof = json.loads((demo / "proof.json").read_text())
    event = json.loads((demo / "event.json").read_text())
    assert proof["certificate"] == certificate
    assert certificate["quantity"] == 240
    assert [a["deviation"] for a in event["allocations"]] == [False, False, True]
    assert event["confirmedOn"] == "2026-06-20"


def test_verify_accepts_the_demo_proof(demo: Path) -> None:
    result = run("verify", str(demo / "proof.json"), "--trust", str(demo / "root.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 240 t (240 units) of batch")


def test_verify_without_a_trust_root_is_a_usage_error(demo: Path) -> None:
    result = run("verify", str(demo / "proof.json"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Missing option '--trust'" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_rejects_a_tampered_proof_with_one_line(demo: Path, tmp_path: Path) -> None:
    proof = json.loads((demo / "proof.json").read_text())
    proof["certificate"]["beneficiary"] = "Someone Else"
    tampered = tmp_path / "proof.json"
    tampered.write_text(json.dumps(proof))
    result = run("verify", str(tampered), "--trust", str(demo / "root.json"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ledger: proof rejected: certificate.beneficiary: says")


def test_verify_rejects_a_file_that_is_not_json(demo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "proof.json"
    broken.write_text("{not json")
    result = run("verify", str(broken), "--trust", str(demo / "root.json"))
    assert result.returncode == 1
    assert "is not JSON" in result.stderr


def test_verify_of_a_missing_file_is_a_usage_error(demo: Path, tmp_path: Path) -> None:
    result = run("verify", str(tmp_path / "absent.json"), "--trust", str(demo / "root.json"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_the_demo_refuses_a_folder_that_is_not_empty(demo: Path) -> None:
    result = run("demo", "--dir", str(demo))
    assert result.returncode == 1
    assert "is not empty" in result.stderr


def test_the_demo_names_a_new_folder_by_default(tmp_path: Path) -> None:
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (made,) = tmp_path.iterdir()
    assert made.name.startswith("ledger-demo-")
    assert str(made) in result.stdout


def test_audit_passes_the_demo_store_and_names_a_tampered_event(demo: Path, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    trust = str(demo / "root.json")
    result = run("audit", str(demo / "ledger.db"), "--trust", trust)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 25 events of 4 aggregates verified")
    copy = tmp_path / "ledger.db"
    shutil.copy(demo / "ledger.db", copy)
    with sqlite3.connect(copy) as db:
        (row_id, state), *_ = db.execute(
            "SELECT id, state FROM ledger_events ORDER BY id LIMIT 1 OFFSET 1"
        ).fetchall()
        db.execute(
            "UPDATE ledger_events SET state = ? WHERE id = ?",
            (state.replace(b'"payload":"', b'"payload":"A', 1), row_id),
        )
    result = run("audit", str(copy), "--trust", trust)
    assert result.returncode == 1
    assert result.stderr.startswith("ledger: audit failed: log leaf 2, aggregate ")
    assert " version 1: " in result.stderr


def test_export_import_and_the_read_model_commands_work_from_the_shell(
    demo: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    assert run("export", str(demo / "ledger.db"), str(history), "--yes").returncode == 0
    copy = tmp_path / "copy.db"
    imported = run("import", str(copy), str(history))
    assert imported.returncode == 0, imported.stderr
    audited = run("audit", str(copy), "--trust", str(demo / "root.json"))
    assert audited.stdout.startswith("OK: 25 events of 4 aggregates verified"), audited.stderr
    again = run("import", str(copy), str(history))
    assert again.returncode == 1 and "needs an empty store" in again.stderr
    register = json.loads(run("disclosures", str(copy), "--json").stdout)
    assert {row["kind"] for row in register} >= {"plan", "deviation", "evaluation"}
    listed = json.loads(run("certificates", str(copy), "--json").stdout)
    assert [c["quantity"] for c in listed] == [240, 20, 15]  # in the order retired
    text = run("certificates", str(demo / "ledger.db"), "--format", "text").stdout
    assert text.count("RETIREMENT CERTIFICATE ") == 3
    assert "donated by forum-sponsor-enterprise" in text
    csv_out = run("certificates", str(copy), "--format", "csv").stdout.splitlines()
    assert len(csv_out) == 4 and csv_out[0].startswith("\ufeffbatch,")  # a BOM for Excel


def test_a_csv_of_batches_with_a_bad_row_imports_nothing_from_the_shell(
    demo: Path, tmp_path: Path
) -> None:
    import shutil

    store = tmp_path / "ledger.db"
    shutil.copy(demo / "ledger.db", store)
    holder = "jinan-green-forum-organising-committee"
    rows = tmp_path / "batches.csv"
    rows.write_text(
        "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
        f"inclusion-other,2025,P-1,Shandong,M,900001,900100,{holder},,\n"
        f"inclusion-other,2031,P-2,Shandong,M,900101,900200,{holder},,\n"
    )
    key = demo / "secrets" / "registry.json"
    result = run("import-batches", str(store), str(rows), "--key", str(key))
    assert result.returncode == 1
    assert "row 3: R7: vintage 2031 is in the future" in result.stderr
    trust = str(demo / "root.json")
    assert run("audit", str(store), "--trust", trust).stdout.startswith("OK: 25 events")
    rows.write_text(rows.read_text().replace(",2031,", ",2025,"))
    result = run("import-batches", str(store), str(rows), "--key", str(key))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "issued 2 batches"


@pytest.mark.parametrize(
    "command", [["audit", "--trust", "root.json"], ["disclosures"], ["certificates"]]
)
def test_read_commands_refuse_a_missing_database_and_create_nothing(
    command: list[str], tmp_path: Path
) -> None:
    result = run(command[0], str(tmp_path / "absent.db"), *command[1:])
    assert result.returncode == 2
    assert result.stderr == f"ledger: no ledger database at {tmp_path / 'absent.db'}\n"
    assert not (tmp_path / "absent.db").exists()


def test_factors_lists_the_shipped_table_all_checked() -> None:
    result = run("factors")
    assert result.returncode == 0, result.stderr
    header, rule, *rows = [line for line in result.stdout.splitlines() if line.strip()]
    assert header.split()[:4] == ["id", "kg", "CO2e", "per"] and set(rule.strip()) == {"─"}
    assert len(rows) == 12
    assert all(" checked " in row for row in rows)
    assert "12 factors, 12 checked against a source" in result.stderr


def test_factors_lays_a_user_table_over_the_shipped_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.json"
    entry = {"id": "taxi", "source": "transport-taxi", "unit": "passenger-km"}
    mine.write_text(
        json.dumps({"factors": [{**entry, "factor": "0.1", "year": 2025, "reference": "r"}]})
    )
    shown = json.loads(run("factors", "--table", str(mine), "--format", "json").stdout)
    taxi = next(f for f in shown["factors"] if f["id"] == "taxi")
    assert (taxi["factor"], taxi["checked"]) == ("0.1", False)
    mine.write_text(
        json.dumps({"factors": [{**entry, "factor": 0.1, "year": 2025, "reference": "r"}]})
    )
    result = run("factors", "--table", str(mine))
    assert result.returncode == 2
    assert result.stderr.strip() == "ledger: R6: factor 'taxi': factor must be decimal text"


def test_the_documented_entry_for_shandong_2023_loads_as_a_user_table(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "emission-factors.md").read_text()
    block = docs.split("```json\n", 1)[1].split("```", 1)[0]
    mine = tmp_path / "mine.json"
    mine.write_text(block)
    result = run("factors", "--table", str(mine))
    assert result.returncode == 0, result.stderr
    assert any(
        line.split()[:2] == ["electricity-shandong-2023", "0.6191"]
        for line in result.stdout.splitlines()
    )
    assert "13 factors, 13 checked against a source" in result.stderr
