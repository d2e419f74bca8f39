"""What every benchmark case shares: actors and a trust root, backends, timing, child processes.

Rules:
- Only the public API of ``ledger`` is used (``ledger``, ``ledger.audit``), plus the read-model
  runner for the rebuild row, so the suite keeps working while the store is rewritten.
- Times are ``time.perf_counter`` medians of several repetitions; memory is the peak RSS of a
  child process (``os.wait4``), so one case never inflates another's figure.
- PostgreSQL: each store gets its own database on the server (created here, dropped at the
  end); without a reachable server the PostgreSQL rows say so and are skipped.
"""

from __future__ import annotations

import cProfile
import datetime
import io
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import Ledger, SerialRange, Signer, TrustRoot
from ledger.audit import Witness

POSTGRES = os.environ.get("LEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
CSV_HEADER = (
    "instrument,vintage,project,province,methodology,serial_start,serial_end,holder,unit,parcels\n"
)
HOLDERS = 8


@dataclass
class Actors:
    """The signers of a benchmark ledger and the trust root that lists them."""

    operators: list[Signer]
    log: Signer
    witness: Signer
    registry: Signer
    holders: list[Signer]
    root: TrustRoot
    firsts: dict[Any, int] = field(default_factory=dict)
    next_serial: int = 10**12  # batch-import CSV rows use serials from 1

    @classmethod
    def create(cls) -> Actors:
        """Fresh keys for two operators, the log, a witness, a registry and eight holders."""
        operators = [Signer.generate(f"operator-{n}", "operator") for n in (1, 2)]
        log = Signer.generate("bench.ledger.local/log", "log")
        witness = Signer.generate("bench.witness/w1", "witness")
        registry = Signer.generate("bench-registry", "registry")
        holders = [Signer.generate(f"holder-{n}", "account") for n in range(HOLDERS)]
        root = TrustRoot.create(
            version=1,
            origin=log.actor,
            issued_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            threshold=2,
            witnesses=1,
            keys=[s.public for s in (*operators, log, witness, registry, *holders)],
        ).signed_by(*operators)
        return cls(operators, log, witness, registry, holders, root)

    @property
    def holder(self) -> Signer:
        """The first holder: the one most cases retire with."""
        return self.holders[0]

    def issue(self, ledger: Ledger, size: int, holder: Signer | None = None) -> Any:
        """Issue a batch of ``size`` fresh serials to ``holder`` (default: the first holder).

        Serials are unique across the run (claims are global); :meth:`serials` numbers them.
        """
        first = self.next_serial
        self.next_serial += size
        batch = ledger.issue_batch(
            self.registry,
            instrument="ccer",
            vintage=2024,
            project="BENCH-001",
            province="Shandong",
            methodology="bench methodology",
            serials=SerialRange(first, first + size - 1),
            holder=(holder or self.holder).actor,
        )
        self.firsts[batch] = first
        return batch

    def serials(self, batch: Any, nth: int, last: int | None = None) -> SerialRange:
        """The ``nth`` (to ``last``) serial of ``batch``, counted from 1."""
        first = self.firsts[batch]
        return SerialRange(first + nth - 1, first + (last or nth) - 1)

    def retire(self, ledger: Ledger, batch: Any, nth: int, holder: Signer | None = None) -> Any:
        """Retire the ``nth`` serial of ``batch``."""
        return ledger.retire(
            holder or self.holder, batch, self.serials(batch, nth), beneficiary="b", reason="r"
        )

    def checkpoint(self, ledger: Ledger) -> Any:
        """Sign a checkpoint of the whole log and add the witness's cosignature."""
        note = ledger.sign_checkpoint(self.log)
        cosignature = Witness(self.witness, self.log.public).cosign(note, [], int(time.time()))
        return ledger.add_cosignature(cosignature)


def csv_text(rows: int, first: int = 0, holder: str = "holder-0") -> str:
    """A batch-import CSV of ``rows`` batches of 10 serials each, numbered from row ``first``."""
    lines = [CSV_HEADER]
    for i in range(first, first + rows):
        start = i * 10 + 1
        lines.append(f"ccer,2024,BENCH-{i},Shandong,m,{start},{start + 9},{holder},1,\n")
    return "".join(lines)


def build_log(ledger: Ledger, actors: Actors, events: int, first_row: int = 0) -> int:
    """Grow the log by about ``events`` events (batch issuances, 500 per import); rows used."""
    done = 0
    while done < events:
        chunk = min(500, events - done)
        ledger.import_batches_csv(actors.registry, io.StringIO(csv_text(chunk, first_row + done)))
        done += chunk
    return done


def median_time(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls of ``run`` (seconds)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def profile(run: Callable[[], object], top: int = 22) -> str:
    """The top functions by cumulative time of one call of ``run`` (cProfile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(_shorten(line) for line in lines[start:])


def _shorten(line: str) -> str:
    for prefix in (str(Path(sys.prefix)), str(Path(__file__).resolve().parent.parent)):
        line = line.replace(prefix + "/", "")
    return line.replace("lib/python3.11/site-packages/", "")


# Runs the measured command from a small process: a child's ru_maxrss starts at its parent's RSS
# at fork time (Linux keeps the pre-exec high-water mark), so forking from this big process
# would report at least its own size. The launcher is ~10 MiB, less than any command measured.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
elapsed = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"seconds": elapsed, "maxrss": usage.ru_maxrss, "code": code}))
"""


def child(argv: Sequence[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run ``argv`` as a child process: (wall seconds, peak RSS in KiB). Raises if it fails."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"launcher failed: {done.stderr[-400:]}") from None
    if result["code"] != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {result['code']}: {done.stderr[-400:]}")
    return float(result["seconds"]), int(result["maxrss"])


def ledger_command() -> list[str]:
    """The ``ledger`` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "ledger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ledger"]


def linear_fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) of ``points``."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def growth_exponent(points: Sequence[tuple[float, float]]) -> float:
    """The exponent k of cost ~ size^k between the smallest and the largest measured size."""
    import math

    (x0, y0), (x1, y1) = points[0], points[-1]
    if y0 <= 0 or y1 <= 0 or x0 == x1:
        return float("nan")
    return math.log(y1 / y0) / math.log(x1 / x0)


@dataclass
class Backends:
    """Where the stores of one run live: a temporary folder, and PostgreSQL databases."""

    folder: Path
    postgres: bool
    databases: list[str] = field(default_factory=list)

    def sqlite(self, name: str) -> str:
        """A new SQLite file path in the run's folder."""
        path = self.folder / f"{name}-{secrets.token_hex(3)}.db"
        return str(path)

    def postgres_url(self, name: str) -> str:
        """A new, empty PostgreSQL database (dropped at the end of the run); its URL."""
        import psycopg

        database = f"bench_{name}_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        self.databases.append(database)
        return POSTGRES.rsplit("/", 1)[0] + "/" + database

    def url(self, backend: str, name: str) -> str:
        """A new store on ``backend`` ("sqlite" or "postgres")."""
        return self.sqlite(name) if backend == "sqlite" else self.postgres_url(name)

    def names(self) -> list[str]:
        """The backends this run measures."""
        return ["sqlite", "postgres"] if self.postgres else ["sqlite"]

    def drop(self) -> None:
        """Drop every database this run created."""
        if not self.databases:
            return
        import psycopg

        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            for database in self.databases:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.databases.clear()


def postgres_reachable() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=3):
            return None
    except Exception as e:  # any failure means: no PostgreSQL rows
        return " ".join(str(e).split())[:200]


@contextmanager
def backends(folder: Path, postgres: bool) -> Iterator[Backends]:
    """The run's backends; every PostgreSQL database is dropped on the way out."""
    opened = Backends(folder, postgres)
    try:
        yield opened
    finally:
        opened.drop()
