"""Re-running a command after another writer won a race (eventsourcing's advice).

Rule: after a failed save the aggregates in hand are stale; the command is re-run from a fresh
read, a few times, and then the conflict is reported as a ConcurrencyError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ledger.errors import ConcurrencyError

__all__ = ["ATTEMPTS", "retrying"]

T = TypeVar("T")
ATTEMPTS = 3


def retrying(attempt: Callable[[], T]) -> T:
    """Run ``attempt``; when another writer won a race, run it again from a fresh read."""
    for remaining in reversed(range(ATTEMPTS)):
        try:
            return attempt()
        except ConcurrencyError:
            if not remaining:
                raise
    raise ConcurrencyError("no attempt was made")
