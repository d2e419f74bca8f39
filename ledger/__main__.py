"""``python -m ledger``: the same command line as ``ledger``."""

from ledger.cli import main

main()
