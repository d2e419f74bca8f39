"""Hostile files and unsafe defaults from the shell: one line on stderr, never a traceback."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path

import pytest
from _shell import run

from ledger import Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot

from conftest import checkpointed

DEEP = '{"a": ' + "[" * 100_000
ORIGIN = "strict.example/log"
HEADER = "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit"


def one_line(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> str:
    """The one stderr line of a refused command (exit ``code``) that says each of ``expected``."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("ledger: ") and result.stderr.count("\n") == 1
    for text in expected:
        assert text in result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a retired batch, its proof, its root and its actors' key files."""
    folder = tmp_path_factory.mktemp("strict")
    roles = {"op": "operator", "log": "log", "witness": "witness", "registry": "registry"}
    roles |= {"org": "account", "dev": "developer"}
    signers = {
        name: Signer.generate(ORIGIN if name == "log" else f"{name}.example", role)
        for name, role in roles.items()
    }
    for name, signer in signers.items():
        (folder / f"{name}.key.json").write_text(json.dumps(signer.to_json()))
        (folder / f"{name}.pub.json").write_text(json.dumps(signer.public.to_json()))
    root = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        threshold=1,
        witnesses=1,
        keys=[signer.public for signer in signers.values()],
    ).signed_by(signers["op"])
    (folder / "root.json").write_text(json.dumps(root.to_json()))
    with Ledger(folder / "ledger.db", root) as ledger:
        batch = ledger.issue_batch(
            signers["registry"], instrument="ccer", vintage=2024, project="P",
            province="Shandong", methodology="M", serials=SerialRange(1, 100), holder="org.example",
        )  # fmt: skip
        cert = ledger.retire(signers["org"], batch, SerialRange(1, 10), beneficiary="B", reason="r")
        checkpointed(ledger, signers["log"], signers["witness"])
        proof = ledger.proof(batch, cert.retirement_version)
    (folder / "proof.json").write_text(json.dumps(proof, indent=2))
    assert run("export", folder / "ledger.db", folder / "history.jsonl", "--yes").returncode == 0
    return folder


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


# Deeply nested JSON -----------------------------------------------------------------------------


def test_deeply_nested_json_given_to_verify_is_one_line(home: Path, tmp_path: Path) -> None:
    deep = write(tmp_path / "deep.json", DEEP)
    result = run("verify", deep, "--trust", home / "root.json")
    one_line(result, 1, "proof rejected:", "nests arrays and objects deeper than 64 levels")


def test_deeply_nested_json_given_as_the_trust_root_is_one_line(home: Path, tmp_path: Path) -> None:
    deep = write(tmp_path / "deep.json", DEEP)
    result = run("verify", home / "proof.json", "--trust", deep)
    one_line(result, 2, "cannot use trust root:", "deeper than 64 levels")


def test_deeply_nested_json_given_to_import_is_one_line(home: Path, tmp_path: Path) -> None:
    lines = (home / "history.jsonl").read_text().splitlines(keepends=True)
    history = write(tmp_path / "h.jsonl", "".join(lines[:2]) + DEEP + "\n")
    result = run("import", tmp_path / "copy.db", history)
    one_line(result, 1, "import failed, nothing written:", "row 3: the line nests", "64 levels")


def test_deeply_nested_json_given_to_event_file_is_one_line(home: Path, tmp_path: Path) -> None:
    deep = write(tmp_path / "e.json", DEEP)
    result = run("event", "register", home / "ledger.db", "--key", home / "org.key.json",
                 "--file", deep)  # fmt: skip
    one_line(result, 2, f"{deep} nests arrays and objects deeper than 64 levels")


def test_deeply_nested_json_given_as_a_witness_state_file_is_one_line(
    home: Path, tmp_path: Path
) -> None:
    state = write(tmp_path / "w.json", DEEP)
    result = run("cosign", home / "ledger.db", "--key", home / "witness.key.json",
                 "--state", state)  # fmt: skip
    one_line(result, 2, "deeper than 64 levels")
    write(state, '{"origin": "o", "size": "7"}')
    result = run("cosign", home / "ledger.db", "--key", home / "witness.key.json",
                 "--state", state)  # fmt: skip
    one_line(result, 2, f"{state} is not a witness state")


def test_deeply_nested_json_given_as_a_factor_table_is_one_line(tmp_path: Path) -> None:
    table = write(tmp_path / "t.json", DEEP)
    one_line(run("factors", "--table", table), 2, "deeper than 64 levels")


# Other hostile JSON ------------------------------------------------------------------------------


def test_a_proof_with_a_duplicated_member_is_rejected_not_read_by_its_last_value(
    home: Path, tmp_path: Path
) -> None:
    text = (home / "proof.json").read_text()
    doubled = write(
        tmp_path / "p.json", text.replace('"format": ', '"format": "x",\n  "format": ', 1)
    )
    result = run("verify", doubled, "--trust", home / "root.json")
    one_line(result, 1, "proof rejected:", "has the member 'format' twice in one object")


def test_a_proof_that_is_not_utf8_is_rejected_in_one_line(home: Path, tmp_path: Path) -> None:
    text = (home / "proof.json").read_bytes().replace(b'"B"', b'"\xff"', 1)
    result = run("verify", write(tmp_path / "p.json", text), "--trust", home / "root.json")
    one_line(result, 1, "is not UTF-8 (byte 0xff")


def test_a_key_file_with_nan_or_a_5000_digit_integer_is_one_line(
    home: Path, tmp_path: Path
) -> None:
    key = json.loads((home / "registry.key.json").read_text())
    bad = write(tmp_path / "k.json", json.dumps({**key, "extra": float("nan")}))
    result = run("checkpoint", home / "ledger.db", "--key", bad)
    one_line(result, 2, "has NaN, which is not a JSON number")
    write(bad, json.dumps({**key, "extra": 0}).replace('"extra": 0', '"extra": ' + "9" * 5000))
    result = run("checkpoint", home / "ledger.db", "--key", bad)
    one_line(result, 2, "has a number of more than 64 digits")


def test_a_history_that_is_not_utf8_is_one_line_naming_the_line(home: Path, tmp_path: Path) -> None:
    data = (home / "history.jsonl").read_bytes().replace(b'"document"', b'"docum\xffent"', 1)
    result = run("import", tmp_path / "copy.db", write(tmp_path / "h.jsonl", data))
    one_line(result, 1, "row 2: the line is not UTF-8 (byte 0xff")


# CSV -------------------------------------------------------------------------------------------


def import_csv(home: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return run("import-batches", home / "ledger.db", path, "--key", home / "registry.key.json")


def test_a_csv_saved_by_excel_as_csv_utf8_with_a_bom_imports(home: Path, tmp_path: Path) -> None:
    text = "\ufeff" + HEADER + "\nccer,2024,P-\u6d4e\u5357,Shandong,M,1001,1100,org.example,1\n"
    result = import_csv(home, write(tmp_path / "b.csv", text.encode("utf-8")))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "issued 1 batches\n"


def test_a_csv_that_is_not_utf8_is_one_line(home: Path, tmp_path: Path) -> None:
    text = HEADER + "\nccer,2024,P-\xe9,Shandong,M,2001,2100,org.example,1\n"
    result = import_csv(home, write(tmp_path / "b.csv", text.encode("latin-1")))
    one_line(result, 2, "import failed: the CSV file is not UTF-8 text")


def test_a_csv_field_over_128_kib_is_one_line(home: Path, tmp_path: Path) -> None:
    text = HEADER + f"\nccer,2024,{'P' * 140_000},Shandong,M,3001,3100,org.example,1\n"
    result = import_csv(home, write(tmp_path / "b.csv", text))
    one_line(result, 2, "the CSV file has a field over 128 KiB (131,072 characters) at line 2")


def test_a_csv_vintage_of_5000_digits_is_one_line(home: Path, tmp_path: Path) -> None:
    text = HEADER + f"\nccer,{'9' * 5000},P,Shandong,M,4001,4100,org.example,1\n"
    result = import_csv(home, write(tmp_path / "b.csv", text))
    one_line(result, 1, "row 2: vintage of 5,000 characters is not an integer of at most 64")


# Safe defaults -----------------------------------------------------------------------------------


def test_init_refuses_a_hand_written_root_with_threshold_0_and_no_signatures(
    home: Path, tmp_path: Path
) -> None:
    document = json.loads((home / "root.json").read_text())
    document["signed"]["threshold"] = 0
    hand_written = write(tmp_path / "r.json", json.dumps({**document, "signatures": []}))
    result = run("init", tmp_path / "new.db", "--root", hand_written)
    one_line(result, 1, "version and threshold start at 1", "threshold 0")


def root_new(home: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("root", "new", "--origin", ORIGIN, "--threshold", "1",
               "--sign", home / "op.key.json", *args, "--out", out)  # fmt: skip


def test_root_new_without_a_log_key_is_refused(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = root_new(home, out, "--key", str(home / "witness.pub.json"))
    one_line(result, 1, f"a root needs a log key for its origin '{ORIGIN}'")
    assert not out.exists()


def test_root_new_needs_as_many_witness_keys_as_its_witnesses_and_defaults_to_one(
    home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    log = ["--key", str(home / "log.pub.json")]
    by_default = root_new(home, out, *log)
    one_line(by_default, 1, "asks for 1 witness cosignatures but has 0 witness keys")
    two = root_new(home, out, *log, "--key", str(home / "witness.pub.json"), "--witnesses", "2")
    one_line(two, 1, "asks for 2 witness cosignatures but has 1 witness keys")
    assert not out.exists()
    made = root_new(home, out, *log, "--key", str(home / "witness.pub.json"))
    assert made.returncode == 0, made.stderr
    assert json.loads(out.read_text())["signed"]["witnesses"] == 1


def test_a_database_path_with_a_question_mark_is_that_file_not_url_options(
    home: Path, tmp_path: Path
) -> None:
    result = run("init", "a?mode=ro.db", "--root", home / "root.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["a?mode=ro.db"]


def test_a_schema_name_with_a_trailing_newline_is_refused_in_one_line(
    home: Path, tmp_path: Path
) -> None:
    result = run("init", tmp_path / "s.db", "--root", home / "root.json", "--schema", "schema\n")
    one_line(result, 1, "schema 'schema\\n' is not a plain SQL identifier")
