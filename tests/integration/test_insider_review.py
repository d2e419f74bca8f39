"""Attacks an insider review found on the speed work of issue 13 (SPEC 5a); each is refused.

SQL edits are made on SQLite stores (the checks they defeat are the same code on PostgreSQL).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ledger import KeyDirectory, Ledger, LedgerError, SerialRange, Signer
from ledger.audit.merkle import leaf_hash
from ledger.audit.trust import TrustRoot
from ledger.errors import ImportRowsError
from ledger.store._merkle_log import _nodes

from conftest import ORIGIN, Backend, checkpointed, issue


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    """SQLite only: the attacks edit the file with SQL."""
    return Backend("sqlite", str(tmp_path / "ledger.db"), None)


def _forge_last_event(db: Path, batch: str, log_signer: Signer, root: TrustRoot) -> None:
    """As the log-key holder with SQL: change the last event, re-hash the log, sign again."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        version, state = c.execute(
            sa.text("SELECT originator_version, state FROM ledger_events ORDER BY id DESC LIMIT 1")
        ).one()
        envelope = json.loads(bytes(state))
        payload = base64.b64decode(envelope["payload"]).replace(b'"honest"', b'"FORGED"')
        envelope["payload"] = base64.b64encode(payload).decode()
        new = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
        c.execute(
            sa.text("UPDATE ledger_events SET state = :s WHERE originator_version = :v"),
            {"s": new, "v": version},
        )
        c.execute(
            sa.text("UPDATE ledger_log SET leaf_hash = :h WHERE aggregate = :a AND version = :v"),
            {"h": leaf_hash(new), "a": batch, "v": version},
        )
        rows = c.execute(sa.text("SELECT leaf_hash FROM ledger_log ORDER BY leaf_index"))
        hashes = [bytes(r[0]) for r in rows]
        c.execute(sa.text("DELETE FROM ledger_log_nodes"))
        for made in _nodes(0, hashes, [])[1]:
            c.execute(
                sa.text(
                    "INSERT INTO ledger_log_nodes (level, node_index, node_hash)"
                    " VALUES (:level, :node_index, :node_hash)"
                ),
                made,
            )
        c.execute(sa.text("DELETE FROM ledger_checkpoints"))
    engine.dispose()
    with Ledger(db, root) as forger:
        forger.sign_checkpoint(log_signer)


def test_the_log_key_alone_cannot_put_an_unsigned_retirement_on_the_certificates(
    tmp_path: Path,
    operators: Any,
    log_signer: Signer,
    witness: Signer,
    registry: Signer,
    organiser: Signer,
) -> None:
    root = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        threshold=2,
        witnesses=0,
        keys=[s.public for s in (*operators, log_signer, witness, registry, organiser)],
    ).signed_by(*operators)
    db = tmp_path / "ledger.db"
    with Ledger(db, root) as ledger:
        batch = issue(ledger, registry, organiser, 1, 100)
        ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="honest", reason="r")
        ledger.sign_checkpoint(log_signer)
    _forge_last_event(db, str(batch), log_signer, root)
    with Ledger(db) as reader, pytest.raises(LedgerError, match=r"does not verify"):
        reader.certificate_list()


class _RewrittenOnRewind(io.StringIO):
    """A seekable file whose contents change when it is rewound (rewritten on a shared disk)."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__(first)
        self._second: str | None = second

    def seek(self, *args: Any) -> int:
        if self._second is not None:
            self.truncate(0)
            super().seek(0)
            self.write(self._second)
            self._second = None
        return super().seek(*args)


def test_a_history_file_that_changes_between_its_two_reads_imports_nothing(
    ledger: Ledger,
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    checkpointed(ledger, log_signer, witness)
    before = io.StringIO()
    ledger.export_history(before)
    ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="unwitnessed", reason="r")
    checkpointed(ledger, log_signer, witness)
    after = io.StringIO()
    ledger.export_history(after)
    lines = before.getvalue().splitlines(keepends=True)
    extra = [
        line
        for line in after.getvalue().splitlines(keepends=True)
        if '"event"' in line and line not in lines
    ]
    at = next(i for i, line in enumerate(lines) if '"checkpoint"' in line)
    swapped = "".join(lines[:at] + extra + lines[at:])
    with Ledger(tmp_path / "copy.db", KeyDirectory()) as copy:
        with pytest.raises(ImportRowsError, match=r"the history changed while it was read"):
            copy.import_history(_RewrittenOnRewind(before.getvalue(), swapped), trusted=root)
        assert copy.certificate_list() == []


def test_an_event_stored_as_text_is_refused_by_name_on_a_read_command(
    ledger: Ledger,
    tmp_path: Path,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    checkpointed(ledger, log_signer, witness)
    db = tmp_path / "ledger.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as c:
        c.execute(
            sa.text(
                "UPDATE ledger_events SET state = CAST(state AS TEXT) WHERE originator_version = 2"
            )
        )
    engine.dispose()
    with Ledger(db) as reader, pytest.raises(LedgerError, match=r"log leaf \d+"):
        reader.certificate_list()
