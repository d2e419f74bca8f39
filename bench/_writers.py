"""Concurrent writers: one process per writer, each with its own connections (PostgreSQL)."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID


def retire_worker(
    url: str,
    root_json: dict[str, Any],
    holder_json: dict[str, str],
    batch: str,
    serials: list[int],
    barrier: Any,
) -> tuple[int, int, float]:
    """Retire each serial of ``serials`` one by one: (retired, failed, seconds after the barrier).

    A failure is a ConcurrencyError the ledger gave up on (after its own retries).
    """
    from ledger import ConcurrencyError, Ledger, SerialRange, Signer, TrustRoot

    root = TrustRoot.from_json(root_json)
    holder = Signer.from_json(holder_json)
    retired = failed = 0
    with Ledger(url, root) as ledger:
        ledger.batch(UUID(batch))  # warm: connections open, modules loaded
        barrier.wait()
        started = time.perf_counter()
        for serial in serials:
            try:
                ledger.retire(
                    holder, UUID(batch), SerialRange(serial, serial), beneficiary="b", reason="r"
                )
                retired += 1
            except ConcurrencyError:
                failed += 1
        elapsed = time.perf_counter() - started
    return retired, failed, elapsed
