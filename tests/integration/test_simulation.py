"""Issue 15: the seeded simulation, with kills, on both backends; and its auditor's teeth.

The CI mode of ``python -m ledger.sim`` in small: two worker processes per phase (both also
projectors, at once), two trust-root rotations (three phases), six SIGKILLs at the kill points
(inside the save transaction, after the commit, in a checkpoint, in a projection, in an
import) and SIGKILLs sent from outside after random delays; the auditor must find nothing. On
the simulator's own PostgreSQL server (initdb in a temporary directory), the server is also
restarted in fast and immediate mode while the workers run. The auditor itself is shown to
name a lost acknowledged command, a refused command that wrote, a unit in two states and a
parcel used twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.domain.topics import Batch, Sink
from ledger.sim import RunConfig, run_seed
from ledger.sim._auditor import (
    Commands,
    Findings,
    _check_commands,
    _check_parcels,
    _check_units,
)
from ledger.sim._pgserver import PgServer, find_binaries


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def simulated(request: pytest.FixtureRequest, tmp_path: Path) -> RunConfig:
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    return RunConfig(
        seed=15,
        backend=request.param,
        postgres=postgres,
        workers=2,
        commands=24,
        kills=6,
        workdir=tmp_path,
        rotations=2,
        outside_kills=2,
    )


def test_a_seeded_run_with_kills_leaves_a_history_the_auditor_finds_whole(
    simulated: RunConfig,
) -> None:
    figures = run_seed(simulated)
    assert figures.divergences == []
    assert figures.refused > 0 and figures.acknowledged > figures.refused
    assert figures.crashes >= 4, figures.kill_points
    assert figures.outside_kills >= 1 and figures.rotations == 2
    assert figures.events > 25


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    folder, why = find_binaries()
    if folder is None:
        reason = f"cannot run a private PostgreSQL server to restart: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the server-restart test to run: {reason}")
        pytest.skip(reason)
    with PgServer() as server:
        yield server


def test_a_run_survives_its_postgresql_server_restarted_fast_and_immediate_under_the_writers(
    own_server: PgServer, tmp_path: Path
) -> None:
    config = RunConfig(
        seed=1515,
        backend="postgres",
        postgres=own_server.url,
        workers=2,
        commands=30,
        kills=4,
        workdir=tmp_path,
        rotations=1,
        outside_kills=1,
        pg_restarts=3,
        server=own_server,
    )
    figures = run_seed(config)
    assert figures.divergences == []
    assert figures.pg_restarts >= 2, figures.line()
    assert set(own_server.restarts) == {"fast", "immediate"}, own_server.restarts
    assert figures.acknowledged > figures.refused > 0


ISSUED = (Batch.ISSUED, "p1")
MOVED = (Batch.TRANSFERRED, "b", "acct-0", "1", "5", "acct-1")


def commands(*rows: tuple[str, tuple[str, ...], str | None]) -> Commands:
    found = Commands()
    for ident, sig, outcome in rows:
        found.ops[ident] = "op"
        found.sigs[ident] = [sig]
        found.outcomes[ident] = outcome
    return found


def history(*sigs: tuple[str, ...]) -> list[tuple[str, str, dict[str, object]]]:
    rows: list[tuple[str, str, dict[str, object]]] = []
    for sig in sigs:
        if sig[0] == Batch.ISSUED:
            rows.append((sig[0], "b", {"project": sig[1]}))
        else:
            fields = {"actor": sig[2], "serial_start": 1, "serial_end": 5, "to": sig[5]}
            rows.append((sig[0], sig[1], fields))
    return rows


def test_the_auditor_names_an_acknowledged_command_missing_from_the_history() -> None:
    findings = Findings()
    _check_commands(history(ISSUED), commands(("a", ISSUED, "ack"), ("b", MOVED, "ack")), findings)
    assert len(findings.divergences) == 1
    assert "an acknowledged command lost" in findings.divergences[0]


def test_the_auditor_names_a_refused_command_whose_event_is_in_the_history() -> None:
    findings = Findings()
    logged = commands(("a", ISSUED, "ack"), ("b", MOVED, "refused"))
    _check_commands(history(ISSUED, MOVED), logged, findings)
    assert len(findings.divergences) == 1
    assert "written by refused command b" in findings.divergences[0]


def test_the_auditor_accepts_a_command_cut_short_either_way() -> None:
    for found in (history(ISSUED), history(ISSUED, MOVED)):
        findings = Findings()
        _check_commands(found, commands(("a", ISSUED, "ack"), ("b", MOVED, None)), findings)
        assert findings.divergences == []


def test_the_auditor_names_a_unit_retired_twice_and_the_totals_it_breaks() -> None:
    issued = {"serial_start": 1, "serial_end": 10, "registry": "r", "holder": "acct-0"}
    retired = {"serial_start": 3, "serial_end": 4, "actor": "acct-0", "event_name": None}
    findings = Findings()
    _check_units(
        [(Batch.ISSUED, "b", issued), (Batch.RETIRED, "b", retired), (Batch.RETIRED, "b", retired)],
        findings,
    )
    assert any("a unit in two states" in d for d in findings.divergences)


def test_the_auditor_names_a_parcel_id_and_an_area_used_by_two_projects() -> None:
    def square(x: str) -> str:
        ring = f"[{x},36],[{x}1,36],[{x}1,36.01],[{x},36.01],[{x},36]"
        return '{"type":"Polygon","coordinates":[[' + ring + "]]}"

    first = {"parcels": [{"id": "P-1", "geometry": square("117.0")}]}
    again = {"parcels": [{"id": "P-1", "geometry": None}]}
    overlapping = {"parcels": [{"id": "P-2", "geometry": square("117.00")}]}
    findings = Findings()
    _check_parcels(
        [
            (Sink.REGISTERED, "s1", first),
            (Sink.REGISTERED, "s2", again),
            (Sink.REGISTERED, "s3", overlapping),
        ],
        findings,
    )
    assert [d.split(" ")[1:3] for d in findings.divergences] == [
        ["parcel", "P-1"],
        ["parcel", "P-2"],
    ]
