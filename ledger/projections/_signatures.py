"""Ed25519 checks of a rebuild's events on both cores (issue 13).

A thin adapter over the audit's verifier pool (:mod:`ledger.audit._sigpool`).

Rules (SPEC 5a):
- Every event is still verified exactly as on any read (:meth:`ledger.store.Store.open`):
  strict parse, canonical form, the key of the right actor and role, the signed columns. The
  pool only does the Ed25519 check beside the walk, and the check is skipped only when the key
  the store's directory holds for the envelope's key id is the very key the pool verified it
  with (:meth:`ledger.audit.envelope.Envelope.verify`). A page the pool did not finish in time,
  or could not check, is verified in this process: nothing is ever taken on trust.
- Pages are submitted a few ahead of the walk, small ones first (the first is checked here
  while the workers take the next); the walk never waits for the pool (a page not checked yet
  is checked here), so a cold pool (its workers take a moment to start) costs no wall time,
  and a warm one moves the signature checks to the other core.
- One pool per process, kept for later rebuilds once started, closed at exit and never
  shared across a fork. A rebuild of at least :data:`START_FROM` events starts it (its
  Ed25519 checks cost far more than starting two processes); a long-lived process (a
  service, the simulator, the bench) may start it ahead with :func:`start_pool`. A running
  pool checks every rebuild of at least :data:`POOL_FROM` events. Smaller rebuilds in a
  one-shot command never start one: its workers would still be starting when the command
  is done, and the command's exit would wait for them.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future

from eventsourcing.persistence import Notification

from ledger.audit._sigpool import PAGE, VerifierPool

__all__ = ["POOL_FROM", "START_FROM", "prechecked", "start_pool"]

#: The smallest rebuild (events to read) that uses a running verifier pool.
POOL_FROM = 1000
#: The smallest rebuild that starts the pool if it is not running.
START_FROM = 20_000
#: Pages submitted ahead of the walk.
AHEAD = 6
#: The first page's size; each next page is twice as big, up to the pool's page. The walk
#: checks the first page itself while the workers take the next ones.
FIRST = 25
#: Seconds a page a worker is checking is waited for before it is checked here instead.
STALLED = 30.0
WORKERS = 2

_lock = threading.Lock()
_shared: tuple[int, _Pool] | None = None


class _Pool(VerifierPool):
    """The audit's pool, read without waiting (pages are submitted to its workers directly)."""

    #: True once a worker has answered a page: from then on a page a worker is checking is
    #: waited for (it is done sooner than this process could check it again).
    warm = False

    def submit(
        self, envelopes: list[bytes], keys: Mapping[str, bytes] | None = None
    ) -> Future[list[bytes | None]]:
        """Start checking one page; its future gives each envelope's verifying key or None."""
        future = super().submit(envelopes, keys)
        future.add_done_callback(self._answered)
        return future

    def _answered(self, future: Future[list[bytes | None]]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.warm = True


def start_pool() -> None:
    """Start this process's verifier pool now (a long-lived process that rebuilds often)."""
    _pool(start=True)


def _pool(*, start: bool) -> _Pool | None:
    """This process's pool; started if ``start`` and not running yet (else None)."""
    global _shared
    with _lock:
        if _shared is None or _shared[0] != os.getpid():
            if not start:
                return None
            pool = _Pool({}, WORKERS)
            atexit.register(pool.close)
            _shared = (os.getpid(), pool)
        return _shared[1]


def _discard(pool: _Pool) -> None:
    """Forget a broken pool, so the next rebuild that starts one gets a new one."""
    global _shared
    with _lock:
        if _shared is not None and _shared[1] is pool:
            _shared = None
    try:
        pool.close()
    except Exception:  # a broken executor may refuse even to shut down
        return


def prechecked(
    notifications: Iterable[Notification], keys: Mapping[str, bytes], expected: int
) -> Iterator[tuple[Notification, bytes | None]]:
    """Each notification with the raw key its signature was already verified with, or None.

    ``expected``: about how many events will be read (see the rules for when the pool is
    used; without it every key is None, so the caller verifies every signature itself).
    """
    source = iter(notifications)
    pool = None if expected < POOL_FROM else _pool(start=expected >= START_FROM)
    if pool is None:
        yield from ((n, None) for n in source)
        return
    pending: deque[tuple[list[Notification], Future[list[bytes | None]]]] = deque()
    done = False
    size = FIRST
    while True:
        while not done and len(pending) < AHEAD:
            size, chunk = (
                min(size * 2, PAGE),
                [n for _, n in zip(range(size), source, strict=False)],
            )
            if not chunk:
                done = True
                break
            try:
                future = pool.submit([_state(n) for n in chunk], keys)
            except RuntimeError:  # a broken pool (a worker died): the rest is checked here
                _discard(pool)
                for waiting, given in pending:
                    yield from zip(waiting, _ready(given, len(waiting), False), strict=True)
                yield from ((n, None) for n in (*chunk, *source))
                return
            pending.append((chunk, future))
        if not pending:
            return
        chunk, future = pending.popleft()
        found = _ready(future, len(chunk), pool.warm)
        yield from zip(chunk, found, strict=True)


def _ready(future: Future[list[bytes | None]], size: int, warm: bool) -> list[bytes | None]:
    """The page's keys if the pool has them (or, warm, is checking them); else all None."""
    if not future.done() and not (warm and future.running()):
        future.cancel()  # if a worker has it already, its answer is dropped
        return [None] * size
    try:
        found = future.result(timeout=STALLED)
    except Exception:  # a broken or stalled worker: the caller checks this page itself
        return [None] * size
    return found if len(found) == size else [None] * size


def _state(notification: Notification) -> bytes:
    state = notification.state
    return state if isinstance(state, bytes) else b""
