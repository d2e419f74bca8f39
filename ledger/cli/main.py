"""The ``ledger`` command group: every command module registers the same way.

Each module of :mod:`ledger.cli` lists its click commands (or groups) in ``COMMANDS``; this
module adds them to the group, and nothing else.
"""

from __future__ import annotations

import click

from ledger.cli import (
    demo,
    events,
    factors,
    interchange,
    ops,
    publish,
    records,
    setup,
    sinks,
    verify,
)

__all__ = ["cli", "main"]


@click.group()
@click.version_option(package_name="ledger")
def cli() -> None:
    """Event-sourced, signed carbon offset and retirement ledger."""


for _module in (demo, verify, ops, records, publish, interchange, events, sinks, setup, factors):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point of the ``ledger`` command."""
    cli(prog_name="ledger")
