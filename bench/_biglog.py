"""A real log of a million leaves, built fast and kept under ``bench/.cache`` between runs.

Rules:
- The store is a real ledger: trust root version 1 at leaf 0, the proved batch (its issuance
  and nine retirements, signed through :class:`ledger.Ledger`) in the middle of the log, and a
  cosigned checkpoint of the whole log signed through the ledger at the end.
- The other leaves are padding appended through the Merkle log's own ``append`` (the code
  every write runs, which stores the interior nodes), in large transactions: a million signed
  commands would take hours, and a proof reads only the log's leaves and nodes, the proved
  aggregates' events and the checkpoint. Such a store fails ``ledger audit`` (its padding
  leaves are no stored events); only the proof rows use it.
- The cache is a folder per leaf count and :data:`LAYOUT` (``ledger.db`` and ``actors.json``,
  the bench actors' keys, never real ones), so a later run verifies against the same root.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa

from bench._common import Actors
from ledger import Ledger, Signer, TrustRoot
from ledger.store._merkle_log import LogStore  # the log's own append (bench only)

__all__ = ["BIG_LOG", "CACHE", "BigLog", "big_log"]

#: Leaves of the big log per bench mode.
BIG_LOG = {"toy": 5_000, "quick": 1_000_000, "full": 1_000_000}
CACHE = Path(__file__).resolve().parent / ".cache"
LAYOUT = 1  # bump when the store's tables or this layout change
_CHUNK = 1 << 16


class BigLog:
    """A store of ``leaves`` leaves, the batch ``target`` to prove, and the root to trust."""

    def __init__(self, path: Path, leaves: int, target: UUID, actors: Actors, seconds: float):
        self.path = path
        self.leaves = leaves
        self.target = target
        self.actors = actors
        self.seconds = seconds  # how long it took to build (0.0 when read from the cache)


def big_log(leaves: int, log: Callable[[str], None] = print) -> BigLog:
    """The cached store of ``leaves`` leaves, built now if it is not there yet.

    A store is built in a folder of its own and renamed into place when complete, so two
    runs at once never read a half-built one (the later rename loses and is discarded).
    """
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    folder = CACHE / f"log-{leaves}-v{LAYOUT}"
    found = _load(folder, leaves)
    if found is not None:
        return found
    started = time.perf_counter()
    building = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=CACHE))
    actors = Actors.create()
    target = _build(building / "ledger.db", leaves, actors, log)
    with sqlite3.connect(building / "ledger.db") as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # one file, safe to rename
    (building / "actors.json").write_text(json.dumps(_dump(actors, target)))
    try:
        building.rename(folder)
    except OSError:  # another run finished first: use its store
        shutil.rmtree(building, ignore_errors=True)
        found = _load(folder, leaves)
        if found is None:
            raise
        return found
    return BigLog(folder / "ledger.db", leaves, target, actors, time.perf_counter() - started)


def _build(path: Path, leaves: int, actors: Actors, log: Callable[[str], None]) -> UUID:
    engine = sa.create_engine(f"sqlite:///{path}")
    with Ledger(path, actors.root):
        pass  # the root is leaf 0
    store = LogStore(engine, None)
    half = leaves // 2
    _pad(engine, store, 1, half, log)
    with Ledger(path) as ledger:
        target = actors.issue(ledger, 100)
        for nth in range(1, 10):  # versions 2..10 are retirements
            actors.retire(ledger, target, nth)
    with engine.connect() as connection:
        done = store.size(connection)
    _pad(engine, store, done, leaves, log)
    engine.dispose()
    with Ledger(path) as ledger:
        actors.checkpoint(ledger)
    return UUID(str(target))


def _pad(
    engine: sa.Engine, store: LogStore, start: int, end: int, log: Callable[[str], None]
) -> None:
    """Append padding leaves ``start .. end - 1`` (each its own aggregate, version 1)."""
    at = start
    while at < end:
        count = min(_CHUNK, end - at)
        items = [(f"padding-{n:09d}", 1, n.to_bytes(8, "big")) for n in range(at, at + count)]
        with engine.begin() as connection:
            store.append(connection, items)
        at += count
        if at % (1 << 18) < _CHUNK:
            log(f"    big log: {at:,} of {end:,} leaves")


def _dump(actors: Actors, target: object) -> dict[str, object]:
    signers = [*actors.operators, actors.log, actors.witness, actors.registry, *actors.holders]
    return {
        "target": str(target),
        "signers": [s.to_json() for s in signers],
        "operators": len(actors.operators),
        "root": actors.root.to_json(),
    }


def _load(folder: Path, leaves: int) -> BigLog | None:
    try:
        meta = json.loads((folder / "actors.json").read_text())
        signers = [Signer.from_json(s) for s in meta["signers"]]
        ops = int(meta["operators"])
        root = TrustRoot.from_json(meta["root"])
        target = UUID(str(meta["target"]))
    except (OSError, KeyError, TypeError, ValueError):
        return None
    operators, rest = signers[:ops], signers[ops:]
    actors = Actors(operators, rest[0], rest[1], rest[2], rest[3:], root)
    return BigLog(folder / "ledger.db", leaves, target, actors, 0.0)
