"""The ``ledger`` command line (also ``python -m ledger``): one module per command group.

Rules: the command line calls only the public API (``ledger``, ``ledger.audit``,
``ledger.accounting``, ``ledger.errors``), never a private module of the library; an error is one
line ``ledger: ...`` on stderr and a non-zero exit; a failed command changes nothing. Its
modules load with the garbage collector paused (:mod:`ledger.cli._startup`).
"""

from ledger.cli._startup import loading

with loading():
    from ledger.cli.main import cli, main

__all__ = ["cli", "main"]
