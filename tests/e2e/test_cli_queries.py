"""Issue 16, second part: query commands, --json everywhere, LEDGER_DB, confirmations and dry
runs, tables, CSV with a BOM and XLSX, exit codes by kind, and the retirement register rows."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _shell import run

ORGANISER = "jinan-green-forum-organising-committee"
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("queries") / "demo"
    assert run("demo", "--dir", folder).returncode == 0
    return folder


@pytest.fixture
def db(demo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.db"
    shutil.copy(demo / "ledger.db", copy)
    return copy


def _json(*args: str | Path) -> Any:
    done = run(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _batch(db: Path, instrument: str) -> str:
    return str(next(b["id"] for b in _json("batches", db) if b["instrument"] == instrument))


def _tables(db: Path) -> tuple[list[str], int]:
    with sqlite3.connect(db) as connection:
        found = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = sorted(r[0] for r in found)
        rows = sum(connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names
                   if not n.startswith("sqlite_"))  # fmt: skip
    return names, rows


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_query_commands_print_tables_and_json_and_create_nothing_in_the_store(
    db: Path,
) -> None:
    before = _tables(db)
    forest = _batch(db, "inclusion-forest")
    held = _json("holdings", db, ORGANISER)
    assert {"account": ORGANISER, "batch": forest, "instrument": "inclusion-forest",
            "state": "retired", "units": 240, "tonnes": "240"} in held  # fmt: skip
    assert {row["account"] for row in _json("holdings", db)} == {
        ORGANISER,
        "forum-sponsor-enterprise",
    }
    shown = _json("batch", "show", db, forest)
    assert (shown["serialStart"], shown["serialEnd"], shown["tonnes"]) == (100001, 100300, "300")
    assert [lot["state"] for lot in shown["lots"]] == ["retired", "held"]
    lives = _json("provenance", db, forest, "100239-100242")["units"]
    assert [(u["serialStart"], u["serialEnd"]) for u in lives] == [
        (100239, 100240),
        (100241, 100242),
    ]
    assert [s["kind"] for s in lives[0]["steps"]] == ["issued", "reserved", "retired"]
    assert [s["kind"] for s in lives[1]["steps"]] == ["issued"]
    table = run("holdings", db, ORGANISER).stdout.splitlines()
    assert next(line for line in table if line.strip()).split() == [
        "account", "batch", "instrument", "state", "units", "tCO2e"
    ]  # fmt: skip
    for argv in (["batches", db], ["batch", "show", db, forest], ["provenance", db, forest, "5"]):
        done = run(*argv)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert _tables(db) == before


def test_ledger_db_names_the_database_when_the_argument_is_left_out(db: Path) -> None:
    env = {**os.environ, "LEDGER_DB": str(db)}
    forest = _batch(db, "inclusion-forest")

    def shell(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "ledger", *args]
        return subprocess.run(
            argv, env=env, text=True, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )

    assert json.loads(shell("batches", "--json").stdout) == _json("batches", db)
    assert json.loads(shell("batch", "show", forest, "--json").stdout)["id"] == forest
    assert json.loads(shell("provenance", forest, "100007", "--json").stdout)["batch"] == forest
    assert shell("provenance", str(db), forest, "100007").returncode == 0  # an explicit one wins
    assert "defaults to $LEDGER_DB" in shell("holdings", "--help").stdout
    env["LEDGER_DB"] = str(db.with_name("nowhere.db"))
    missing = shell("batches")
    assert (missing.returncode, missing.stderr.count("\n")) == (2, 1)


def test_every_json_output_uses_camel_case_member_names(demo: Path) -> None:
    db = demo / "ledger.db"
    forest = _batch(db, "inclusion-forest")
    event = _json("disclosures", db)[0]["subject"]
    outputs = [
        _json("audit", db, "--trust", demo / "root.json"),
        _json("disclosures", db),
        _json("certificates", db),
        _json("holdings", db),
        _json("batches", db),
        _json("batch", "show", db, forest),
        _json("provenance", db, forest, "100001-100300"),
        _json("event", "show", db, event),
    ]
    names = set().union(*(_keys(output) for output in outputs))
    assert {"serialStart", "eventName", "factorSource", "verifiedTonnes", "logRoot"} <= names
    data_keys = {n for n in names if "-" in n}  # source ids keying a map, not member names
    assert sorted(n for n in names - data_keys if not CAMEL.match(n)) == []


def test_retire_off_a_terminal_without_yes_is_one_line_exit_2_and_writes_nothing(
    db: Path, demo: Path
) -> None:
    forest = _batch(db, "inclusion-forest")
    before = _tables(db)
    argv = ["retire", db, forest, "--key", demo / "secrets" / "organiser.json", "--serials",
            "100241-100250", "--beneficiary", "B", "--reason", "R"]  # fmt: skip
    refused = run(*argv)
    assert (refused.returncode, refused.stderr) == (
        2, "ledger: nothing retired: confirm on a terminal, or pass --yes\n"
    )  # fmt: skip
    assert _tables(db) == before
    dry = run(*argv, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"would retire serials 100241-100250 of batch {forest}: 10 units,")
    assert "10 tCO2e inclusion-forest" in dry.stdout and "nothing written" in dry.stdout
    broken = run(*argv[:6], "100001-100010", *argv[7:], "--dry-run")  # already retired
    assert broken.returncode == 1 and broken.stderr.startswith("ledger: R11: cannot retire")
    assert _tables(db) == before
    done = run(*argv, "--yes")
    assert done.returncode == 0 and json.loads(done.stdout)["quantity"] == 10


def test_export_asks_first_and_its_dry_run_writes_nothing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    refused = run("export", db, out)
    assert (refused.returncode, refused.stderr.count("\n")) == (2, 1) and not out.exists()
    dry = run("export", db, out, "--dry-run")
    assert dry.stdout == f"would export 25 signed events to {out}; nothing written\n"
    assert not out.exists()
    assert run("export", db, out, "--yes").returncode == 0 and out.is_file()


def test_csv_starts_with_a_bom_and_xlsx_workbooks_hold_the_register_and_certificates(
    demo: Path, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    db = demo / "ledger.db"
    raw = subprocess.run([sys.executable, "-m", "ledger", "disclosures", str(db), "--format",
                          "csv"], capture_output=True, check=True).stdout  # fmt: skip
    assert raw.startswith(b"\xef\xbb\xbfposition,kind,subject,version,entry,detail\r\n")
    for command, sheet, first in (("disclosures", "register", "position"),
                                  ("certificates", "certificates", "batch")):  # fmt: skip
        book = tmp_path / f"{command}.xlsx"
        assert run(command, db, "--format", "xlsx", "--out", book).returncode == 0
        rows = list(load_workbook(book)[sheet].values)
        assert rows[0][0] == first and len(rows) > 3
        again = run(command, db, "--format", "xlsx", "--out", book)
        refused = f"ledger: {book} exists; pass --force to overwrite it\n"
        assert (again.returncode, again.stderr) == (2, refused)
    unnamed = run("certificates", db, "--format", "xlsx")
    assert unnamed.returncode == 2 and "--out" in unnamed.stderr


def test_the_register_labels_a_retirement_with_its_tonnes_instrument_and_serials(
    demo: Path,
) -> None:
    register = _json("disclosures", demo / "ledger.db")
    retired = [row["detail"] for row in register if row["kind"] == "retirement"]
    assert [(d["instrument"], d["tonnes"], d["serialStart"], d["serialEnd"]) for d in retired] == [
        ("inclusion-forest", "240", 100001, 100240),
        ("inclusion-marine", "20", 200001, 200020),
        ("ccer", "15", 1000001, 1000015),
    ]
    assert "cancellation" not in {row["kind"] for row in register}
    table = run("disclosures", demo / "ledger.db").stdout
    assert "retirement" in table and "[event " in table  # names are shown, never as markup


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["batches", "{db}"], 0),
        (["provenance", "{db}", "00000000-0000-0000-0000-000000000001", "1"], 1),
        (["audit", "{db}", "--trust", "{other_root}"], 1),
        (["batches", "{db}", "--no-such-option"], 2),
        (["batches", "{missing}"], 2),
        (["audit", "{db}", "--trust", "{missing}"], 2),
        (["batches", "postgresql://nobody@127.0.0.1:1/none"], 3),
    ],
)
def test_each_kind_of_outcome_has_its_own_exit_code(
    argv: list[str], code: int, demo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    root = json.loads((demo / "root.json").read_text())
    root["signatures"] = []
    other.write_text(json.dumps(root))
    names = {"db": demo / "ledger.db", "missing": tmp_path / "missing", "other_root": other}
    done = run(*(a.format(**names) for a in argv))
    assert done.returncode == code, done.stderr
    if code:
        assert done.stderr.startswith(("ledger: ", "Usage:")) and "Traceback" not in done.stderr
        assert done.stderr.startswith("Usage:") or done.stderr.count("\n") == 1
