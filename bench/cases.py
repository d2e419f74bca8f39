"""The benchmark cases: one function per row of the performance table, measured side by side.

Each case returns its :class:`Row` (the figure, its baseline from the same run, the goal and
whether it is met) and may add :class:`Curve` s (cost against size) to the run. A row whose goal
is not met carries a ``profile`` callable; the runner profiles it after all rows are measured.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import multiprocessing
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench._biglog import BIG_LOG, big_log
from bench._common import (
    Actors,
    Backends,
    build_log,
    child,
    csv_text,
    growth_exponent,
    ledger_command,
    linear_fit,
    median_time,
)
from ledger import Ledger, database_url, verify_proof

MIB = 1024.0
SPREAD = 10  # aggregates the retire row spreads its operations over


@dataclass(frozen=True)
class Sizes:
    """How big each case runs (quick or full)."""

    name: str
    retire_ops: int
    history: tuple[int, ...]
    history_reps: int
    csv_rows: int
    cli_rows: tuple[int, ...]
    logs: tuple[int, ...]
    audit_at: int
    writer_ops: int
    reps: int
    cli_reps: int


QUICK = Sizes("quick", 150, (100, 1000, 4000), 7, 500, (1000, 2000, 4000), (1000, 2000, 4000),
              2000, 15, 3, 5)  # fmt: skip
FULL = Sizes("full", 400, (100, 1000, 4000), 9, 5000, (5000, 10000, 50000),
             (10000, 30000, 100000), 10000, 40, 3, 7)  # fmt: skip
TOY = Sizes("toy", 5, (5, 20, 40), 2, 10, (10, 20, 40), (30, 60, 120), 60, 2, 1, 1)


@dataclass
class Row:
    """One row of the table: the measured figure beside its baseline, the goal and verdict."""

    key: str
    what: str
    now: str
    goal: str
    figure: str = "not measured"
    detail: str = ""
    met: bool | None = None
    note: str = ""
    profile: Callable[[], object] | None = field(default=None, repr=False)
    profile_text: str = ""


@dataclass
class Curve:
    """Cost against size: a small table for docs/scaling.md and the README."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


@dataclass
class Context:
    """What the cases of one run share."""

    sizes: Sizes
    backends: Backends
    actors: Actors
    folder: Path
    curves: list[Curve] = field(default_factory=list)
    logs: dict[int, LogStore] = field(default_factory=dict)
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class LogStore:
    """A SQLite store of a given log size with a checkpoint, and a batch to prove."""

    path: Path
    events: int
    target: UUID


class Counter(Aggregate):
    """A plain, unsigned eventsourcing aggregate: the baseline."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self, start: int, end: int) -> None:
        """One plain event per call."""
        self.count += 1


def plain_app(url: str) -> Application[UUID]:
    """Plain eventsourcing on the same SQLAlchemy backend as the ledger."""
    env = {"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": database_url(url)}
    return Application(env=env)


def _close(app: Application[UUID]) -> None:
    app.close()


def _per_op(run: Callable[[int], object], ops: int) -> float:
    """The median seconds of ``run(i)`` for i in 1..ops."""
    times = []
    for i in range(1, ops + 1):
        started = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# 1. one retirement vs raw load-command-save ---------------------------------------------------


def retire_ratio(ctx: Context) -> Row:
    """Median time of one retirement against a plain load-command-save, on each backend."""
    row = Row(
        "retire",
        "one retirement vs raw load-command-save, SQLite / PostgreSQL",
        "0.47 / 0.47",
        ">= 0.87",
    )
    ops, a = ctx.sizes.retire_ops, ctx.actors
    ratios, details = [], []
    for backend in ctx.backends.names():
        # ops spread over SPREAD aggregates, so each history stays short (ops / SPREAD events):
        # the cost of a long history is the next row's subject
        app = plain_app(ctx.backends.url(backend, "plain-retire"))
        counters = [Counter() for _ in range(SPREAD)]
        app.save(*counters)
        ids = [c.id for c in counters]

        def plain(i: int, app: Application[UUID] = app, ids: list[UUID] = ids) -> None:
            loaded: Counter = app.repository.get(ids[i % SPREAD])
            loaded.count_one(i, i)
            app.save(loaded)

        base = _per_op(plain, ops)
        _close(app)
        with Ledger(ctx.backends.url(backend, "retire"), a.root) as ledger:
            batches = [a.issue(ledger, ops + 10) for _ in range(SPREAD)]

            def retire(i: int, ledger: Ledger = ledger, batches: list[UUID] = batches) -> None:
                a.retire(ledger, batches[i % SPREAD], i)

            ours = _per_op(retire, ops)
        ratios.append(base / ours)
        details.append(f"{backend}: ledger {_ms(ours)}, plain {_ms(base)}")
    row.figure = " / ".join(f"{r:.2f}" for r in ratios)
    row.detail = (
        "; ".join(details)
        + f" (median of {ops}, over {SPREAD} aggregates: <= {ops // SPREAD + 1} events each)"
    )
    row.met = all(r >= 0.87 for r in ratios)
    if not row.met:
        row.profile = _retire_profile(ctx)
    return row


def _retire_profile(ctx: Context) -> Callable[[], object]:
    path = ctx.backends.sqlite("retire-profile")
    a = ctx.actors

    def run() -> None:
        with Ledger(path, a.root) as ledger:
            batch = a.issue(ledger, 100)
            for i in range(1, 41):
                a.retire(ledger, batch, i)

    return run


# 2. retirement cost against the batch's history ----------------------------------------------


def retire_history(ctx: Context) -> Row:
    """One retirement on a batch with many earlier events against one with few (SQLite)."""
    row = Row(
        "history",
        "retire on a batch with 4,000 earlier events vs 100",
        "7.9 ms vs 2.7 ms",
        "within 1.2x",
    )
    sizes, reps = ctx.sizes.history, ctx.sizes.history_reps
    a = ctx.actors
    times: dict[int, list[float]] = {size: [] for size in sizes}
    with Ledger(ctx.backends.sqlite("history"), a.root) as ledger:
        # one batch per size, built up front; then one retirement on each in turn, so load
        # from other processes on the machine falls on every size alike
        batches = {size: a.issue(ledger, size + reps + 10) for size in sizes}
        for size, batch in batches.items():
            for serial in range(1, size):  # version 1 is the issuance
                a.retire(ledger, batch, serial)
        for rep in range(reps):
            for size, batch in batches.items():
                started = time.perf_counter()
                a.retire(ledger, batch, size + rep)
                times[size].append(time.perf_counter() - started)
        ours = {size: statistics.median(found) for size, found in times.items()}
        for size in sizes:
            ctx.log(f"  history {size}: {_ms(ours[size])}")
        last = sizes[-1]

        def profile_run(ledger: Ledger = ledger, batch: UUID = batches[last]) -> None:
            for s in range(last + reps, last + reps + 3):
                a.retire(ledger, batch, s)

        growth = ours[last] / ours[sizes[0]]
        row.met = growth <= 1.2
        if not row.met:
            # profile while the ledger is open: the history is what costs
            from bench._common import profile

            row.profile_text = profile(profile_run)
    plain: dict[int, float] = {}
    app = plain_app(ctx.backends.sqlite("plain-history"))
    counter = Counter()
    app.save(counter)
    done = 1
    for size in sizes:
        while done < size:
            counter.count_one(done, done)
            app.save(counter)
            done += 1

        def plain_op(_: int, app: Application[UUID] = app, cid: UUID = counter.id) -> None:
            loaded: Counter = app.repository.get(cid)
            loaded.count_one(0, 0)
            app.save(loaded)

        plain[size] = _per_op(plain_op, reps)
        done += reps
        counter = app.repository.get(counter.id)
    _close(app)
    row.figure = f"{_ms(ours[last])} vs {_ms(ours[sizes[0]])} ({growth:.1f}x)"
    row.detail = (
        f"plain load-command-save: {_ms(plain[last])} vs {_ms(plain[sizes[0]])}"
        f" ({plain[last] / plain[sizes[0]]:.1f}x); SQLite, median of {reps}"
    )
    ctx.curves.append(
        Curve(
            "Retirement against the batch's earlier events (SQLite)",
            ("earlier events", "ledger retire", "plain load-command-save", "ratio"),
            [(s, _ms(ours[s]), _ms(plain[s]), f"{plain[s] / ours[s]:.2f}") for s in sizes],
            f"growth exponent (ledger) {growth_exponent([(s, ours[s]) for s in sizes]):.2f}",
        )
    )
    return row


# 3. import_batches_csv vs raw batched save -----------------------------------------------------


def csv_ratio(ctx: Context) -> Row:
    """``import_batches_csv`` of N rows against one plain save of N new aggregates."""
    row = Row(
        "csv",
        "`import_batches_csv` vs raw batched save, SQLite / PostgreSQL",
        "0.10 / 0.07",
        ">= 0.67",
    )
    n, reps, a = ctx.sizes.csv_rows, ctx.sizes.reps, ctx.actors
    ratios, details = [], []
    for backend in ctx.backends.names():
        app = plain_app(ctx.backends.url(backend, "plain-csv"))

        def plain_save(app: Application[UUID] = app) -> None:
            app.save(*[Counter() for _ in range(n)])

        base = median_time(plain_save, reps)
        _close(app)
        with Ledger(ctx.backends.url(backend, "csv"), a.root) as ledger:
            offset = [0]

            def run(ledger: Ledger = ledger, offset: list[int] = offset) -> None:
                ledger.import_batches_csv(a.registry, io.StringIO(csv_text(n, offset[0])))
                offset[0] += n

            ours = median_time(run, reps)
        ratios.append(base / ours)
        details.append(
            f"{backend}: ledger {ours:.2f} s ({n / ours:,.0f} rows/s), plain {base:.2f} s"
            f" ({n / base:,.0f}/s)"
        )
    row.figure = " / ".join(f"{r:.2f}" for r in ratios)
    row.detail = "; ".join(details) + f"; {n:,} rows, median of {reps}"
    row.met = all(r >= 0.67 for r in ratios)
    if not row.met:
        path = ctx.backends.sqlite("csv-profile")

        def profile_run() -> None:
            with Ledger(path, a.root) as ledger:
                ledger.import_batches_csv(a.registry, io.StringIO(csv_text(min(n, 500), 10**6)))

        row.profile = profile_run
    return row


# 4. the command line's import-batches and import -----------------------------------------------


def cli_imports(ctx: Context) -> Row:
    """``ledger import-batches`` and ``ledger import`` at growing sizes, in child processes."""
    row = Row(
        "cli-import",
        "`ledger import-batches` 50,000 rows; `ledger import` 50,000 events",
        "648 s (435 MB); 352 s",
        "linear in rows, >= 5,000 rows/s",
    )
    a, folder = ctx.actors, ctx.folder / "cli-import"
    folder.mkdir(exist_ok=True)
    (folder / "root.json").write_text(json.dumps(a.root.to_json()))
    (folder / "registry.key.json").write_text(json.dumps(a.registry.to_json()))
    cmd = ledger_command()
    batches: list[tuple[int, float, int]] = []
    imports: list[tuple[int, float, int]] = []
    for rows in ctx.sizes.cli_rows:
        db, csv_file = folder / f"b{rows}.db", folder / f"b{rows}.csv"
        csv_file.write_text(csv_text(rows))
        child([*cmd, "init", str(db), "--root", str(folder / "root.json")])
        seconds, peak = child(
            [
                *cmd,
                "import-batches",
                str(db),
                str(csv_file),
                "--key",
                str(folder / "registry.key.json"),
            ]
        )
        batches.append((rows, seconds, peak))
        ctx.log(f"  import-batches {rows}: {seconds:.1f} s, {peak / MIB:.0f} MiB")
        history = folder / f"h{rows}.jsonl"
        with Ledger(db) as ledger:
            a.checkpoint(ledger)
            with history.open("w") as out:
                events = ledger.export_history(out)
        seconds, peak = child(
            [
                *cmd,
                "import",
                str(folder / f"i{rows}.db"),
                str(history),
                "--trust",
                str(folder / "root.json"),
            ]
        )
        imports.append((events, seconds, peak))
        ctx.log(f"  import {events}: {seconds:.1f} s, {peak / MIB:.0f} MiB")
    target = 50_000
    parts, met = [], True
    for name, points in (("import-batches", batches), ("import", imports)):
        fit = [(float(r), s) for r, s, _ in points]
        intercept, slope = linear_fit(fit)
        predicted = intercept + slope * target
        exponent = growth_exponent(fit)
        rate = points[-1][0] / points[-1][1]
        measured_full = points[-1][0] >= target
        shown = f"{points[-1][1]:.1f} s" if measured_full else f"~{predicted:.0f} s (extrapolated)"
        parts.append(
            f"{name}: {shown} for 50,000, {rate:,.0f} rows/s at {points[-1][0]:,},"
            f" {points[-1][2] / MIB:.0f} MiB peak, growth exponent {exponent:.2f}"
        )
        met = met and rate >= 5000 and exponent <= 1.15
        ctx.curves.append(
            Curve(
                f"`ledger {name}` (SQLite, one process)",
                (
                    "rows" if name == "import-batches" else "events",
                    "wall s",
                    "rows/s",
                    "peak RSS MiB",
                ),
                [(r, f"{s:.2f}", f"{r / s:,.0f}", f"{p / MIB:.0f}") for r, s, p in points],
                f"linear fit: {intercept:.2f} s + {slope * 1000:.2f} ms/row; growth exponent"
                f" {exponent:.2f}",
            )
        )
    row.figure = "; ".join(parts)
    row.detail = "wall time of the whole command, including start-up (~0.6 s)"
    if ctx.sizes.cli_rows[-1] < target:
        row.note = "quick mode: measured at smaller sizes, 50,000 extrapolated by a linear fit"
    row.met = met
    if not met:
        history = folder / f"h{ctx.sizes.cli_rows[0]}.jsonl"

        def profile_run() -> None:
            with (
                _open_empty(ctx.backends.sqlite("import-profile")) as ledger,
                history.open("rb") as f,
            ):
                ledger.import_history(f, trusted=a.root)

        row.profile = profile_run
    return row


def _open_empty(path: str) -> Ledger:
    from ledger import KeyDirectory

    return Ledger(path, KeyDirectory())


# log stores shared by audit, memory, proofs and rebuild -----------------------------------------


def log_stores(ctx: Context) -> None:
    """Build one SQLite store per log size (batch issuances), each with a cosigned checkpoint."""
    ctx.logs.update(grow_logs(ctx, ctx.sizes.logs, "log"))


#: The log sizes the audit-memory row measures, per mode: the issue's 10k -> 100k, also in
#: quick mode (a 100,000-event store is built by the bulk import in about half a minute).
MEMORY_LOGS = {"toy": (30, 60, 120), "quick": (10_000, 30_000, 100_000)}


def grow_logs(ctx: Context, sizes: tuple[int, ...], name: str) -> dict[int, LogStore]:
    """One store grown through ``sizes`` events, copied (with a checkpoint) at each size.

    Each is a batch with nine retirements, then batch issuances imported 500 at a time (the
    bulk import path: signed, logged and claimed like any write, only set-based).
    """
    a = ctx.actors
    live = ctx.folder / f"{name}-live.db"
    with Ledger(live, a.root) as ledger:
        target = a.issue(ledger, 100)
        for s in range(1, 10):  # versions 2..10 are retirements
            a.retire(ledger, target, s)
    events, rows = 10, 0
    made = {}
    for size in sizes:
        started = time.perf_counter()
        with Ledger(live) as ledger:
            rows += build_log(ledger, a, size - events, rows)
            events = size
            a.checkpoint(ledger)
        copy = ctx.folder / f"{name}-{size}.db"
        shutil.copyfile(live, copy)
        made[size] = LogStore(copy, size, target)
        ctx.log(f"  log of {size:,} events built in {time.perf_counter() - started:.1f} s")
    live.unlink()
    return made


# 5. and 6. audit against raw Ed25519, and its memory -------------------------------------------


def _raw_messages(ledger: Ledger) -> list[tuple[bytes, bytes, bytes]]:
    """Every event's (public key, signature, DSSE PAE) from the exported history."""
    keys = {hashlib.sha256(k.public_key).hexdigest(): k.public_key for k in ledger.keys}
    for root in ledger.trust_roots():
        for k in root.keys:
            keys[hashlib.sha256(k.public_key).hexdigest()] = k.public_key
    out = io.StringIO()
    ledger.export_history(out)
    messages = []
    for line in out.getvalue().splitlines():
        item = json.loads(line)
        if item.get("kind") != "event":
            continue
        envelope = item["envelope"]
        payload = base64.b64decode(envelope["payload"])
        kind = envelope["payloadType"].encode()
        pae = b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)
        for signature in envelope["signatures"]:
            messages.append((keys[signature["keyid"]], base64.b64decode(signature["sig"]), pae))
    return messages


def _raw_verify(messages: list[tuple[bytes, bytes, bytes]]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    loaded: dict[bytes, Ed25519PublicKey] = {}
    for key, signature, data in messages:
        public = loaded.get(key)
        if public is None:
            public = loaded[key] = Ed25519PublicKey.from_public_bytes(key)
        public.verify(signature, data)


def audit_ratio(ctx: Context) -> Row:
    """``Ledger.audit`` of a store against one core verifying the same signatures raw."""
    row = Row(
        "audit",
        "`ledger audit` vs one core's raw Ed25519 verify of the same messages",
        "0.29 (one core)",
        ">= 1.6 (both cores)",
    )
    store = ctx.logs[_closest(ctx, ctx.sizes.audit_at)]
    a = ctx.actors
    with Ledger(store.path) as ledger:
        messages = _raw_messages(ledger)
        base = median_time(lambda: _raw_verify(messages), ctx.sizes.reps)
        ours = median_time(functools.partial(ledger.audit, a.root), ctx.sizes.reps)
    ratio = base / ours
    row.figure = f"{ratio:.2f}"
    row.detail = (
        f"{store.events:,} events: audit {ours:.2f} s ({store.events / ours:,.0f} events/s);"
        f" raw verify of the {len(messages):,} signatures {base:.3f} s"
        f" ({len(messages) / base:,.0f}/s, one core); median of {ctx.sizes.reps}"
    )
    row.met = ratio >= 1.6
    if not row.met:
        path = ctx.logs[min(ctx.logs)].path

        def profile_run() -> None:
            with Ledger(path) as ledger:
                ledger.audit(a.root)

        row.profile = profile_run
    return row


def audit_memory(ctx: Context) -> Row:
    """Peak RSS of ``ledger audit`` (a child process) at each log size."""
    row = Row(
        "audit-memory",
        "audit memory, 10k -> 100k events",
        "90 -> 151 MiB",
        "flat (+ <= 20 MiB to 1M)",
    )
    root_file = ctx.folder / "root.json"
    root_file.write_text(json.dumps(ctx.actors.root.to_json()))
    sizes = MEMORY_LOGS.get(ctx.sizes.name, ctx.sizes.logs)
    stores = {size: ctx.logs[size] for size in sizes if size in ctx.logs}
    if len(stores) < len(sizes):
        stores = grow_logs(ctx, sizes, "memory")
    points = []
    for size, store in sorted(stores.items()):
        seconds, peak = child(
            [*ledger_command(), "audit", str(store.path), "--trust", str(root_file)]
        )
        points.append((size, seconds, peak / MIB))
        ctx.log(f"  audit {size:,}: {seconds:.1f} s, {peak / MIB:.0f} MiB")
    _, slope = linear_fit([(float(s), m) for s, _, m in points])
    growth_to_1m = slope * (1_000_000 - 10_000)
    per_100k = slope * 100_000
    row.figure = " -> ".join(f"{m:.0f} MiB ({s:,})" for s, _, m in points)
    row.detail = (
        f"{per_100k:+.0f} MiB per 100k events (linear fit); 10k -> 1M: {growth_to_1m:+.0f} MiB"
        " extrapolated; peak RSS of the `ledger audit` process"
    )
    row.met = growth_to_1m <= 20
    ctx.curves.append(
        Curve(
            "`ledger audit` of a whole store (SQLite, one process)",
            ("events", "wall s", "events/s", "peak RSS MiB"),
            [(s, f"{t:.2f}", f"{s / t:,.0f}", f"{m:.0f}") for s, t, m in points],
            f"memory slope {per_100k:+.1f} MiB per 100k events; time exponent"
            f" {growth_exponent([(s, t) for s, t, _ in points]):.2f}",
        )
    )
    if not row.met:
        (first, _, low), (last, _, high) = points[0], points[-1]
        row.note = (
            f"peak RSS {high - low:+.0f} MiB from {first:,} to {last:,} events; the straight"
            " line through the points carries that on to 1M"
        )
    return row


def _closest(ctx: Context, size: int) -> int:
    return min(ctx.logs, key=lambda s: abs(s - size))


# 7. and 8. proofs -----------------------------------------------------------------------------


def proofs(ctx: Context) -> list[Row]:
    """Proof build and verify time (v=2, v=10) and proof size against log size.

    The last size is a real log of a million leaves (:mod:`bench._biglog`, cached under
    bench/.cache); the smaller ones are the run's shared log stores.
    """
    build = Row(
        "proof-build",
        "proof build for one retirement in a 1,000,000-event log",
        "2.5 s (v=2), 8.3 s (v=10)",
        "< 50 ms",
    )
    check = Row(
        "proof-verify",
        "proof verify; size",
        "1-7 ms; O(entries x log n)",
        "< 20 ms; O(log n) per entry",
    )
    reps = max(ctx.sizes.reps, 5)
    points: list[tuple[int, float, float, float, float, int, int]] = []
    for size, store in sorted(ctx.logs.items()):
        points.append(_proof_point(size, store.path, store.target, ctx.actors.root, reps))
    big = big_log(BIG_LOG[ctx.sizes.name], log=ctx.log)
    built = f"built in {big.seconds:.0f} s" if big.seconds else "read from bench/.cache"
    points.append(_proof_point(big.leaves, big.path, big.target, big.actors.root, reps * 3))
    for p in points:
        ctx.log(
            f"  proof {p[0]:,}: build {_ms(p[1])} / {_ms(p[2])}, verify {_ms(p[3])} / {_ms(p[4])}"
        )
    last, first = points[-1], points[0]
    build.figure = f"{_ms(last[1])} (v=2), {_ms(last[2])} (v=10) at {last[0]:,} leaves"
    build.detail = (
        f"measured on a real log of {last[0]:,} leaves ({built}): the proved batch's 10"
        " signed events and the trust root among padding leaves appended through the log's"
        f" own append; median of {reps * 3}; at {first[0]:,} events: {_ms(first[1])} (v=2),"
        f" {_ms(first[2])} (v=10)"
    )
    build.met = max(last[1], last[2]) < 0.05
    if not build.met:

        def profile_run() -> None:
            with Ledger(big.path) as ledger:
                for _ in range(10):
                    ledger.proof(big.target, 10)

        build.profile = profile_run
    size_growth = last[6] / first[6]
    log_growth = _log2(last[0]) / _log2(first[0])
    check.figure = (
        f"{_ms(last[3])} (v=2), {_ms(last[4])} (v=10); {last[5]:,} B (v=2), {last[6]:,} B (v=10)"
        f" at {last[0]:,} leaves"
    )
    check.detail = (
        f"size grows {size_growth:.2f}x from {first[0]:,} to {last[0]:,} leaves (log2 n grows"
        f" {log_growth:.2f}x); v=10 / v=2 size {last[6] / last[5]:.1f}x"
    )
    check.met = max(last[3], last[4]) < 0.02 and size_growth <= log_growth * 1.1
    if not check.met:
        with Ledger(big.path) as ledger:
            proof = ledger.proof(big.target, 10)

        def verify_many() -> None:
            for _ in range(20):
                verify_proof(proof, big.actors.root)

        check.profile = verify_many
    ctx.curves.append(
        Curve(
            "Proof of one retirement against log size (SQLite)",
            (
                "log events",
                "build v=2",
                "build v=10",
                "verify v=2",
                "verify v=10",
                "bytes v=2",
                "bytes v=10",
            ),
            [
                (f"{p[0]:,}", _ms(p[1]), _ms(p[2]), _ms(p[3]), _ms(p[4]), f"{p[5]:,}", f"{p[6]:,}")
                for p in points
            ],
            f"build exponent (v=10) {growth_exponent([(p[0], p[2]) for p in points]):.2f};"
            f" the last size is a real log with padding leaves ({built})",
        )
    )
    return [build, check]


def _proof_point(
    size: int, path: Path, target: UUID, root: Any, reps: int
) -> tuple[int, float, float, float, float, int, int]:
    """(size, build v=2, build v=10, verify v=2, verify v=10, bytes v=2, bytes v=10)."""
    with Ledger(path) as ledger:
        p2, p10 = ledger.proof(target, 2), ledger.proof(target, 10)
        b2 = median_time(functools.partial(ledger.proof, target, 2), reps)
        b10 = median_time(functools.partial(ledger.proof, target, 10), reps)
    v2 = median_time(functools.partial(verify_proof, p2, root), reps)
    v10 = median_time(functools.partial(verify_proof, p10, root), reps)
    return size, b2, b10, v2, v10, len(json.dumps(p2)), len(json.dumps(p10))


def _log2(n: int) -> float:
    import math

    return math.log2(n)


# 9. rebuild of all read models ----------------------------------------------------------------


def rebuild(ctx: Context) -> Row:
    """Folding every read model afresh against one raw read of all notifications.

    The raw read checks no signature, and the rebuild must verify every one (SPEC 5a), so the
    row also shows the ceiling: the raw read plus a raw Ed25519 verify of the same events, on
    one core and split over two processes (started before the clock), and the rebuild against it.
    """
    row = Row(
        "rebuild",
        "rebuild of all read models vs raw notification read",
        "0.007 (one pass per model)",
        ">= 0.40, one pass",
    )
    import sqlalchemy as sa

    try:
        from ledger.projections._signatures import start_pool
        from ledger.projections.check import READ_MODELS, fresh_all
    except ImportError as e:  # the read-model runner moved: say so, measure nothing
        row.note = f"not measured: {e}"
        return row
    store = ctx.logs[_closest(ctx, ctx.sizes.audit_at)]
    reps = ctx.sizes.reps
    engine = sa.create_engine(database_url(str(store.path)))

    def raw() -> int:
        count = 0
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(
                sa.text("SELECT * FROM ledger_events ORDER BY 1")
            )
            for _ in result:
                count += 1
        return count

    base = median_time(raw, reps)
    engine.dispose()
    with Ledger(store.path) as ledger:
        messages = _raw_messages(ledger)
        one = median_time(lambda: _raw_verify(messages), reps)
        two = _two_cores(messages, reps)
        alone = median_time(lambda: fresh_all(ledger.store), reps)  # no pool: a one-shot command
        start_pool()
        fresh_all(ledger.store)  # the pool's workers are up
        ours = median_time(lambda: fresh_all(ledger.store), reps)
    ratio = base / ours
    row.figure = f"{ratio:.3f}"
    row.detail = (
        f"{store.events:,} events, {len(READ_MODELS)} read models: rebuild {ours:.3f} s with the"
        f" verifier pool running (a long-lived process; Ed25519 on its two processes beside the"
        f" walk), {alone:.3f} s without it (a one-shot command below 20,000 events: every"
        f" signature checked in the walk, ratio {base / alone:.3f}); raw read {base:.4f} s;"
        f" median of {reps}; rebuilt into in-memory SQLite as the audit does, each event"
        " verified by its signature and, inside the latest witnessed checkpoint, by its hash"
        " against the signed root. Ceiling with every"
        f" signature verified: raw read + raw Ed25519 verify of the {len(messages):,} signatures"
        f" = {base + one:.3f} s on one core (ratio {base / (base + one):.3f}),"
        f" {base + two:.3f} s on two (ratio {base / (base + two):.3f}); rebuild vs that"
        f" ceiling: {(base + one) / ours:.2f} (one core), {(base + two) / ours:.2f} (two)"
    )
    row.note = "passes over the log: 1 (every read model in the same pass)"
    row.met = ratio >= 0.40
    if not row.met:
        path = ctx.logs[min(ctx.logs)].path

        def profile_run() -> None:
            with Ledger(path) as ledger:
                fresh_all(ledger.store)

        row.profile = profile_run
    return row


def _two_cores(messages: list[tuple[bytes, bytes, bytes]], reps: int) -> float:
    """Median seconds to verify ``messages`` split over two warm processes."""
    from concurrent.futures import ProcessPoolExecutor

    half = len(messages) // 2
    parts = [messages[:half], messages[half:]]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        list(pool.map(_raw_verify, [parts[0][:1], parts[1][:1]]))  # both workers up
        return median_time(lambda: list(pool.map(_raw_verify, parts)), reps)


# 10. and 11. concurrent PostgreSQL writers ----------------------------------------------------


def writers(ctx: Context) -> list[Row]:
    """8 writer processes on distinct batches and on one batch, against one writer (PostgreSQL)."""
    distinct = Row(
        "writers",
        "8 PostgreSQL writers, distinct batches, vs one writer",
        "1.35x",
        ">= 1.8x (2 cores)",
    )
    shared = Row(
        "one-batch",
        "8 writers on one batch",
        "65% fail with ConcurrencyError after 3 tries",
        "none fail; >= 0.8x one writer",
    )
    if "postgres" not in ctx.backends.names():
        distinct.note = shared.note = "not measured: no PostgreSQL server"
        return [distinct, shared]
    from bench._writers import retire_worker

    a, k = ctx.actors, ctx.sizes.writer_ops
    url = ctx.backends.postgres_url("writers")
    with Ledger(url, a.root) as ledger:
        own = [a.issue(ledger, 8 * k + 10, holder) for holder in a.holders]
        single = a.issue(ledger, 8 * k + 10)
        single_shared = a.issue(ledger, 8 * k + 10)
        common = a.issue(ledger, 8 * k + 10)
    spawn = multiprocessing.get_context("spawn")

    def run(jobs: list[tuple[Any, str, list[int]]]) -> tuple[int, int, float]:
        barrier = spawn.Manager().Barrier(len(jobs))
        with spawn.Pool(len(jobs)) as pool:
            results = pool.starmap(
                retire_worker,
                [(url, a.root.to_json(), h.to_json(), str(b), s, barrier) for h, b, s in jobs],
            )
        return sum(r[0] for r in results), sum(r[1] for r in results), max(r[2] for r in results)

    def serials(batch: UUID, first: int, count: int) -> list[int]:
        return [a.serials(batch, n).start for n in range(first, first + count)]

    one = run([(a.holder, str(single), serials(single, 1, k))])
    eight = run([(h, str(b), serials(b, 1, k)) for h, b in zip(a.holders, own, strict=True)])
    one_rate, eight_rate = one[0] / one[2], eight[0] / eight[2]
    distinct.figure = f"{eight_rate / one_rate:.2f}x"
    distinct.detail = (
        f"8 writers {eight_rate:.0f} retirements/s ({eight[1]} failed), one writer"
        f" {one_rate:.0f}/s; {k} retirements per writer, each on its own batch"
    )
    distinct.met = eight_rate / one_rate >= 1.8 and eight[1] == 0
    ctx.log(f"  writers: {distinct.figure}")
    one_long = run([(a.holder, str(single_shared), serials(single_shared, 1, 8 * k))])
    many = run([(a.holder, str(common), serials(common, n * k + 1, k)) for n in range(8)])
    long_rate, many_rate = one_long[0] / one_long[2], many[0] / many[2]
    attempted = many[0] + many[1]
    shared.figure = (
        f"{many[1] / attempted:.0%} fail ({many[1]} of {attempted});"
        f" {many_rate / long_rate:.2f}x one writer"
    )
    shared.detail = (
        f"8 writers {many_rate:.0f} retirements/s on one batch, one writer {long_rate:.0f}/s doing"
        f" the same {8 * k} retirements"
    )
    shared.met = many[1] == 0 and many_rate / long_rate >= 0.8
    ctx.log(f"  one batch: {shared.figure}")
    ctx.curves.append(
        Curve(
            "Concurrent writers (PostgreSQL, one process each)",
            ("writers", "batches", "retirements/s", "failed"),
            [
                (1, "own", f"{one_rate:.0f}", one[1]),
                (8, "own", f"{eight_rate:.0f}", eight[1]),
                (1, "one", f"{long_rate:.0f}", one_long[1]),
                (8, "one", f"{many_rate:.0f}", many[1]),
            ],
        )
    )
    return [distinct, shared]


# 12. process wall time of the command line ----------------------------------------------------


def cli_startup(ctx: Context) -> Row:
    """Wall time of ``ledger verify`` and ``ledger --help`` against a bare interpreter.

    Measured with the package's bytecode compiled, as a pip install leaves it (this editable
    checkout runs with PYTHONDONTWRITEBYTECODE=1, so every run would compile ledger's modules
    from source), and from source as well, both in the detail. The CPU time (user + system) of
    the same commands and of what ``ledger verify`` loads, stage by stage, says where the time
    goes on a loaded machine, where wall time is mostly waiting for a core.
    """
    row = Row(
        "startup",
        "process wall time of `ledger verify` / `ledger --help`",
        "0.65 s / 0.62 s",
        "<= 0.15 s / <= 0.25 s",
    )
    store = ctx.logs[min(ctx.logs)]
    proof_file, root_file = ctx.folder / "proof.json", ctx.folder / "root.json"
    root_file.write_text(json.dumps(ctx.actors.root.to_json()))
    with Ledger(store.path) as ledger:
        proof_file.write_text(json.dumps(ledger.proof(store.target, 10)))
    cmd, reps = ledger_command(), ctx.sizes.cli_reps
    verify_argv = [*cmd, "verify", str(proof_file), "--trust", str(root_file)]

    def wall(argv: list[str]) -> float:
        return statistics.median(child(argv)[0] for _ in range(reps))

    def cpu(argv: list[str]) -> float:
        return min(_cpu_seconds(argv) for _ in range(reps))

    source = wall(verify_argv), wall([*cmd, "--help"])
    with _compiled_bytecode():
        verify, help_ = wall(verify_argv), wall([*cmd, "--help"])
        cpu_verify, cpu_help = cpu(verify_argv), cpu([*cmd, "--help"])
        stages = [(what, cpu([sys.executable, "-c", code])) for what, code in _stages()]
    bare = wall([sys.executable, "-c", "pass"])
    row.figure = f"{verify:.2f} s / {help_:.2f} s"
    row.detail = (
        f"bytecode compiled as by pip install; from source (PYTHONDONTWRITEBYTECODE=1, editable"
        f" install): {source[0]:.2f} s / {source[1]:.2f} s; a bare `python -c pass` takes"
        f" {bare:.3f} s here; median of {reps}. CPU (user + system, least of {reps}):"
        f" {cpu_verify * 1000:.0f} ms / {cpu_help * 1000:.0f} ms; a bare interpreter"
        f" {stages[0][1] * 1000:.0f} ms, one that loads only the libraries `ledger verify` needs"
        f" (click, attrs, cryptography, rfc8785, eventsourcing.domain) {stages[2][1] * 1000:.0f} ms"
    )
    row.met = verify <= 0.15 and help_ <= 0.25
    if not row.met:
        row.profile_text = _stages_text(stages, cpu_verify, reps)
    return row


#: What ``ledger verify`` loads, stage by stage; each stage's interpreter loads the ones before it
#: too, as the program loads them (the collector paused, then frozen: ``ledger.cli._startup``).
_STARTUP_STAGES = (
    ("a bare interpreter (python -c pass)", ""),
    ("+ click", "click"),
    (
        "+ attrs, cryptography's Ed25519, rfc8785, eventsourcing.domain",
        "attrs, cryptography.hazmat.primitives.asymmetric.ed25519, rfc8785, eventsourcing.domain",
    ),
    (
        "+ ledger's command line and verifier (ledger.cli.verify, ledger.audit, replay)",
        "ledger.cli.main, ledger.cli.verify, ledger.domain.replay",
    ),
    ("+ the credit batch aggregate and its event classes", "ledger.domain.credit_batch"),
)


def _stages() -> list[tuple[str, str]]:
    """Each stage of :data:`_STARTUP_STAGES` as the ``python -c`` code that loads it."""
    out, modules = [], []
    for what, more in _STARTUP_STAGES:
        modules += [more] if more else []
        imports = f"import gc; gc.disable(); import {', '.join(modules)}; gc.freeze()"
        out.append((what, imports if modules else "pass"))
    return out


def _cpu_seconds(argv: list[str]) -> float:
    """User + system CPU seconds of ``argv`` run as a child process. Raises if it fails."""
    import os
    import subprocess

    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {process.returncode}")
    return usage.ru_utime + usage.ru_stime


def _stages_text(stages: list[tuple[str, float]], verify: float, reps: int) -> str:
    """Where ``ledger verify``'s CPU time goes: each stage's cost over the one before."""
    lines = [f"CPU ms (user + system, least of {reps}) | added | what is loaded"]
    before = 0.0
    for what, seconds in [*stages, ("+ reading, checking and replaying the proof", verify)]:
        lines.append(f"{seconds * 1000:>33.0f} | {(seconds - before) * 1000:>5.0f} | {what}")
        before = seconds
    return "\n".join(lines)


@contextlib.contextmanager
def _compiled_bytecode() -> Iterator[None]:
    """The ledger package's modules compiled into ``__pycache__`` while inside (removed after)."""
    import subprocess

    import ledger

    package = Path(ledger.__file__).resolve().parent
    before = set(package.rglob("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    try:
        yield
    finally:
        for folder in set(package.rglob("__pycache__")) - before:
            shutil.rmtree(folder, ignore_errors=True)
