"""The PostgreSQL server-side append writes where SQLAlchemy reads, whatever the server says.

Found by the insider review of the write path: the append and lock-read functions named the
event table unquoted, so a mixed-case schema was folded to another schema's table; and their
bodies held backslash literals that did not compile with ``standard_conforming_strings=off``.
"""

from __future__ import annotations

import urllib.parse

import pytest
import sqlalchemy as sa

from ledger import Ledger, SerialRange, Signer, TrustRoot, database_url

from conftest import issue

pytestmark = pytest.mark.postgres


def events_in(url: str, schema: str) -> int:
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            table = f'"{schema}".ledger_events'
            return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()


def create_schemas(url: str, *names: str) -> None:
    engine = sa.create_engine(database_url(url))
    try:
        with engine.begin() as connection:
            for name in names:
                connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    finally:
        engine.dispose()


# eventsourcing-sqlalchemy names its record class after the schema, capitalised, so the two
# schemas of this test share a class name in SQLAlchemy's registry; the rows below show that the
# tables stay apart all the same.
@pytest.mark.filterwarnings("ignore:This declarative base already contains a class")
def test_a_mixed_case_schema_keeps_its_events_apart_from_the_schema_its_name_folds_to(
    postgres_url: str, root: TrustRoot, registry: Signer, organiser: Signer
) -> None:
    create_schemas(postgres_url, "Tenant", "tenant")
    with Ledger(postgres_url, root, schema="tenant"):
        pass  # another tenant's ledger where the folded name points
    with Ledger(postgres_url, root, schema="Tenant") as ledger:
        batch = issue(ledger, registry, organiser, 1, 100)
        ledger.retire(organiser, batch, SerialRange(1, 5), beneficiary="b", reason="r")
    assert (events_in(postgres_url, "Tenant"), events_in(postgres_url, "tenant")) == (2, 0)
    with Ledger(postgres_url, root, schema="Tenant") as reader:
        assert [event.version for event in reader.history(batch)] == [1, 2]
        assert reader.audit(root).events == 2


def test_a_server_with_standard_conforming_strings_off_still_stores_the_signed_bytes(
    postgres_url: str, root: TrustRoot, registry: Signer, organiser: Signer
) -> None:
    create_schemas(postgres_url, "legacy")
    options = urllib.parse.quote("-c standard_conforming_strings=off")
    legacy = f"{postgres_url}?options={options}"
    with Ledger(legacy, root, schema="legacy") as ledger:
        batch = issue(ledger, registry, organiser, 1, 100)
        ledger.retire(organiser, batch, SerialRange(1, 5), beneficiary="b", reason="r")
    with Ledger(postgres_url, root, schema="legacy") as reader:
        assert [event.version for event in reader.history(batch)] == [1, 2]
        assert reader.audit(root).events == 2
