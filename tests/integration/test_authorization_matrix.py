"""Issue 15: every command x every role x a valid, expired, revoked, unknown or wrong-actor key.

Only the allowed cells succeed: the command's role with the rightful actor's valid key (and,
for commands that create something of the signer's own, another actor's valid key of that
role). Every other cell raises a LedgerError and writes nothing: every row of every table of
the store is the same before and after. The full matrix runs on SQLite; a sample of commands
on PostgreSQL.

Keys: each role has an actor ``<role>-1`` with three keys in the trust root: a valid one, one
whose window closed on 2026-02-01 (expired) and one revoked by the root's version 2
(revoked); ``unknown`` is a new key of ``<role>-1`` listed nowhere; ``wrong-actor`` is the
valid key of ``<role>-2``.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from ledger import (
    FactorTable,
    Ledger,
    LedgerError,
    Organiser,
    SerialRange,
    Signer,
    TrustRoot,
)
from ledger.audit.note import cosign
from ledger.domain.parcels import Parcel

from conftest import Backend

ROLES = ("operator", "log", "witness", "registry", "account", "developer", "verifier")
VARIANTS = ("valid", "expired", "revoked", "unknown", "wrong-actor")
ORIGIN = "role-1-log"  # the log key's actor is the log's origin
EXPIRED = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)
STARTS = datetime.datetime(2026, 5, 10, 9, tzinfo=datetime.UTC)
ENDS = datetime.datetime(2026, 5, 12, 18, tzinfo=datetime.UTC)
FACTOR = FactorTable.default()["electricity-shandong-2022"]


def actor(role: str, n: int) -> str:
    return ORIGIN if (role, n) == ("log", 1) else f"{role}-{n}"


@attrs.frozen
class Keys:
    """Every key of the matrix, and the two roots."""

    keys: dict[tuple[str, str], Signer]
    v1: TrustRoot
    v2: TrustRoot

    def __getitem__(self, role: str) -> Signer:
        return self.keys[(role, "valid")]


@pytest.fixture(scope="module")
def matrix_keys() -> Keys:
    keys = {}
    for role in ROLES:
        for variant in VARIANTS:
            name = actor(role, 2 if variant == "wrong-actor" else 1)
            keys[(role, variant)] = Signer.generate(name, role)
    listed = [s.public for (r, v), s in keys.items() if v != "unknown"]
    expired = {keys[(r, "expired")].public.keyid for r in ROLES}
    revoked = {keys[(r, "revoked")].public.keyid for r in ROLES}
    listed = [attrs.evolve(k, valid_until=EXPIRED) if k.keyid in expired else k for k in listed]
    operators = (keys[("operator", "valid")], keys[("operator", "wrong-actor")])
    v1 = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        threshold=2,
        witnesses=1,
        keys=listed,
    ).signed_by(*operators)
    at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    closed = [attrs.evolve(k, valid_until=at) if k.keyid in revoked else k for k in v1.keys]
    v2 = attrs.evolve(v1, version=2, issued_at=at, keys=tuple(closed), signatures=())
    return Keys(keys, v1, v2.signed_by(*operators))


# Commands: (role, creates-its-own, prepare, run) -------------------------------------------

Prepared = dict[str, Any]
_serials = itertools.count(10_000, 100)


def _batch(ledger: Ledger, k: Keys) -> Prepared:
    batch = ledger.issue_batch(
        k["registry"],
        instrument="inclusion-forest",
        vintage=2025,
        project="matrix",
        province="Shandong",
        methodology="m",
        serials=SerialRange(next(_serials), next(_serials) - 1),
        holder=actor("account", 1),
    )
    first = ledger.batch(batch).serials.start
    return {"batch": batch, "first": first}


def _range(p: Prepared, n: int = 10) -> SerialRange:
    return SerialRange(p["first"], p["first"] + n - 1)


def _event(
    ledger: Ledger, k: Keys, clock: list[datetime.datetime], participants: int = 300
) -> Prepared:
    clock[0] = datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC)
    event = ledger.register_event(
        k["account"],
        kind="forum",
        name="Matrix Forum",
        organisers=[Organiser("Org", "enterprise")],
        venue="Jinan",
        starts=STARTS,
        ends=ENDS,
        participants=participants,
    )
    return {"event": event}


def _planned(ledger: Ledger, k: Keys, clock: list[datetime.datetime], **kw: Any) -> Prepared:
    p = _event(ledger, k, clock, **kw)
    offsets = [{"instrument": "inclusion-forest", "province": "Shandong"}]
    ledger.publish_plan(
        k["account"],
        p["event"],
        boundary=["purchased-electricity"],
        estimates={},
        measures=[],
        offsets=offsets,
    )
    return p


def _allocated(ledger: Ledger, k: Keys, clock: list[datetime.datetime], **kw: Any) -> Prepared:
    p = _planned(ledger, k, clock, **kw) | _batch(ledger, k)
    clock[0] = datetime.datetime(2026, 5, 20, tzinfo=datetime.UTC)
    ledger.allocate_offsets(k["account"], p["event"], p["batch"], _range(p))
    ledger.account_emissions(k["account"], p["event"], [FACTOR.line(Decimal(1000))])
    return p


def _retired(ledger: Ledger, k: Keys, clock: list[datetime.datetime], **kw: Any) -> Prepared:
    p = _allocated(ledger, k, clock, **kw)
    ledger.retire_offsets(k["account"], p["event"])
    clock[0] = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    return p


def _project(ledger: Ledger, k: Keys, clock: list[datetime.datetime], steps: int) -> Prepared:
    p = _event(ledger, k, clock)
    p["project"] = ledger.register_sink_project(
        k["developer"],
        name="matrix sink",
        ecosystem="forest",
        parcels=[Parcel.of(f"M-{next(_serials)}")],
        area_hectares=10,
        expected_removals=100,
        crediting_start=datetime.date(2026, 1, 1),
        crediting_end=datetime.date(2040, 1, 1),
    )
    clock[0] = datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)
    done = [
        lambda: ledger.bind_sink_project(k["developer"], p["project"], event_id=p["event"]),
        lambda: ledger.file_sink_application(k["developer"], p["project"]),
        lambda: ledger.measure_sink_removals(k["verifier"], p["project"], tonnes=50),
    ]
    for step in done[:steps]:
        step()
    return p


def _checkpointed(ledger: Ledger, k: Keys, clock: list[datetime.datetime]) -> Prepared:
    _batch(ledger, k)
    return {"note": ledger.sign_checkpoint(k["log"])}


Prepare = Callable[[Ledger, Keys, list[datetime.datetime]], Prepared]
Run = Callable[[Ledger, Signer, Prepared], Any]


@attrs.frozen
class Command:
    role: str
    prepare: Prepare
    run: Run
    creates: bool = False  # another actor of the role may do it for itself


def _issue(ledger: Ledger, s: Signer, p: Prepared) -> Any:
    start = next(_serials)
    return ledger.issue_batch(
        s,
        instrument="ccer",
        vintage=2025,
        project="matrix issue",
        province="Shandong",
        methodology="m",
        serials=SerialRange(start, start + 9),
        holder=actor("account", 1),
    )


def _register_sink(ledger: Ledger, s: Signer, p: Prepared) -> Any:
    return ledger.register_sink_project(
        s,
        name="matrix sink",
        ecosystem="marine",
        parcels=[Parcel.of(f"N-{next(_serials)}")],
        area_hectares=1,
        expected_removals=1,
        crediting_start=datetime.date(2026, 1, 1),
        crediting_end=datetime.date(2030, 1, 1),
    )


def _register_event(ledger: Ledger, s: Signer, p: Prepared) -> Any:
    return ledger.register_event(
        s,
        kind="meeting",
        name="Matrix Meeting",
        organisers=[Organiser("Org", "enterprise")],
        venue="Jinan",
        starts=STARTS,
        ends=ENDS,
        participants=250,
    )


def _reserved(ledger: Ledger, k: Keys, clock: list[datetime.datetime]) -> Prepared:
    p = _batch(ledger, k)
    ledger.reserve(k["account"], p["batch"], _range(p), event_name="E")
    return p


def _moment() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp())


COMMANDS: dict[str, Command] = {
    "issue": Command("registry", lambda led, k, c: {}, _issue, creates=True),
    "transfer": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.transfer(s, p["batch"], _range(p), to=actor("account", 2)),
    ),
    "donate": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.donate(s, p["batch"], _range(p), to=actor("account", 2)),
    ),
    "split": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.split(s, p["batch"], p["first"] + 5),
    ),
    "reserve": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.reserve(s, p["batch"], _range(p), event_name="E"),
    ),
    "release": Command(
        "account",
        _reserved,
        lambda led, s, p: led.release(s, p["batch"], _range(p), event_name="E"),
    ),
    "retire": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.retire(s, p["batch"], _range(p), beneficiary="b", reason="r"),
    ),
    "export": Command(
        "account",
        lambda led, k, c: _batch(led, k),
        lambda led, s, p: led.export(s, p["batch"], _range(p), target_registry="x", reason="r"),
    ),
    "sink register": Command("developer", lambda led, k, c: {}, _register_sink, creates=True),
    "sink bind": Command(
        "developer",
        lambda led, k, c: _project(led, k, c, 0),
        lambda led, s, p: led.bind_sink_project(s, p["project"], event_id=p["event"]),
    ),
    "sink file": Command(
        "developer",
        lambda led, k, c: _project(led, k, c, 1),
        lambda led, s, p: led.file_sink_application(s, p["project"]),
    ),
    "sink validate": Command(
        "verifier",
        lambda led, k, c: _project(led, k, c, 2),
        lambda led, s, p: led.validate_sink_project(s, p["project"]),
        creates=True,  # any certified verifier may validate
    ),
    "sink measure": Command(
        "verifier",
        lambda led, k, c: _project(led, k, c, 1),
        lambda led, s, p: led.measure_sink_removals(s, p["project"], tonnes=50),
        creates=True,
    ),
    "sink issue": Command(
        "registry",
        lambda led, k, c: _project(led, k, c, 3),
        lambda led, s, p: led.issue_sink_removals(
            s,
            p["project"],
            serials=SerialRange(next(_serials), next(_serials) - 91),
            holder=actor("account", 1),
            methodology="m",
        ),
        creates=True,  # a registry issues as itself
    ),
    "event register": Command("account", lambda led, k, c: {}, _register_event, creates=True),
    "event plan": Command(
        "account",
        _event,
        lambda led, s, p: led.publish_plan(
            s,
            p["event"],
            boundary=["purchased-electricity"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
        ),
    ),
    "event allocate": Command(
        "account",
        lambda led, k, c: _planned(led, k, c) | _batch(led, k),
        lambda led, s, p: led.allocate_offsets(s, p["event"], p["batch"], _range(p)),
    ),
    "event account": Command(
        "account",
        lambda led, k, c: [
            _planned(led, k, c),
            c.__setitem__(0, ENDS + datetime.timedelta(days=3)),
        ][0],
        lambda led, s, p: led.account_emissions(s, p["event"], [FACTOR.line(Decimal(1000))]),
    ),
    "event retire": Command(
        "account", _allocated, lambda led, s, p: led.retire_offsets(s, p["event"])
    ),
    "event commit": Command(
        "account", _retired, lambda led, s, p: led.commit_neutrality(s, p["event"])
    ),
    "event evaluate": Command(
        "verifier",
        lambda led, k, c: _retired(led, k, c, participants=1000),
        lambda led, s, p: led.evaluate_event(
            s, p["event"], conclusion="neutral", verified_tonnes=1, report="r"
        ),
        creates=True,  # any certified verifier may evaluate
    ),
    "event confirm": Command(
        "account",
        lambda led, k, c: [
            p := _retired(led, k, c),
            led.commit_neutrality(k["account"], p["event"]),
        ][0],
        lambda led, s, p: led.confirm_event(s, p["event"]),
    ),
    "checkpoint": Command(
        "log", lambda led, k, c: _batch(led, k), lambda led, s, p: led.sign_checkpoint(s)
    ),
    "cosign": Command(
        "witness",
        _checkpointed,
        lambda led, s, p: led.add_cosignature(cosign(p["note"], s, _moment())),
        creates=True,  # any witness of the root may cosign
    ),
}


POSTGRES_SAMPLE = ("retire", "event plan", "sink bind", "cosign")


def allowed(command: Command, role: str, variant: str) -> bool:
    if role != command.role:
        return False
    return variant == "valid" or (variant == "wrong-actor" and command.creates)


_TABLES: dict[int, list[str]] = {}


def rows(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store."""
    engine = ledger.store.engine
    schema = ledger.store.schema
    names = _TABLES.get(id(engine))
    if names is None:
        names = _TABLES[id(engine)] = sa.inspect(engine).get_table_names(schema=schema)
    prefix = f'"{schema}".' if schema else ""
    with engine.connect() as connection:
        return {
            name: sorted(
                (tuple(r) for r in connection.exec_driver_sql(f'SELECT * FROM {prefix}"{name}"')),
                key=repr,
            )
            for name in names
        }


@pytest.fixture
def opened(backend: Backend, matrix_keys: Keys) -> Iterator[tuple[Ledger, list[datetime.datetime]]]:
    clock = [datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)]
    with Ledger(backend.url, matrix_keys.v1, schema=backend.schema, clock=lambda: clock[0]) as led:
        led.adopt_root(matrix_keys.v2)
        yield led, clock


def run_matrix(name: str, opened: tuple[Ledger, list[datetime.datetime]], k: Keys) -> None:
    ledger, clock = opened
    command = COMMANDS[name]
    prepared = command.prepare(ledger, k, clock)
    cells = [(r, v) for r in ROLES for v in VARIANTS]
    cells.sort(key=lambda cell: allowed(command, *cell))  # the allowed cells last
    wrong: list[str] = []
    for role, variant in cells:
        before = rows(ledger)
        try:
            command.run(ledger, k.keys[(role, variant)], prepared)
        except LedgerError as e:
            if allowed(command, role, variant):
                wrong.append(f"{role}/{variant} refused: {e}")
            elif rows(ledger) != before:
                wrong.append(f"{role}/{variant} refused but wrote")
        else:
            if not allowed(command, role, variant):
                wrong.append(f"{role}/{variant} succeeded")
            elif rows(ledger) == before:
                wrong.append(f"{role}/{variant} succeeded and wrote nothing")
            if allowed(command, role, variant):
                prepared = command.prepare(ledger, k, clock)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_only_the_allowed_cells_of_a_command_succeed_and_the_others_write_nothing(
    name: str, request: pytest.FixtureRequest, matrix_keys: Keys, backend: Backend
) -> None:
    run_matrix(name, request.getfixturevalue("opened"), matrix_keys)


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("name", sorted(POSTGRES_SAMPLE))
def test_on_postgresql_a_sample_of_commands_keeps_to_the_same_matrix(
    name: str, request: pytest.FixtureRequest, matrix_keys: Keys, backend: Backend
) -> None:
    run_matrix(name, request.getfixturevalue("opened"), matrix_keys)


def test_a_revoked_log_or_witness_key_is_refused_even_when_the_clock_says_before_the_revocation(
    opened: tuple[Ledger, list[datetime.datetime]], matrix_keys: Keys
) -> None:
    """Found by this matrix: the clock decided, so a past ``--now`` let revoked keys write."""
    ledger, clock = opened
    clock[0] = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)  # before the revocation
    _batch(ledger, matrix_keys)
    with pytest.raises(LedgerError, match="not a current"):
        ledger.sign_checkpoint(matrix_keys.keys[("log", "revoked")])
    note = ledger.sign_checkpoint(matrix_keys["log"])
    with pytest.raises(LedgerError, match=r"not a current|does not match its key"):
        ledger.add_cosignature(cosign(note, matrix_keys.keys[("witness", "revoked")], _moment()))


def test_a_cosignature_by_an_unknown_key_is_refused_after_a_valid_one_by_the_same_name(
    opened: tuple[Ledger, list[datetime.datetime]], matrix_keys: Keys
) -> None:
    """Found by this matrix: any earlier valid line of the same witness name let it through."""
    ledger, _ = opened
    _batch(ledger, matrix_keys)
    note = ledger.sign_checkpoint(matrix_keys["log"])
    ledger.add_cosignature(cosign(note, matrix_keys["witness"], _moment()))
    before = rows(ledger)
    with pytest.raises(LedgerError, match="does not match its key"):
        ledger.add_cosignature(cosign(note, matrix_keys.keys[("witness", "unknown")], _moment()))
    assert rows(ledger) == before
