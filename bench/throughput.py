"""Write, read and audit throughput of the ledger against plain eventsourcing, same run.

Usage: python bench/throughput.py [EVENTS]   (SQLite files in a temporary folder)

The baseline is an eventsourcing application on the same SQLAlchemy/SQLite stack saving one
plain aggregate event per save; the ledger saves one signed, chained, logged retirement per
save. Reads are cold (a new application or ledger): the ledger verifies every signature and
chain link. Reported: events/s of each and the ledger/baseline ratio; audit events/s.
"""

from __future__ import annotations

import datetime
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger import Ledger, SerialRange, Signer, TrustRoot


class Counter(Aggregate):
    """A plain, unsigned aggregate: the baseline."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self, start: int, end: int) -> None:
        """One plain event per call."""
        self.count += 1


def baseline(folder: Path, n: int) -> tuple[float, float]:
    """Plain eventsourcing on SQLAlchemy/SQLite: (writes/s, cold reads/s)."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": f"sqlite:///{folder / 'plain.db'}",
    }
    app: Application[UUID] = Application(env=env)
    counter = Counter()
    app.save(counter)
    started = time.perf_counter()
    for i in range(n):
        counter.count_one(i, i)
        app.save(counter)
    write = n / (time.perf_counter() - started)
    started = time.perf_counter()
    cold: Application[UUID] = Application(env=env)
    cold.repository.get(counter.id)
    read = (n + 1) / (time.perf_counter() - started)
    return write, read


def ledger_run(folder: Path, n: int) -> tuple[float, float, float]:
    """The ledger: (signed writes/s, cold verified reads/s, audited events/s)."""
    ops = [Signer.generate(f"op-{i}", "operator") for i in (1, 2)]
    registry, holder = Signer.generate("reg", "registry"), Signer.generate("org", "account")
    root = TrustRoot.create(
        version=1,
        origin="bench/log",
        issued_at=datetime.datetime.now(datetime.UTC),
        threshold=2,
        keys=[s.public for s in (*ops, registry, holder)],
    ).signed_by(*ops)
    with Ledger(folder / "ledger.db", root) as ledger:
        batch = ledger.issue_batch(
            registry,
            instrument="ccer",
            vintage=2024,
            project="p",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1, n),
            holder=holder.actor,
        )
        started = time.perf_counter()
        for i in range(1, n + 1):
            ledger.retire(holder, batch, SerialRange(i, i), beneficiary="b", reason="r")
        write = n / (time.perf_counter() - started)
    with Ledger(folder / "ledger.db") as cold:
        started = time.perf_counter()
        cold.batch(batch)
        read = (n + 1) / (time.perf_counter() - started)
        started = time.perf_counter()
        cold.audit(root)
        audit = (n + 1) / (time.perf_counter() - started)
    return write, read, audit


def main() -> None:
    """Run both and print events/s and ratios."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as folder:
        base_write, base_read = baseline(Path(folder), n)
        write, read, audit = ledger_run(Path(folder), n)
    print(f"events: {n}")
    for name, base, ours in (("write", base_write, write), ("read", base_read, read)):
        print(f"{name:6} baseline {base:8.0f}/s  ledger {ours:8.0f}/s  ratio {ours / base:.2f}")
    print(f"audit  ledger {audit:8.0f} events/s")


if __name__ == "__main__":
    main()
