"""The command line's modules load without the cyclic garbage collector walking them.

Importing click, attrs, cryptography and the verifier builds tens of thousands of objects
(classes, functions, their dicts and closures) that live until the process ends, and next to no
garbage. The collector, run every 700 new objects, would walk them again and again while
``ledger`` starts, in every later full collection, and once more when the interpreter exits:
about a tenth of ``ledger verify``'s CPU time, for nothing found.

Rules: modules load inside :func:`loading`, which pauses the collector and sets it back as it
was found. In the ``ledger`` program (:func:`program_started`, called by
:func:`ledger.cli.main.main` and never by a library user or a test's in-process runner), what
exists when a load ends is also frozen (:func:`gc.freeze`): kept out of the collector's walks
for the rest of the process. Garbage made afterwards, while a command runs, is collected as
ever; the little made while loading (some 1,000 objects, mostly the classes attrs replaces by
their slotted copies: about 64 KiB of peak RSS for ``ledger verify``) stays until the exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["loading", "program_started"]

_program = False


def program_started() -> None:
    """Mark this process as the ``ledger`` program and freeze what it has loaded so far."""
    global _program  # one process, one program: set once by the entry point
    _program = True
    gc.freeze()


@contextmanager
def loading() -> Iterator[None]:
    """Pause the collector while modules load; in the program, freeze what they built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _program:
            gc.freeze()
        if enabled:
            gc.enable()
