"""Shared fixtures: actors and their keys, and one ledger per backend (SQLite and PostgreSQL).

PostgreSQL: each test session creates its own database and drops it at the end; each test gets
its own schema. Without a server the PostgreSQL tests skip with the reason, except under
CI=true, where they fail.
"""

from __future__ import annotations

import datetime
import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from ledger import KeyDirectory, Ledger, Organiser, SerialRange, Signer, database_url
from ledger.audit.note import cosign
from ledger.audit.trust import TrustRoot

POSTGRES = os.environ.get("LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def registry() -> Signer:
    return Signer.generate("shandong-carbon-inclusion-platform", "registry")


@pytest.fixture(scope="session")
def organiser() -> Signer:
    return Signer.generate("jinan-forum-organiser", "account")


@pytest.fixture(scope="session")
def stranger() -> Signer:
    return Signer.generate("someone-else", "account")


@pytest.fixture(scope="session")
def developer() -> Signer:
    return Signer.generate("taishan-forestry-developer", "developer")


@pytest.fixture(scope="session")
def verifier() -> Signer:
    return Signer.generate("certified-verifier", "verifier")


ORIGIN = "test.ledger.local/log"


@pytest.fixture(scope="session")
def operators() -> tuple[Signer, Signer]:
    return Signer.generate("operator-1", "operator"), Signer.generate("operator-2", "operator")


@pytest.fixture(scope="session")
def log_signer() -> Signer:
    return Signer.generate(ORIGIN, "log")


@pytest.fixture(scope="session")
def witness() -> Signer:
    return Signer.generate("witness.test/w1", "witness")


@pytest.fixture(scope="session")
def root(
    operators: tuple[Signer, Signer],
    log_signer: Signer,
    witness: Signer,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    developer: Signer,
    verifier: Signer,
) -> TrustRoot:
    signers = (*operators, log_signer, witness, registry, organiser, stranger, developer, verifier)
    unsigned = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        threshold=2,
        witnesses=1,
        keys=[signer.public for signer in signers],
    )
    return unsigned.signed_by(*operators)


@pytest.fixture(scope="session")
def keys(root: TrustRoot) -> KeyDirectory:
    return root.directory()


def checkpointed(ledger: Ledger, log_signer: Signer, witness: Signer) -> None:
    """Sign a checkpoint of the whole log and have the witness cosign it."""
    note = ledger.sign_checkpoint(log_signer)
    moment = int(datetime.datetime.now(datetime.UTC).timestamp())
    ledger.add_cosignature(cosign(note, witness, moment))


def issue(
    ledger: Ledger,
    registry: Signer,
    holder: Signer,
    start: int = 1,
    end: int = 1000,
    instrument: str = "inclusion-forest",
) -> uuid.UUID:
    """Issue a batch of ``start..end`` to ``holder`` with plain test facts."""
    return ledger.issue_batch(
        registry,
        instrument=instrument,
        vintage=2025,
        project="SD-FS-001",
        province="Shandong",
        methodology="test methodology",
        serials=SerialRange(start, end),
        holder=holder.actor,
    )


def new_event(
    ledger: Ledger,
    organiser: Signer,
    name: str = "Jinan Forum",
    ends: datetime.date = datetime.date(2026, 6, 30),
) -> uuid.UUID:
    """Register a 300-participant forum ending on ``ends`` (18:00 UTC); its id."""
    end = datetime.datetime.combine(ends, datetime.time(18), datetime.UTC)
    return ledger.register_event(
        organiser,
        kind="forum",
        name=name,
        organisers=[Organiser("Org", "enterprise")],
        venue="Jinan",
        starts=end - datetime.timedelta(days=2),
        ends=end,
        participants=300,
    )


@attrs.frozen
class Backend:
    """Where a test's ledger lives, and raw SQL access to it for tamper tests."""

    name: str
    url: str
    schema: str | None

    def open(self, keys: KeyDirectory) -> Ledger:
        return Ledger(self.url, keys, schema=self.schema)

    @property
    def table(self) -> str:
        return f"{self.schema}.ledger_events" if self.schema else "ledger_events"

    def execute(self, sql: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(database_url(self.url))
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(sql.format(table=self.table)), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


def _admin_url(database: str) -> str:
    return POSTGRES.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.Error as e:
        why = " ".join(str(e).split())
        reason = f"PostgreSQL is not reachable at {POSTGRES} ({why}); set LEDGER_TEST_POSTGRES"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the PostgreSQL tests to run: {reason}")
        pytest.skip(reason)
    name = f"ledger_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _admin_url(name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "ledger.db"), None)
    url = request.getfixturevalue("postgres_url")
    schema = f"t_{secrets.token_hex(6)}"
    created = Backend("postgres", url, schema)
    created.execute(f"CREATE SCHEMA {schema}")
    return created


@pytest.fixture
def ledger(backend: Backend, root: TrustRoot) -> Iterator[Ledger]:
    with Ledger(backend.url, root, schema=backend.schema) as opened:
        yield opened
