"""One seeded run: set up a store, run the workers in phases, kill some, then audit.

Rules:
- Phase 1: ``workers`` processes run their commands against one store (SQLite file, or a
  fresh schema of the PostgreSQL database); then, with no worker running, the run signs and
  cosigns a checkpoint, exports the history, and rotates the trust root (one account's
  current key revoked, its next one listed). Each later phase (``rotations`` + 1 phases in
  all): the workers again, with the new keys (and the revoked ones, which must be refused),
  some importing the exported history into new stores. The first ``projectors`` workers also
  catch the read models up, concurrently.
- Kill plans: ``kills`` (point, worker, command) triples from the seed; a worker killed by
  SIGKILL is started again (a new generation) with the commands it had left.
- Kills from outside: ``outside_kills`` per phase, the parent sending SIGKILL to a running
  worker once the phase has logged a seeded number of commands (wherever that worker is: in a
  transaction, between the event and its projection, writing its log); placed by progress,
  never by the clock.
- Server restarts (PostgreSQL on the run's own server only, ``server``): ``pg_restarts`` per
  phase, placed by progress the same way, in ``fast`` and ``immediate`` mode in turn, while
  the workers run.
- The run ends with the auditor (:mod:`ledger.sim._auditor`); a divergence keeps the store
  and the logs and names the seed that reproduces it.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import random
import secrets
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import attrs

from ledger import Ledger, LedgerError, Signer
from ledger.sim._auditor import Findings, audit_run, read_logs
from ledger.sim._crash import POINTS, KillSwitch
from ledger.sim._workload import Worker, day
from ledger.sim._world import ACCOUNTS, World

__all__ = ["Figures", "RunConfig", "run_seed"]

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
WORKER_TIMEOUT = 600
_FORK = multiprocessing.get_context("fork")  # workers start in milliseconds, modules loaded


@attrs.frozen
class RunConfig:
    """One run's parameters.

    Attributes:
        seed: the seed of everything the workers do.
        backend: ``sqlite`` or ``postgres``.
        postgres: the PostgreSQL URL (a schema is created in it, and dropped after).
        workers: processes per phase. commands: commands per worker and phase.
        kills: kill plans to place. keep: keep the store and logs even without divergence.
        workdir: where the run's folder goes (default: the system's temporary folder).
        rotations: trust-root rotations (one between each two phases).
        outside_kills: SIGKILLs the parent sends to running workers, per phase.
        pg_restarts: restarts of ``server`` per phase (PostgreSQL only).
        server: the run's own PostgreSQL server (:class:`ledger.sim._pgserver.PgServer`).
        projectors: workers that also catch the read models up (at once).
    """

    seed: int
    backend: str = "sqlite"
    postgres: str = POSTGRES
    workers: int = 2
    commands: int = 30
    kills: int = 4
    keep: bool = False
    workdir: Path | None = None
    rotations: int = 1
    outside_kills: int = 0
    pg_restarts: int = 0
    server: Any = None
    projectors: int = 2


@attrs.define
class Figures:
    """What runs did, added up."""

    seeds: int = 0
    commands: int = 0
    acknowledged: int = 0
    refused: int = 0
    cut_short: int = 0
    crashes: int = 0
    outside_kills: int = 0
    pg_restarts: int = 0
    rotations: int = 0
    indeterminate: int = 0
    kill_points: dict[str, int] = attrs.Factory(dict)
    events: int = 0
    seconds: float = 0.0
    divergences: list[str] = attrs.Factory(list)
    failed_seeds: list[str] = attrs.Factory(list)

    def add(self, other: Figures) -> None:
        """Add ``other``'s figures to these."""
        for name in (
            "seeds",
            "commands",
            "acknowledged",
            "refused",
            "cut_short",
            "crashes",
            "outside_kills",
            "pg_restarts",
            "rotations",
            "indeterminate",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for point, count in other.kill_points.items():
            self.kill_points[point] = self.kill_points.get(point, 0) + count
        self.events += other.events
        self.seconds += other.seconds
        self.divergences += other.divergences
        self.failed_seeds += other.failed_seeds

    def line(self) -> str:
        """One line of figures."""
        return (
            f"seeds {self.seeds}, commands {self.commands} (acknowledged {self.acknowledged},"
            f" refused {self.refused}, cut short {self.cut_short}, indeterminate"
            f" {self.indeterminate}), crashes injected {self.crashes} (in-process"
            f" {dict(sorted(self.kill_points.items()))}, from outside {self.outside_kills}),"
            f" PostgreSQL restarts {self.pg_restarts}, rotations {self.rotations},"
            f" events {self.events},"
            f" divergences {len(self.divergences)}"
            f" ({', '.join(self.failed_seeds) or 'none'}), {self.seconds:.0f} s"
        )


def _kill_plans(config: RunConfig, rng: random.Random) -> dict[tuple[int, int], list[str]]:
    """Kill points per (phase, worker): every point in turn, projector and import placed."""
    points = list(POINTS)
    rng.shuffle(points)
    plans: dict[tuple[int, int], list[str]] = {}
    for n in range(config.kills):
        point = points[n % len(points)]
        phases = config.rotations + 1
        phase = (
            rng.randint(2, phases) if point == "import" and phases > 1 else rng.randint(1, phases)
        )
        worker = 0 if point == "projection" else rng.randrange(config.workers)
        plans.setdefault((phase, worker), []).append(point)
    return plans


def run_seed(config: RunConfig, out: Any = None) -> Figures:
    """Run one seed and audit it; the figures, with any divergence naming the seed."""
    began = time.monotonic()
    rng = random.Random(config.seed)
    run_dir = Path(tempfile.mkdtemp(prefix=f"ledger-sim-{config.seed}-", dir=config.workdir))
    if config.backend == "postgres":
        url, schema = config.postgres, f"sim_{config.seed}_{secrets.token_hex(4)}"
    else:
        url, schema = str(run_dir / "ledger.db"), None
    world = World(config.seed)
    root = world.root()
    figures = Figures(seeds=1)
    logs: list[Path] = []
    try:
        setup_log = run_dir / "setup.jsonl"
        logs.append(setup_log)
        batches = _setup(url, schema, world, setup_log)
        plans = _kill_plans(config, rng)
        import_file: Path | None = None
        trusted = root
        for phase in range(1, config.rotations + 2):
            phase_logs, crashes, outside, restarts = _phase(
                config, phase, url, schema, run_dir, plans, batches, import_file
            )
            logs += phase_logs
            figures.crashes += crashes
            figures.outside_kills += outside
            figures.pg_restarts += restarts
            if phase <= config.rotations:
                import_file, trusted = _between(
                    url, schema, World(config.seed, version=phase), trusted, run_dir, setup_log
                )
                figures.rotations += 1
        _finish(url, schema, World(config.seed, version=config.rotations + 1), setup_log)
        commands = read_logs(logs)
        findings = Findings()
        audit_run(url, schema, root, commands, findings)
    except Exception as e:  # the run itself broke: report it as a divergence, with the seed
        import traceback

        commands = read_logs(logs)
        findings = Findings()
        findings.add(f"the run failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    figures.commands = len(commands.ops)
    figures.acknowledged = commands.count("ack")
    figures.refused = commands.count("refused")
    figures.cut_short = commands.count(None)
    figures.indeterminate = commands.count("indeterminate")
    figures.kill_points = dict(commands.kills)
    figures.events = findings.events
    figures.seconds = time.monotonic() - began
    name = f"{config.backend}:{config.seed}"
    if findings.divergences:
        figures.failed_seeds.append(name)
        figures.divergences += [
            f"seed {config.seed} ({config.backend}): {d}" for d in findings.divergences
        ]
        reproduce = (
            f"python -m ledger.sim --seed {config.seed} --backend {config.backend}"
            f" --workers {config.workers} --commands {config.commands} --kills {config.kills}"
            f" --rotations {config.rotations} --outside-kills {config.outside_kills}"
            + (f" --pg-restarts {config.pg_restarts}" if config.pg_restarts else "")
        )
        if out is not None:
            for d in figures.divergences:
                print(f"DIVERGENCE {d}", file=out)
            print(f"reproduce with: {reproduce}; store and logs kept in {run_dir}", file=out)
    elif not config.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
        if schema is not None:
            _drop_schema(url, schema)
    return figures


def _ledger(url: str, world: World, schema: str | None, clock: list[datetime.datetime]) -> Ledger:
    return Ledger(url, world.root(), schema=schema, clock=lambda: clock[0])


def _setup(url: str, schema: str | None, world: World, log: Path) -> list[str]:
    """The store, its root and one batch of 1,000 units per account, logged like commands."""
    clock = [day(2)]
    with _ledger(url, world, schema, clock) as ledger, log.open("a", encoding="utf-8") as out:
        worker = Worker(
            ledger,
            world,
            random.Random(0),
            "setup",
            out,
            clock,
            KillSwitch(),
            batches=[],
            run_dir=log.parent,
        )
        for n, account in enumerate(ACCOUNTS):
            worker.count = n
            registry = world.registries["reg-a"]
            project = worker.tag()
            from ledger import SerialRange
            from ledger.domain.topics import Batch

            serials = SerialRange(n * 1000 + 1, n * 1000 + 1000)

            def action(
                r: Signer = registry, p: str = project, a: str = account, s: SerialRange = serials
            ) -> uuid.UUID:
                return ledger.issue_batch(
                    r,
                    instrument="inclusion-forest",
                    vintage=2025,
                    project=p,
                    province="Shandong",
                    methodology="sim",
                    serials=s,
                    holder=a,
                )

            done, batch = worker.do("issue", [(Batch.ISSUED, project)], action)
            if not done:
                raise LedgerError(f"setup: the issuance to {account} was refused")
            worker.batches.append(batch)
        return [str(b) for b in worker.batches]


def _phase(
    config: RunConfig,
    phase: int,
    url: str,
    schema: str | None,
    run_dir: Path,
    plans: dict[tuple[int, int], list[str]],
    batches: list[str],
    import_file: Path | None,
) -> tuple[list[Path], int, int, int]:
    """Run the phase's workers to the end, starting killed ones again.

    Returns:
        (the workers' logs, SIGKILLs in all, SIGKILLs sent from outside, server restarts).
    """
    logs: list[Path] = []
    crashes = outside = restarts = 0
    left = {w: config.commands for w in range(config.workers)}
    generation = dict.fromkeys(left, 0)
    running: dict[int, tuple[Any, Path, Path]] = {}
    rng = random.Random(f"{config.seed}:phase{phase}")
    chaos = random.Random(f"{config.seed}:phase{phase}:outside")
    restarting = config.pg_restarts > 0 and config.server is not None
    # Chaos is placed by progress, not by the clock: the k-th kill or restart comes when the
    # phase's workers have logged a seeded number of commands, at most half of the phase's, so
    # it lands while workers run however fast the machine is (no race with the wall clock).
    half = max(2, config.workers * config.commands // 2)
    schedule: list[tuple[int, str]] = []
    for kind, count in (("kill", config.outside_kills), ("restart", config.pg_restarts)):
        if kind == "restart" and not restarting:
            continue
        schedule.extend((chaos.randrange(1, half), kind) for _ in range(count))
    schedule.sort()

    def start(w: int) -> None:
        name = f"p{phase}w{w}g{generation[w]}"
        log = run_dir / f"{name}.jsonl"
        queue = plans.get((phase, w), [])
        kill = [rng.randrange(max(1, left[w] // 2)), queue.pop(0)] if queue else None
        config_file = run_dir / f"{name}.json"
        config_file.write_text(
            json.dumps(
                {
                    "url": url,
                    "schema": schema,
                    "seed": config.seed,
                    "name": name,
                    "version": phase,
                    "commands": left[w],
                    "batches": batches,
                    "kill": kill,
                    "log": str(log),
                    "run_dir": str(run_dir),
                    "import_file": str(import_file) if import_file else None,
                    "projector": w < config.projectors,
                    "server_restarts": restarting,
                }
            ),
            encoding="utf-8",
        )
        stderr = run_dir / f"{name}.stderr"
        process = _FORK.Process(target=_child, args=(str(config_file), str(stderr)))
        process.start()
        running[w] = (process, log, stderr)
        logs.append(log)

    for w in left:
        start(w)
    deadline = time.monotonic() + WORKER_TIMEOUT
    while running:
        if schedule and _progress(logs) >= schedule[0][0]:
            _, kind = schedule.pop(0)
            if kind == "kill":
                victim = chaos.choice(sorted(running))
                process = running[victim][0]
                if process.exitcode is None and process.pid is not None:
                    try:
                        import os

                        os.kill(process.pid, signal.SIGKILL)
                        outside += 1
                    except ProcessLookupError:
                        pass
            else:
                config.server.restart(("immediate", "fast")[(restarts + phase) % 2])
                restarts += 1
        for w, (process, log, stderr) in list(running.items()):
            code = process.exitcode
            if code is None:
                if time.monotonic() > deadline:
                    process.kill()
                    process.join()
                    raise RuntimeError(f"worker {w} of phase {phase} hung; killed")
                continue
            del running[w]
            process.join()
            if code == -signal.SIGKILL:
                crashes += 1
                text = log.read_text() if log.exists() else ""  # killed before its log
                done = sum(1 for line in text.splitlines() if '"op"' in line)
                left[w] -= done
                generation[w] += 1
                if left[w] > 0:
                    start(w)
            elif code not in (0, 3):
                raise RuntimeError(
                    f"worker {w} of phase {phase} exited {code}: "
                    + stderr.read_text(errors="replace")[-2000:]
                )
        time.sleep(0.05)
    return logs, crashes, outside, restarts


def _progress(logs: list[Path]) -> int:
    """How many commands the phase's workers have logged so far."""
    return sum(log.read_text(errors="replace").count('"op"') for log in logs if log.exists())


def _child(config_file: str, stderr: str) -> None:
    """A forked worker: run it with stderr in a file, then leave without any cleanup."""
    import os
    import traceback

    from ledger.sim._worker import main

    code = 1
    with open(stderr, "w", encoding="utf-8") as err:
        try:
            code = main(config_file)
        except BaseException:
            traceback.print_exc(file=err)
        err.flush()
    os._exit(code)


def _checkpoint(worker: Worker) -> None:
    done, note = worker.do(
        "checkpoint", [], lambda: worker.ledger.sign_checkpoint(worker.world.log)
    )
    if not done:
        raise LedgerError("the run's own checkpoint was refused")
    worker.clock[0] = datetime.datetime.now(datetime.UTC)
    from ledger.audit.note import cosign

    moment = int(datetime.datetime.now(datetime.UTC).timestamp())
    done, _ = worker.do(
        "cosign",
        [],
        lambda: worker.ledger.add_cosignature(cosign(note, worker.world.witness, moment)).text(),
    )
    if not done:
        raise LedgerError("the run's own cosignature was refused")


def _between(
    url: str, schema: str | None, world: World, trusted: Any, run_dir: Path, log: Path
) -> tuple[Path, Any]:
    """Checkpoint, export and rotate the root, with no worker running.

    Returns:
        (the exported history file, the new root in force).
    """
    clock = [datetime.datetime.now(datetime.UTC)]
    history = run_dir / "history.jsonl"
    with _ledger(url, world, schema, clock) as ledger, log.open("a", encoding="utf-8") as out:
        worker = Worker(
            ledger,
            world,
            random.Random(world.version),
            f"between{world.version}-",
            out,
            clock,
            KillSwitch(),
            batches=[],
            run_dir=run_dir,
        )
        _checkpoint(worker)
        with history.open("w", encoding="utf-8") as file:
            ledger.export_history(file)
        at = datetime.datetime.now(datetime.UTC)
        rotation = world.rotation(at, trusted)
        done, _ = worker.do("rotate", [], lambda: ledger.adopt_root(rotation))
        if not done:
            raise LedgerError(f"the rotation to root version {rotation.version} was refused")
    return history, rotation


def _finish(url: str, schema: str | None, world: World, log: Path) -> None:
    clock = [datetime.datetime.now(datetime.UTC)]
    with _ledger(url, world, schema, clock) as ledger, log.open("a", encoding="utf-8") as out:
        worker = Worker(
            ledger,
            world,
            random.Random(2),
            "finish",
            out,
            clock,
            KillSwitch(),
            batches=[],
            run_dir=log.parent,
        )
        _checkpoint(worker)


def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    from ledger import database_url

    engine = sa.create_engine(database_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()
