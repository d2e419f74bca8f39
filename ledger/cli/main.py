"""The ``ledger`` command group: every command module registers the same way, loaded lazily.

Each module of :mod:`ledger.cli` lists its click commands (or groups) in ``COMMANDS``;
:data:`COMMAND_MODULES` says which module holds which command, so a command imports only its
own module (``ledger verify`` loads no storage, rendering or domain-heavy module it does not
use). ``tests/unit/test_layers.py`` checks the table against the modules.

``ledger --help`` lists the commands from :data:`COMMAND_HELP` (each command's first help
paragraph, checked against the commands by a test), so it loads no command module; this
module imports only click until a command runs.
"""

from __future__ import annotations

import importlib
import os

import click

from ledger.cli._startup import loading, program_started

__all__ = ["COMMAND_HELP", "COMMAND_MODULES", "cli", "main"]

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


#: Command name -> the first paragraph of its help, as ``ledger --help`` lists it.
COMMAND_HELP = {
    "audit": "Re-verify a whole store against the trust you bring: signatures, log, every rule.",
    "batch": "One credit batch (``ledger batch show DB ID``).",
    "batches": "Every credit batch: instrument, vintage, project, serials and tonnes.",
    "certificate": (
        "Render certificate ID (BATCH:VERSION, or an event's id) as PDF, HTML or text."
    ),
    "certificates": (
        "Print every retirement certificate: a table, JSON, CSV, XLSX or readable text (R11)."
    ),
    "checkpoint": "Sign a checkpoint of the whole log with the log key and print it.",
    "cosign": "As a witness, cosign the latest checkpoint if it extends the last one cosigned.",
    "demo": "Run a 1,200-participant forum's neutralization end to end; write its proof.",
    "disclosures": "Print the public disclosure register (R12): a table, JSON, CSV or XLSX.",
    "event": "An event's neutralization: register, plan, measure, account, offset, confirm.",
    "export": "Write a store's whole signed history as JSON Lines (OUT may be -).",
    "factors": ("List the emission factors (R6), each with its source and whether it was checked."),
    "holdings": "Units per account, batch and state (held, reserved, retired, exported).",
    "import": ("Import an exported history into an empty store (SQLite path or PostgreSQL URL)."),
    "import-batches": (
        "Issue credit batches from a CSV file: every row valid, or nothing written."
    ),
    "init": "Create a ledger (or adopt a rotated trust root) from ROOT.",
    "issue": "Issue a credit batch (the key is the registry's).",
    "key": "Private signing keys (one actor, one role each).",
    "proof": "Write the offline-verifiable proof of the retirement BATCH:VERSION.",
    "provenance": ("Every event in the life of the units SERIALS (N or START-END) of BATCH (R11)."),
    "retire": "Retire units for good and print the certificate as JSON (R11).",
    "root": "Trust roots: which keys speak for the ledger, and who may change that.",
    "sink": ("Forest and marine sink projects: register, bind to an event, milestones, issuance."),
    "site": "Write the public disclosure register as a static site into the new folder OUT.",
    "transfer": "Move held units to another account (the key is the holder's).",
    "verify": "Verify a retirement proof offline; exit 0 if it holds, 1 with the reason if not.",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as click does, from :data:`COMMAND_HELP` (no module loaded)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMAND_HELP[name]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        with loading():
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
        from ledger.cli._common import set_clock

        set_clock(now)


def main() -> None:
    """Entry point of the ``ledger`` command.

    An unexpected exception (a bug) is one line and exit code 4, as every error is; set
    ``LEDGER_DEBUG=1`` to see its traceback. The process is the ``ledger`` program from here
    on: what it loads is kept out of the garbage collector's walks (:mod:`ledger.cli._startup`).
    """
    program_started()
    try:
        cli(prog_name="ledger")
    except Exception as e:  # the command line's last line of defence
        if os.environ.get("LEDGER_DEBUG"):
            raise
        from ledger.cli._common import EXIT_BUG, fail

        fail(f"internal error ({type(e).__name__}: {e}); LEDGER_DEBUG=1 shows where", EXIT_BUG)
