"""The ``ledger`` command group: every command module registers the same way, loaded lazily.

Each module of :mod:`ledger.cli` lists its click commands (or groups) in ``COMMANDS``;
:data:`COMMAND_MODULES` says which module holds which command, so a command imports only its
own module (``ledger verify`` loads no storage, rendering or domain-heavy module it does not
use). ``tests/unit/test_layers.py`` checks the table against the modules.
"""

from __future__ import annotations

import importlib
import os

import click

from ledger.cli._common import EXIT_BUG, fail, set_clock

__all__ = ["COMMAND_MODULES", "cli", "main"]

#: Command name -> the module of :mod:`ledger.cli` whose ``COMMANDS`` hold it.
COMMAND_MODULES = {
    "demo": "demo",
    "verify": "verify",
    "init": "ops",
    "issue": "ops",
    "transfer": "ops",
    "retire": "ops",
    "checkpoint": "ops",
    "cosign": "ops",
    "proof": "ops",
    "audit": "records",
    "disclosures": "records",
    "certificates": "records",
    "certificate": "publish",
    "site": "publish",
    "export": "interchange",
    "import": "interchange",
    "import-batches": "interchange",
    "event": "events",
    "sink": "sinks",
    "key": "setup",
    "root": "setup",
    "factors": "factors",
    "holdings": "queries",
    "batches": "queries",
    "batch": "queries",
    "provenance": "queries",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        loaded = importlib.import_module(f"ledger.cli.{module}")
        found: dict[str, click.Command] = {c.name or "": c for c in loaded.COMMANDS}
        return found[cmd_name]


@click.group(cls=_LazyGroup)
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


def main() -> None:
    """Entry point of the ``ledger`` command.

    An unexpected exception (a bug) is one line and exit code 4, as every error is; set
    ``LEDGER_DEBUG=1`` to see its traceback.
    """
    try:
        cli(prog_name="ledger")
    except Exception as e:  # the command line's last line of defence
        if os.environ.get("LEDGER_DEBUG"):
            raise
        fail(f"internal error ({type(e).__name__}: {e}); LEDGER_DEBUG=1 shows where", EXIT_BUG)
