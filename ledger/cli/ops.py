"""Everyday registry commands of the ``ledger`` command line (SPEC section 8).

Rules: every command names its store (a SQLite path or a PostgreSQL URL) and the private key
file of the actor who acts; output is one line (or the JSON asked for); an error is one line
on stderr, exit code 1, and nothing written.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from ledger.audit import PublicKey, SignedNote, TrustRoot, Witness, current_log_keys, verify_proof
from ledger.cli._common import (
    DATABASE,
    KEY,
    SCHEMA,
    DatabaseCommand,
    confirm,
    exact_tonnes,
    load_key,
    open_ledger,
    read_json,
    run,
    serial_range,
    witness_state,
)
from ledger.cli._output import FORCE, refuse_existing, write_output
from ledger.cli._tables import echo_json
from ledger.errors import InvalidInputError, LedgerError, ProofError

if TYPE_CHECKING:
    from ledger import Ledger

__all__ = ["COMMANDS"]


@click.command(cls=DatabaseCommand)
@DATABASE
@click.option("--root", "root_file", required=True, type=click.Path(path_type=Path, dir_okay=False))
@SCHEMA
def init(database: str, root_file: Path, schema: str | None) -> None:
    """Create a ledger (or adopt a rotated trust root) from ROOT."""

    def act() -> int:
        root = TrustRoot.from_json(read_json(root_file))
        with open_ledger(database, root, schema=schema, create=True) as ledger:
            return ledger.trust_roots()[-1].version

    click.echo(f"trust root version {run(act)} in force")


@click.command(cls=DatabaseCommand)
@DATABASE
@KEY
@click.option("--instrument", required=True)
@click.option("--vintage", required=True, type=int)
@click.option("--project", required=True)
@click.option("--province", required=True)
@click.option("--methodology", required=True)
@click.option("--serials", required=True, help="START-END, inclusive.")
@click.option("--holder", required=True)
@click.option("--unit", default="1", help="tCO2e per serial unit (1, 0.1, 0.01, 0.001).")
@SCHEMA
def issue(
    database: str, key_file: Path, serials: str, unit: str, schema: str | None, **facts: Any
) -> None:
    """Issue a credit batch (the key is the registry's)."""

    def act() -> UUID:
        size = exact_tonnes(unit, "unit")
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            return ledger.issue_batch(signer, serials=serial_range(serials), unit=size, **facts)

    click.echo(f"issued batch {run(act)}")


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("batch", type=click.UUID)
@KEY
@click.option("--serials", required=True, help="START-END, inclusive.")
@click.option("--to", "to", required=True, help="Receiving account.")
@click.option("--donate", is_flag=True, help="Record the move as a donation (R7).")
@SCHEMA
def transfer(
    database: str,
    batch: UUID,
    key_file: Path,
    serials: str,
    to: str,
    donate: bool,
    schema: str | None,
) -> None:
    """Move held units to another account (the key is the holder's)."""

    def act() -> None:
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            move = ledger.donate if donate else ledger.transfer
            move(signer, batch, serial_range(serials), to=to)

    run(act)
    click.echo(f"{'donated' if donate else 'transferred'} {serials} of {batch} to {to}")


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("batch", type=click.UUID)
@KEY
@click.option("--serials", required=True, help="START-END, inclusive.")
@click.option("--beneficiary", required=True)
@click.option("--reason", required=True)
@click.option("--event", "event_name", default=None, help="The event the units neutralize.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed off a terminal).")
@click.option("--dry-run", is_flag=True, help="Check the retirement and say what it would do.")
@SCHEMA
def retire(
    database: str,
    batch: UUID,
    key_file: Path,
    serials: str,
    beneficiary: str,
    reason: str,
    event_name: str | None,
    yes: bool,
    dry_run: bool,
    schema: str | None,
) -> None:
    """Retire units for good and print the certificate as JSON (R11).

    A retirement cannot be undone: on a terminal it asks first (--yes skips the question; off
    a terminal --yes is required). --dry-run runs every rule on the batch as loaded and prints
    what would be retired, writing nothing.
    """
    span = run(lambda: serial_range(serials))

    def check() -> str:
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            loaded = ledger.batch(batch)
            loaded.retire(
                span, by=signer.actor, beneficiary=beneficiary, reason=reason,
                event_name=event_name,
            )  # fmt: skip
        tonnes = Decimal(loaded.unit) * span.quantity
        return (
            f"retire serials {span.start}-{span.end} of batch {batch}: {span.quantity} units,"
            f" {tonnes} tCO2e {loaded.instrument.value}, by {signer.actor} for {beneficiary!r}"
        )

    plan = run(check)
    if dry_run:
        click.echo(f"would {plan}; nothing written (dry run)")
        return
    confirm(f"{plan[0].upper()}{plan[1:]}? This cannot be undone.", yes=yes, what="retired")

    def act() -> dict[str, Any]:
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            return ledger.retire(
                signer, batch, span, beneficiary=beneficiary, reason=reason,
                event_name=event_name,
            ).to_json()  # fmt: skip

    echo_json(run(act))


@click.command(cls=DatabaseCommand)
@DATABASE
@KEY
@SCHEMA
def checkpoint(database: str, key_file: Path, schema: str | None) -> None:
    """Sign a checkpoint of the whole log with the log key and print it."""

    def act() -> str:
        signer = load_key(key_file)
        with open_ledger(database, schema=schema) as ledger:
            return ledger.sign_checkpoint(signer).text()

    click.echo(run(act), nl=False)


@click.command(cls=DatabaseCommand)
@DATABASE
@KEY
@click.option(
    "--state",
    "state_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The witness's own record of the last checkpoint it cosigned.",
)
@SCHEMA
def cosign(database: str, key_file: Path, state_file: Path, schema: str | None) -> None:
    """As a witness, cosign the latest checkpoint if it extends the last one cosigned."""

    def act() -> int:
        signer = load_key(key_file)
        last = None
        if state_file.exists():
            last = witness_state(state_file)
        with open_ledger(database, schema=schema) as ledger:
            note = ledger.latest_checkpoint()
            if note is None:
                raise InvalidInputError("there is no checkpoint to cosign")
            witness = Witness(signer, _log_key(ledger, note), last)
            size = note.checkpoint.size
            proof = ledger.consistency(last.size, size) if last and 0 < last.size < size else []
            moment = int(datetime.datetime.now(datetime.UTC).timestamp())
            ledger.add_cosignature(witness.cosign(note, proof, moment))
        state_file.write_text(
            json.dumps(
                {
                    "origin": note.checkpoint.origin,
                    "size": size,
                    "root": note.checkpoint.root.hex(),
                }
            )
        )
        return size

    click.echo(f"cosigned the checkpoint of size {run(act)}")


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("batch", type=click.UUID)
@click.argument("version", type=int)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None)
@FORCE
@SCHEMA
def proof(
    database: str, batch: UUID, version: int, out: Path | None, force: bool, schema: str | None
) -> None:
    """Write the offline-verifiable proof of the retirement BATCH:VERSION.

    The proof is written only if it verifies against the ledger's own latest trust root (a
    checkpoint covers the retirement and has the cosignatures the root requires).
    """
    if out is not None:
        refuse_existing(out, force)

    def act() -> dict[str, Any]:
        with open_ledger(database, schema=schema) as ledger:
            document = ledger.proof(batch, version)
            root = ledger.trust_roots()[-1]
        try:
            verify_proof(document, root)
        except ProofError as e:
            reason = str(e).removeprefix(f"{e.field}: ")
            raise ProofError(
                e.field,
                f"{reason}; the proof would not verify against this ledger's trust root, so it"
                " is not written (sign, and have witnesses cosign, a newer checkpoint first)",
            ) from e
        return document

    text = json.dumps(run(act), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        write_output(out, text, force=force)
        click.echo(f"proof written to {out}")


def _log_key(ledger: Ledger, note: SignedNote) -> PublicKey:
    """The current (unrevoked) log key of the latest root that signed ``note``."""
    latest = ledger.trust_roots()[-1]
    for key in current_log_keys(latest, datetime.datetime.now(datetime.UTC)):
        try:
            note.verify_log(key.actor, key.public_key)
        except LedgerError:
            continue
        return key
    raise InvalidInputError(
        f"the latest checkpoint is not signed by a current log key of {latest.origin!r}"
        f" (trust root version {latest.version}); not cosigned"
    )


COMMANDS = (init, issue, transfer, retire, checkpoint, cosign, proof)
