"""Kill points: where a worker kills itself with SIGKILL, inside the ledger's own code.

Rules:
- A kill point wraps one internal method; once armed, the next call to it kills the process
  with SIGKILL (no cleanup, no rollback by Python: the database must undo it), before the call
  (``claim``, ``leaf``, ``checkpoint``, ``projection``, ``import``) or after it returned
  (``committed``: the events are written, but the command is never acknowledged).
- ``claim`` and ``leaf`` are inside the save transaction (before the event insert, and after
  it, before its Merkle leaf); ``checkpoint`` inside the checkpoint's transaction;
  ``projection`` after a read model applied a page of events, before its position is written;
  ``import`` inside the import's one transaction.
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable
from typing import Any

__all__ = ["POINTS", "POINT_OPS", "KillSwitch"]

POINTS = ("claim", "leaf", "committed", "checkpoint", "projection", "import")
POINT_OPS = {  # the commands that reach each point
    "claim": ("issue", "sink"),
    "leaf": ("transfer", "retire", "event"),
    "committed": ("transfer", "retire", "split", "event"),
    "checkpoint": ("checkpoint",),
    "projection": ("project",),
    "import": ("import",),
}


class KillSwitch:
    """The kill points of this process; :meth:`arm` one, and its next hit kills."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.importing = False
        self.last_words: Callable[[str], None] | None = None
        self._installed = False

    def arm(self, point: str | None) -> None:
        """Kill the process at the next hit of ``point`` (None: disarm)."""
        if point is not None and point not in POINTS:
            raise ValueError(f"unknown kill point {point!r}")
        self.armed = point
        self.install()

    def hit(self, point: str) -> None:
        """Called at ``point``: die now if it is armed."""
        if self.armed == point:
            if self.last_words is not None:
                self.last_words(point)
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> None:
        """Wrap the internal methods the kill points sit in (once per process)."""
        if self._installed:
            return
        self._installed = True
        from ledger.projections.runner import ProjectionRunner
        from ledger.store import Store
        from ledger.store._claims import ClaimIndex
        from ledger.store._merkle_log import LogStore

        def before(cls: type, name: str, point: Callable[[], str | None]) -> None:
            original = getattr(cls, name)

            @functools.wraps(original)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                chosen = point()
                if chosen is not None:
                    self.hit(chosen)
                return original(*args, **kwargs)

            setattr(cls, name, wrapped)

        def after(cls: type, name: str, point: str) -> None:
            original = getattr(cls, name)

            @functools.wraps(original)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                result = original(*args, **kwargs)
                self.hit(point)
                return result

            setattr(cls, name, wrapped)

        before(ClaimIndex, "claim", lambda: None if self.importing else "claim")
        before(LogStore, "append", lambda: "import" if self.importing else "leaf")
        before(LogStore, "save_checkpoint", lambda: None if self.importing else "checkpoint")
        before(ProjectionRunner, "_advance", lambda: "projection")
        after(Store, "save", "committed")
