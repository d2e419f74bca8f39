"""Issue 15: hostile inputs found by Hypothesis: no crash, no traceback, no wrong accept.

Every reader of outside input (strict JSON, proof files, trust roots, key files, JSONL history
lines, CSV batches, event and sink files given to the command line, command-line arguments)
either accepts or raises a LedgerError (the command line: exit 1 or a click usage error, exit
2), never anything else. Mutating one byte of a valid proof or history is never accepted.
Example counts are bounded so that the whole file runs in seconds.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import string
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import KeyDirectory, Ledger, LedgerError, SerialRange, Signer, TrustRoot
from ledger.audit import strict_json
from ledger.audit.keys import PublicKey
from ledger.audit.note import cosign
from ledger.audit.proof import verify_proof
from ledger.cli.main import cli

FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small ledger with a retirement, its proof, its root and its exported history."""
    folder = tmp_path_factory.mktemp("fuzz")
    operators = [Signer.generate(f"op-{n}", "operator") for n in (1, 2)]
    log = Signer.generate("fuzz.local/log", "log")
    witness = Signer.generate("fuzz-witness", "witness")
    registry = Signer.generate("fuzz-registry", "registry")
    holder = Signer.generate("fuzz-holder", "account")
    root = TrustRoot.create(
        version=1,
        origin=log.actor,
        issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        threshold=2,
        witnesses=1,
        keys=[s.public for s in (*operators, log, witness, registry, holder)],
    ).signed_by(*operators)
    with Ledger(folder / "source.db", root) as ledger:
        batch = ledger.issue_batch(
            registry,
            instrument="inclusion-forest",
            vintage=2025,
            project="p",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1, 100),
            holder=holder.actor,
        )
        retired = ledger.retire(holder, batch, SerialRange(1, 10), beneficiary="b", reason="r")
        note = ledger.sign_checkpoint(log)
        moment = int(datetime.datetime.now(datetime.UTC).timestamp())
        ledger.add_cosignature(cosign(note, witness, moment))
        proof = ledger.proof(batch, retired.retirement_version)
        history = io.StringIO()
        ledger.export_history(history)
    target = Ledger(folder / "target.db", KeyDirectory())
    yield {
        "root": root,
        "proof": proof,
        "history": history.getvalue().splitlines(keepends=True),
        "target": target,
        "registry": registry,
        "folder": folder,
    }
    target.close()


def refuses_cleanly(call: Any) -> bool:
    """True if ``call()`` accepted; False if it raised a LedgerError; anything else fails."""
    try:
        call()
    except LedgerError:
        return False
    return True


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_the_strict_reader_raises_only_ledger_errors_on_any_bytes(data: bytes) -> None:
    refuses_cleanly(lambda: strict_json.loads(data, source="fuzz"))


@FAST
@given(json_values)
def test_a_trust_root_key_file_or_signer_of_any_json_is_refused_cleanly(value: Any) -> None:
    for reader in (TrustRoot.from_json, PublicKey.from_json, KeyDirectory.from_json):
        refuses_cleanly(lambda r=reader: r(value))  # type: ignore[misc]
    if isinstance(value, dict):
        refuses_cleanly(lambda: Signer.from_json(value))


@FAST
@given(json_values)
def test_a_proof_of_any_json_is_refused_cleanly(made: dict[str, Any], value: Any) -> None:
    assert not refuses_cleanly(lambda: verify_proof(value, made["root"]))


@FAST
@given(st.data())
def test_a_proof_with_one_byte_changed_is_never_accepted(made: dict[str, Any], data: Any) -> None:
    text = json.dumps(made["proof"], sort_keys=True)
    at = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from(string.ascii_letters + string.digits + '{}[]":,'))
    if text[at] == char:
        return
    changed = text[:at] + char + text[at + 1 :]

    def check() -> None:
        verify_proof(strict_json.loads(changed, source="proof"), made["root"])

    if refuses_cleanly(check):  # accepted: only if nothing signed or proven changed meaning
        assert json.loads(changed) == json.loads(text)


@FAST
@given(st.data())
def test_a_history_with_one_line_changed_or_dropped_imports_nothing(
    made: dict[str, Any], data: Any
) -> None:
    lines = list(made["history"])
    index = data.draw(st.integers(0, len(lines) - 1))
    if data.draw(st.booleans()):
        del lines[index]
    else:
        line = lines[index]
        at = data.draw(st.integers(0, max(0, len(line) - 2)))
        lines[index] = line[:at] + data.draw(st.sampled_from('0aZ{"}')) + line[at + 1 :]
    if lines == made["history"]:
        return
    target: Ledger = made["target"]
    accepted = refuses_cleanly(lambda: target.import_history(lines, trusted=made["root"]))
    assert not accepted or lines == made["history"]
    assert target.store.is_empty()


@FAST
@given(st.lists(json_values.map(json.dumps) | st.text(max_size=40), max_size=5))
def test_history_lines_of_any_text_import_nothing(made: dict[str, Any], lines: list[str]) -> None:
    target: Ledger = made["target"]
    assert not refuses_cleanly(lambda: target.import_history([line + "\n" for line in lines]))
    assert target.store.is_empty()


CSV_HEADER = "instrument,vintage,project,province,methodology,serial_start,serial_end,holder\n"


@FAST
@given(
    st.lists(
        st.lists(st.text(alphabet=string.printable, max_size=12), min_size=0, max_size=9),
        max_size=3,
    )
)
def test_csv_batches_of_any_cells_are_imported_whole_or_refused_cleanly(
    made: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    text = CSV_HEADER + "".join(",".join(row) + "\n" for row in rows)
    target: Ledger = made["target"]
    refuses_cleanly(lambda: target.import_batches_csv(made["registry"], io.StringIO(text)))


COMMANDS = [
    "verify",
    "audit",
    "import",
    "export",
    "issue",
    "transfer",
    "retire",
    "event",
    "sink",
    "key",
    "root",
    "init",
    "checkpoint",
    "cosign",
    "proof",
    "factors",
    "disclosures",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(COMMANDS),
    st.lists(
        st.sampled_from(
            [
                "--trust",
                "--key",
                "--file",
                "--serials",
                "--out",
                "--now",
                "x",
                "1-5",
                "0",
                "-1",
                "2026-13-01",
                "register",
                "new",
                "--help",
                "--format",
                "",
            ]
        )
        | st.text(alphabet=string.printable, max_size=10),
        max_size=5,
    ),
)
def test_command_line_arguments_never_end_in_a_traceback(
    made: dict[str, Any], command: str, args: list[str]
) -> None:
    folder: Path = made["folder"]
    runner = CliRunner()
    with contextlib.chdir(folder):
        result = runner.invoke(cli, [command, *args])
    assert result.exit_code in (0, 1, 2), result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


@FAST
@given(json_values)
def test_event_and_sink_files_of_any_json_end_in_one_line(made: dict[str, Any], value: Any) -> None:
    folder: Path = made["folder"]
    runner = CliRunner()
    with contextlib.chdir(folder):
        Path("in.json").write_text(json.dumps(value), encoding="utf-8")
        db = str(folder / "source.db")
        for args in (
            ["event", "register", db, "--file", "in.json", "--key", "in.json"],
            ["sink", "register", db, "--file", "in.json", "--key", "in.json"],
        ):
            result = runner.invoke(cli, args)
            assert result.exit_code in (1, 2), result.output
            assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_key_file_without_its_actor_is_refused_naming_the_field() -> None:
    # found by `python -m ledger.sim fuzz` (atheris, key-file): a KeyError, an internal error
    found = Signer.generate("someone", "registry").to_json()
    found["@ctor"] = found.pop("actor")
    with pytest.raises(LedgerError, match=r"text fields actor, role and seed .*: actor\)"):
        Signer.from_json(found)


@FAST
@given(st.sampled_from(["actor", "role", "seed"]), json_values)
def test_a_key_file_with_one_field_dropped_or_changed_is_refused_cleanly(
    field: str, value: Any
) -> None:
    data: dict[str, Any] = dict(Signer.generate("someone", "registry").to_json())
    if value is None:
        del data[field]
    else:
        data[field] = value
    refuses_cleanly(lambda: Signer.from_json(data))
