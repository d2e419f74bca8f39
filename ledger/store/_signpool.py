"""Signing the new events of a big import on every core (issue 13).

Rules:
- A worker process (:mod:`ledger._signworker`, which does not load the store package) signs
  pages of new events (version 1: nothing to chain to) with the very
  :class:`~ledger.store._mapper.SigningMapper` the store signs with, built from a copy of the
  store's key directory: every check of a write (key window, actor, role) runs in the worker
  exactly as in the store, and the bytes are the ones the store would write.
- The private key goes to the workers once, when they start, as its 32 raw bytes over the
  pipe that ``spawn`` passes a new process its arguments by; it is never written to a file.
  Workers are started with ``spawn`` (never ``fork``: the parent holds database connections)
  with the caller's ``__main__`` hidden (see :mod:`ledger.audit._sigpool`).
- A page is split in chunks, one task each, so every worker has a share. A chunk whose task
  failed (a refused write, a broken worker) comes back as None: the caller signs it itself,
  so a refusal is raised in the caller with its own error and message.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from eventsourcing.persistence import StoredEvent

from ledger import _signworker
from ledger.audit._sigpool import _main_hidden
from ledger.audit.keys import KeyDirectory, Signer

__all__ = ["SigningPool"]

CHUNK = 250


class SigningPool:
    """Processes signing pages of new events for one signer.

    Args:
        signer: the signer of every event of the import.
        keys: the store's key directory (copied to each worker when it starts).
        workers: how many processes.
    """

    def __init__(self, signer: Signer, keys: KeyDirectory, workers: int = 2) -> None:
        self.signer = signer
        seed = signer.private_key.private_bytes_raw()
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_signworker.start,
            initargs=(seed, signer.actor, signer.role, list(keys)),
        )
        with _main_hidden():
            for _ in range(workers):
                self._executor.submit(_signworker.ready)

    def submit(self, events: Sequence[Any]) -> list[tuple[list[Any], Future[list[StoredEvent]]]]:
        """Start signing ``events``: their chunks, each with its pending result."""
        chunks = [list(events[at : at + CHUNK]) for at in range(0, len(events), CHUNK)]
        return [(chunk, self._executor.submit(_signworker.sign, chunk)) for chunk in chunks]

    def close(self) -> None:
        """Stop the workers (chunks not yet signed are dropped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def signed(chunk: list[Any], future: Future[list[StoredEvent]]) -> list[StoredEvent] | None:
    """A chunk's stored events, or None if its task failed (the caller signs it itself)."""
    try:
        return future.result()
    except Exception:  # a refused write or a broken worker: signed (and refused) by the caller
        return None
