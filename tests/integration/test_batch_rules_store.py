"""Credit-batch rules that need the store, on SQLite and PostgreSQL (issue 3, R7, R11)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import (
    KeyDirectory,
    Ledger,
    LedgerError,
    NotFoundError,
    RuleViolationError,
    SerialRange,
    Signer,
    verify_proof,
)
from ledger.audit.trust import TrustRoot
from ledger.store._claims import ClaimIndex, Claims
from ledger.store._claims._serials import SerialClaim
from ledger.store._replay_claims import ReplayClaims

from conftest import Backend, checkpointed, issue


def test_serial_blocks_of_one_registry_never_overlap_across_batches(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    first = issue(ledger, registry, organiser, 1, 1000)
    with pytest.raises(
        RuleViolationError, match=rf"R11: serials 900-1100 .* overlap batch {first}"
    ):
        issue(ledger, registry, organiser, 900, 1100)
    assert backend.execute("SELECT count(*) FROM {table}")[0][0] == 1
    issue(ledger, registry, organiser, 1001, 1100)


def test_another_registry_may_use_the_same_serial_numbers(
    backend: Backend, organiser: Signer, registry: Signer
) -> None:
    ccer = Signer.generate("ccer-registry", "registry")
    keys = KeyDirectory([registry.public, organiser.public, ccer.public])
    with backend.open(keys) as ledger:
        issue(ledger, registry, organiser, 1, 100)
        issue(ledger, ccer, organiser, 1, 100, instrument="ccer")
        assert backend.execute("SELECT count(*) FROM {table}")[0][0] == 2


def test_the_database_itself_refuses_an_overlapping_serial_block(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    issue(ledger, registry, organiser, 1, 1000)
    table = (
        "ledger_serial_blocks"
        if backend.schema is None
        else f"{backend.schema}.ledger_serial_blocks"
    )
    with pytest.raises(sa.exc.IntegrityError):
        backend.execute(
            f"INSERT INTO {table} (registry, serial_start, serial_end, batch)"
            " VALUES (:registry, 500, 1500, 'raw')",
            registry=registry.actor,
        )


@pytest.mark.parametrize(("start", "end"), [(500, 600), (0, 5000), (2500, 3500), (3000, 3000)])
def test_the_database_refuses_a_block_inside_across_or_touching_earlier_blocks(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, start: int, end: int
) -> None:
    issue(ledger, registry, organiser, 1, 1000)
    issue(ledger, registry, organiser, 2001, 3000)
    table = (
        "ledger_serial_blocks"
        if backend.schema is None
        else f"{backend.schema}.ledger_serial_blocks"
    )
    with pytest.raises(sa.exc.IntegrityError):
        backend.execute(
            f"INSERT INTO {table} (registry, serial_start, serial_end, batch)"
            " VALUES (:registry, :start, :end, 'raw')",
            registry=registry.actor,
            start=start,
            end=end,
        )
    backend.execute(
        f"INSERT INTO {table} (registry, serial_start, serial_end, batch)"
        " VALUES (:registry, 1001, 2000, 'raw')",
        registry=registry.actor,
    )


def test_units_only_go_to_known_accounts(
    ledger: Ledger, registry: Signer, organiser: Signer
) -> None:
    with pytest.raises(NotFoundError, match="unknown account 'nobody'"):
        ledger.issue_batch(
            registry,
            instrument="ccer",
            vintage=2024,
            project="p",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1, 10),
            holder="nobody",
        )
    batch = issue(ledger, registry, organiser)
    with pytest.raises(NotFoundError, match="unknown account 'nobody'"):
        ledger.transfer(organiser, batch, SerialRange(1, 10), to="nobody")
    assert len(ledger.history(batch)) == 1


def test_every_unit_is_traceable_from_issuance_through_each_holder_to_retirement(
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    root: TrustRoot,
    log_signer: Signer,
    witness: Signer,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    ledger.transfer(organiser, batch, SerialRange(1, 50), to=stranger.actor)
    ledger.donate(stranger, batch, SerialRange(1, 20), to=organiser.actor)
    ledger.reserve(organiser, batch, SerialRange(5, 15), event_name="Forum")
    certificate = ledger.retire(
        organiser, batch, SerialRange(5, 15), beneficiary="Forum", reason="r", event_name="Forum"
    )
    steps = ledger.provenance(batch, 10)
    assert [(s.kind, s.account) for s in steps] == [
        ("issued", organiser.actor),
        ("transferred", stranger.actor),
        ("donated", organiser.actor),
        ("reserved", organiser.actor),
        ("retired", organiser.actor),
    ]
    assert [s.kind for s in ledger.provenance(batch, 80)] == ["issued"]
    assert certificate.holders == [organiser.actor, stranger.actor]
    assert certificate.donors == [stranger.actor]
    assert certificate.priority_rank == 1
    assert certificate.tonnes == "11"
    checkpointed(ledger, log_signer, witness)
    assert verify_proof(ledger.proof(batch, certificate.retirement_version), root) is None


def test_a_refused_command_changes_nothing(
    ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 100)
    before = ledger.batch(batch).lots()
    for attempt in (
        lambda: ledger.transfer(stranger, batch, SerialRange(1, 5), to=organiser.actor),
        lambda: ledger.release(organiser, batch, SerialRange(1, 5), event_name="Forum"),
        lambda: ledger.split(organiser, batch, 1),
        lambda: ledger.export(
            organiser, batch, SerialRange(90, 110), target_registry="x", reason="r"
        ),
    ):
        with pytest.raises(LedgerError, match=r"R11|already starts"):
            attempt()
    assert ledger.batch(batch).lots() == before
    assert len(ledger.history(batch)) == 1


def test_a_sqlite_file_with_the_first_overlap_trigger_gets_the_nearest_block_trigger(
    tmp_path: Path,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE ledger_serial_blocks (registry TEXT, serial_start BIGINT,"
                    " serial_end BIGINT NOT NULL, batch TEXT NOT NULL,"
                    " PRIMARY KEY (registry, serial_start))"
                )
            )
            connection.execute(
                sa.text(
                    "CREATE TRIGGER ledger_serial_blocks_no_overlap BEFORE INSERT ON"
                    " ledger_serial_blocks BEGIN SELECT 1; END"
                )
            )
        ClaimIndex(engine, None)
        with engine.connect() as connection:
            names = connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            assert list(names) == ["ledger_serial_blocks_no_overlap_nearest"]
    finally:
        engine.dispose()


def test_a_replay_refuses_the_serial_blocks_the_store_refuses_and_lists_the_same_rows(
    tmp_path: Path,
) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'claims.db'}")
    store, replay = ClaimIndex(engine, None), ReplayClaims()
    blocks = [("r", 100, 200, "a"), ("r", 1, 50, "b"), ("s", 100, 200, "c"), ("r", 300, 400, "d")]
    refused = [("r", 150, 160, "x"), ("r", 40, 120, "y"), ("r", 201, 300, "z"), ("r", 1, 1, "w")]
    try:
        for registry, start, end, batch in [*blocks, *refused]:
            claims = Claims(serials=[SerialClaim(registry, SerialRange(start, end), batch)])
            outcomes = [
                _outcome(lambda c=claims: _store_claim(engine, store, c)),
                _outcome(lambda c=claims: replay.claim(c)),
            ]
            assert outcomes[0] == outcomes[1]
            assert (outcomes[0] == "taken") == ((registry, start, end, batch) in blocks)
        with engine.connect() as connection:
            assert replay.rows() == store.rows(connection)
    finally:
        replay.close()
        engine.dispose()


def _outcome(claim: Callable[[], None]) -> str:
    try:
        claim()
    except RuleViolationError as e:
        return str(e)
    return "taken"


def _store_claim(engine: sa.Engine, store: ClaimIndex, claims: Claims) -> None:
    with engine.begin() as connection:
        store.claim(connection, claims)
