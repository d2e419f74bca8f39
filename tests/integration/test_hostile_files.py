"""Hostile CSV and history files, on SQLite and PostgreSQL: one-line errors, nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ledger import ImportRowsError, KeyDirectory, Ledger, Signer
from ledger.audit.trust import TrustRoot
from ledger.errors import InvalidInputError, MalformedInputError

from conftest import Backend, checkpointed, issue

HEADER = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels"
)


def row(holder: str, vintage: str = "2024", project: str = "P-1") -> str:
    return f"ccer,{vintage},{project},Shandong,CM-001,1,100,{holder},1,\n"


def utf8_stream(data: bytes) -> io.TextIOWrapper:
    """A text file as ``open(path, encoding="utf-8")`` gives it."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def nothing_written(backend: Backend) -> bool:
    return bool(backend.execute("SELECT count(*) FROM {table}")[0][0] == 0)


def test_a_csv_with_a_byte_order_mark_imports_like_one_without(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    data = ("\ufeff" + HEADER + "\n" + row(organiser.actor)).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbfinstrument,")
    (batch,) = ledger.import_batches_csv(registry, utf8_stream(data))
    assert ledger.batch(batch).project == "P-1"


def test_a_csv_that_is_not_utf8_is_one_line_and_imports_nothing(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    data = (HEADER + "\n" + row(organiser.actor, project="P-\xe9")).encode("latin-1")
    with pytest.raises(MalformedInputError, match=r"^the CSV file is not UTF-8 text$"):
        ledger.import_batches_csv(registry, utf8_stream(data))
    assert nothing_written(backend)


def test_a_csv_field_over_128_kib_is_one_line_and_imports_nothing(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    text = HEADER + "\n" + row(organiser.actor) + row(organiser.actor, project="P" * 131_073)
    with pytest.raises(
        MalformedInputError,
        match=r"^the CSV file has a field over 128 KiB \(131,072 characters\) at line 3$",
    ):
        ledger.import_batches_csv(registry, io.StringIO(text))
    assert nothing_written(backend)


def test_a_5000_digit_vintage_in_a_csv_is_one_line_and_imports_nothing(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    text = HEADER + "\n" + row(organiser.actor, vintage="9" * 5000)
    with pytest.raises(
        ImportRowsError,
        match=r"row 2: vintage of 5,000 characters is not an integer of at most 64 digits$",
    ):
        ledger.import_batches_csv(registry, io.StringIO(text))
    assert nothing_written(backend)


@pytest.fixture
def history(
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> list[str]:
    with Ledger(tmp_path / "source.db", root) as source:
        issue(source, registry, organiser, 1, 500)
        checkpointed(source, log_signer, witness)
        out = io.StringIO()
        source.export_history(out)
    return out.getvalue().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda line: line.replace('{"kind": ', '{"kind": "x", "kind": ', 1),
            "member 'kind' twice",
        ),
        (lambda line: '{"deep": ' + "[" * 100_000 + "\n", "deeper than 64 levels"),
        (lambda line: line.replace('"size": ', '"size": ' + "9" * 5000, 1), "more than 64 digits"),
        (lambda line: line.replace('"size": ', '"size": NaN, "x": ', 1), "has NaN"),
    ],
    ids=["a duplicated member", "deep nesting", "a 5000-digit size", "NaN"],
)
def test_a_hostile_history_line_is_named_and_imports_nothing(
    backend: Backend, history: list[str], change: object, message: str
) -> None:
    lines = list(history)
    lines[-1] = change(lines[-1])  # type: ignore[operator]
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(ImportRowsError, match=rf"row {len(lines)}: the line .*{message}"):
            copy.import_history(io.StringIO("".join(lines)))
        assert copy.trust_roots() == []
    assert nothing_written(backend)


def test_a_history_line_that_is_not_utf8_is_named_by_number(
    backend: Backend, history: list[str]
) -> None:
    data = [line.encode("utf-8") for line in history]
    data[1] = data[1].replace(b'"document"', b'"docum\xffent"')
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(ImportRowsError, match=r"row 2: the line is not UTF-8 \(byte 0xff"):
            copy.import_history(data)
        with pytest.raises(ImportRowsError, match=r"row 1: the text from this line on is not"):
            copy.import_history(utf8_stream(b"".join(data)))  # text decoded in chunks
    assert nothing_written(backend)


def test_a_history_root_with_threshold_0_and_no_signatures_is_refused(
    backend: Backend, history: list[str]
) -> None:
    lines = list(history)
    document = json.loads(lines[1])["document"]
    document["signed"]["threshold"] = 0
    lines[1] = json.dumps({"kind": "root", "document": {**document, "signatures": []}}) + "\n"
    with (
        Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy,
        pytest.raises(InvalidInputError, match=r"row 2: .*threshold 0"),
    ):
        copy.import_history(io.StringIO("".join(lines)))
    assert nothing_written(backend)
