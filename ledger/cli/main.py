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
from ledger.cli._common import set_clock

__all__ = ["cli", "main"]


@click.group()
@click.version_option(package_name="ledger")
@click.option(
    "--now",
    hidden=True,
    default=None,
    help="Run as if it were this ISO 8601 time (tests; never for real records).",
)
def cli(now: str | None) -> None:
    """Event-sourced, signed carbon offset and retirement ledger."""
    if now is not None:
        set_clock(now)


for _module in (demo, verify, ops, records, publish, interchange, events, sinks, setup, factors):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point of the ``ledger`` command."""
    cli(prog_name="ledger")
