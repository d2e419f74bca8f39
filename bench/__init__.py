"""The ledger's benchmark suite: ``python -m bench`` (see ``bench/__main__.py``).

Every row of the performance table is measured beside its baseline in the same run (plain
eventsourcing on the same backend, or the raw operation), and ``bench/README.md`` is written
from the results.
"""
