"""Read models applied a page at a time equal a replay from zero, whatever the page (issue 13)."""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, LedgerError, SerialRange, Signer
from ledger.accounting import FactorTable
from ledger.audit.envelope import Entry
from ledger.audit.trust import TrustRoot
from ledger.domain.event_values import Organiser
from ledger.domain.parcels import Parcel
from ledger.errors import TamperError
from ledger.projections import _signatures
from ledger.projections.check import READ_MODELS, fresh_all
from ledger.projections.runner import ProjectionRunner

from conftest import Backend, issue

UTC = datetime.UTC
Step = Callable[[], Any]


def every_kind_of_event(
    ledger: Ledger, now: list[datetime.datetime], signers: dict[str, Signer]
) -> list[Step]:
    """Steps that write every event a read model folds, in an order the rules accept."""
    registry, organiser, stranger = signers["registry"], signers["organiser"], signers["stranger"]
    developer, verifier = signers["developer"], signers["verifier"]
    made: dict[str, Any] = {}

    def first_batch() -> None:
        made["batch"] = ledger.issue_batch(
            registry,
            instrument="inclusion-forest",
            vintage=2025,
            project="p",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1, 100),
            holder=organiser.actor,
            parcels=[Parcel.of("CREDITED-1")],
        )

    def forum() -> None:
        made["event"] = ledger.register_event(
            organiser,
            kind="forum",
            name="Forum",
            organisers=[Organiser("Org", "enterprise")],
            venue="Jinan",
            starts=datetime.datetime(2026, 5, 1, tzinfo=UTC),
            ends=datetime.datetime(2026, 5, 2, tzinfo=UTC),
            participants=250,
        )

    def plan() -> None:
        ledger.publish_plan(
            organiser,
            made["event"],
            boundary=["lodging"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
        )

    def project() -> None:
        made["project"] = ledger.register_sink_project(
            developer,
            name="Forum forest",
            ecosystem="forest",
            parcels=[Parcel.of("F-1"), Parcel.of("F-2")],
            area_hectares=5,
            expected_removals=20,
            crediting_start=datetime.date(2026, 1, 1),
            crediting_end=datetime.date(2040, 1, 1),
        )

    def account() -> None:
        now[0] = datetime.datetime(2026, 6, 1, tzinfo=UTC)
        ledger.account_emissions(
            organiser, made["event"], [FactorTable.default()["hotel-room-night-china"].line(100)]
        )

    def second_batch() -> None:
        made["second"] = issue(ledger, registry, organiser, 1001, 1500)

    def second(call: Callable[..., Any], signer: Signer, *args: Any, **kwargs: Any) -> Step:
        return lambda: call(signer, made["second"], *args, **kwargs)

    return [
        first_batch,
        lambda: ledger.donate(organiser, made["batch"], SerialRange(1, 20), to=stranger.actor),
        lambda: ledger.transfer(stranger, made["batch"], SerialRange(1, 10), to=organiser.actor),
        forum,
        plan,
        project,
        lambda: ledger.bind_sink_project(developer, made["project"], event_id=made["event"]),
        account,
        second_batch,
        second(ledger.transfer, organiser, SerialRange(1001, 1100), to=stranger.actor),
        second(ledger.reserve, stranger, SerialRange(1001, 1015), event_name="Forum"),
        lambda: ledger.allocate_offsets(organiser, made["event"], made["batch"], SerialRange(1, 6)),
        lambda: ledger.retire_offsets(organiser, made["event"]),
        second(
            ledger.retire,
            stranger,
            SerialRange(1001, 1005),
            beneficiary="b",
            reason="r",
            event_name="Forum",
        ),
        second(ledger.release, stranger, SerialRange(1006, 1010), event_name="Forum"),
        second(ledger.split, organiser, 1300),
        second(ledger.export, organiser, SerialRange(1400, 1449), target_registry="v", reason="r"),
        lambda: ledger.commit_neutrality(organiser, made["event"]),
        lambda: ledger.confirm_event(organiser, made["event"]),
        lambda: ledger.file_sink_application(developer, made["project"]),
        lambda: ledger.validate_sink_project(verifier, made["project"]),
        lambda: ledger.measure_sink_removals(verifier, made["project"], tonnes=Decimal("12")),
    ]


def snapshots(runners: list[ProjectionRunner]) -> dict[str, Any]:
    return {runner.projection.name: runner.snapshot() for runner in runners}


@pytest.mark.parametrize("page", [1, 2, 5, 100])
def test_read_models_kept_up_page_by_page_while_events_are_written_equal_a_rebuild(
    backend: Backend,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    developer: Signer,
    verifier: Signer,
    page: int,
) -> None:
    now = [datetime.datetime(2026, 3, 1, tzinfo=UTC)]
    signers = {
        "registry": registry,
        "organiser": organiser,
        "stranger": stranger,
        "developer": developer,
        "verifier": verifier,
    }
    with Ledger(backend.url, root, schema=backend.schema, clock=lambda: now[0]) as ledger:
        live = [ProjectionRunner(ledger.store, make(), backend.schema) for make in READ_MODELS]
        for n, step in enumerate(every_kind_of_event(ledger, now, signers)):
            step()
            if n % 3 == 2:
                for runner in live:
                    runner.catch_up(page=page)
        for runner in live:
            runner.catch_up(page=page)
            assert runner.position() == ledger.store.max_notification_id()
        kept = snapshots(live)
        rebuilt = snapshots(fresh_all(ledger.store))
    assert kept == rebuilt
    tables = kept["serial-units"]
    kinds = sorted(row[2] for row in tables["ledger_view_unit_history"])  # each move, once
    assert kinds == sorted(
        ["issued"] * 2
        + ["donated", "exported", "released"]
        + ["transferred", "reserved"] * 2
        + ["retired"] * 2
    )
    assert {row[3] for row in tables["ledger_view_lots"]} == {
        "held",
        "reserved",
        "retired",
        "exported",
    }
    assert len(kept["certificates"]["ledger_view_certificates"]) == 2
    assert [row[3] for row in kept["deadlines"]["ledger_view_deadlines"] if row[3]]  # done days
    assert {row[1] for row in kept["disclosure-register"]["ledger_view_disclosures"]} >= {
        "plan",
        "commitment",
        "confirmation",
        "retirement",
        "export",
    }


def test_a_rebuild_with_the_verifier_pool_equals_one_verifying_every_signature_here(
    backend: Backend,
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 500)
    for n in range(1, 30):
        ledger.transfer(organiser, batch, SerialRange(n, n), to=stranger.actor)
    monkeypatch.setattr(_signatures, "POOL_FROM", 10**9)
    here = snapshots(fresh_all(ledger.store))
    pooled_keys: list[bytes | None] = []

    def waited(future: Future[list[bytes | None]], size: int, warm: bool) -> list[bytes | None]:
        found = future.result()  # a cold pool is not waited for; this test waits, to use all
        pooled_keys.extend(found)
        return found

    monkeypatch.setattr(_signatures, "POOL_FROM", 1)
    monkeypatch.setattr(_signatures, "START_FROM", 1)
    monkeypatch.setattr(_signatures, "PAGE", 4)
    monkeypatch.setattr(_signatures, "_ready", waited)
    pooled = snapshots(fresh_all(ledger.store))
    assert pooled == here
    assert len(here["serial-units"]["ledger_view_lots"]) == 30
    assert len(pooled_keys) == 30 and None not in pooled_keys


def test_a_forged_signature_is_refused_by_a_rebuild_that_uses_the_verifier_pool(
    backend: Backend,
    ledger: Ledger,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = issue(ledger, registry, organiser, 1, 500)
    ledger.transfer(organiser, batch, SerialRange(1, 5), to=stranger.actor)
    (_, first), (row_id, state) = backend.execute("SELECT id, state FROM {table} ORDER BY id")
    forged = json.loads(bytes(state))  # the transfer, carrying the issuance's signature
    forged["signatures"][0]["sig"] = json.loads(bytes(first))["signatures"][0]["sig"]
    changed = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    backend.execute("UPDATE {table} SET state = :s WHERE id = :id", s=changed, id=row_id)
    monkeypatch.setattr(_signatures, "POOL_FROM", 1)
    monkeypatch.setattr(_signatures, "START_FROM", 1)
    with pytest.raises(TamperError):
        fresh_all(ledger.store)


# Random unit moves on two batches, replayed with random page sizes (SQLite: each example is
# a fresh store, so a function-scoped backend fixture cannot be shared between examples).
_MOVE = st.tuples(
    st.sampled_from(["transfer", "reserve", "release", "retire", "split", "export"]),
    st.integers(0, 1),
    st.integers(1, 40),
    st.integers(0, 8),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moves=st.lists(_MOVE, min_size=1, max_size=14), page=st.integers(1, 6))
def test_random_unit_moves_folded_in_pages_of_any_size_equal_a_rebuild(
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    moves: list[tuple[str, int, int, int]],
    page: int,
) -> None:
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "l.db", root) as ledger:
        batches = [
            issue(ledger, registry, organiser, 1, 40),
            issue(ledger, registry, organiser, 101, 140),
        ]
        runner = ProjectionRunner(ledger.store, READ_MODELS[0]())
        for kind, which, start, width in moves:
            base = which * 100
            _try_move(ledger, organiser, stranger, batches[which], kind, base + start, width)
            runner.catch_up(page=page)
        (rebuilt,) = fresh_all(ledger.store, [READ_MODELS[0]()])
        assert runner.snapshot() == rebuilt.snapshot()


def _try_move(
    ledger: Ledger,
    organiser: Signer,
    stranger: Signer,
    batch: Any,
    kind: str,
    start: int,
    width: int,
) -> None:
    """One move of units; a move the rules refuse changes nothing and is skipped."""
    span = SerialRange(start, min(start + width, start // 100 * 100 + 40))
    try:
        if kind == "split":
            ledger.split(organiser, batch, start + 1)
        elif kind == "transfer":
            ledger.transfer(organiser, batch, span, to=stranger.actor)
        elif kind == "reserve":
            ledger.reserve(organiser, batch, span, event_name="Forum")
        elif kind == "release":
            ledger.release(organiser, batch, span, event_name="Forum")
        elif kind == "retire":
            ledger.retire(organiser, batch, span, beneficiary="b", reason="r", event_name="F")
        else:
            ledger.export(organiser, batch, span, target_registry="v", reason="r")
    except LedgerError:
        pass


class _OneByOne:
    """A read model with only ``apply`` (as in the integrator's guide): fed entry by entry."""

    name = "one-by-one"

    def define(self, metadata: sa.MetaData) -> list[sa.Table]:
        self.rows = sa.Table(
            "one_by_one",
            metadata,
            sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("topic", sa.Text, nullable=False),
        )
        return [self.rows]

    def apply(self, connection: sa.Connection, position: int, entry: Entry) -> None:
        connection.execute(self.rows.insert().values(position=position, topic=entry.topic))


def test_a_read_model_with_only_apply_is_fed_entry_by_entry_by_catch_up_and_rebuild(
    backend: Backend, ledger: Ledger, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    batch = issue(ledger, registry, organiser, 1, 50)
    ledger.transfer(organiser, batch, SerialRange(1, 5), to=stranger.actor)
    runner = ProjectionRunner(ledger.store, _OneByOne(), backend.schema)
    assert runner.catch_up(page=1) == 2
    (rebuilt,) = fresh_all(ledger.store, [_OneByOne()])
    assert runner.snapshot() == rebuilt.snapshot()
    assert [row[1] for row in rebuilt.snapshot()["one_by_one"]] == [
        "ledger.credit-batch.issued.v1",
        "ledger.credit-batch.transferred.v1",
    ]
