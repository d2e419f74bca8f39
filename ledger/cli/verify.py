"""``ledger verify``: check a retirement proof offline, with no database and no storage library.

Rules: exit 0 and one summary line when the proof holds; 1 and one line naming the failing
field when it does not; 2 when a file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.audit import TrustRoot, verify_proof
from ledger.cli._common import fail, read_json
from ledger.errors import InvalidInputError, LedgerError, ProofError

__all__ = ["COMMANDS", "verify"]


@click.command()
@click.argument("proof_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--trust",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust root file (root.json) you already trust (required).",
)
def verify(proof_file: Path, trust: Path) -> None:
    """Verify a retirement proof offline; exit 0 if it holds, 1 with the reason if not."""
    try:
        proof = read_json(proof_file)
    except InvalidInputError as e:
        fail(
            str(e) if isinstance(e.__cause__, OSError) else f"proof rejected: {e}",
            2 if isinstance(e.__cause__, OSError) else 1,
        )
    try:
        root = TrustRoot.from_json(read_json(trust))
    except LedgerError as e:
        fail(f"cannot use trust root: {e}", 2)
    try:
        verify_proof(proof, root)
    except ProofError as e:
        fail(f"proof rejected: {e}", 1)
    cert = proof["certificate"]
    click.echo(
        f"OK: {cert['tonnes']} t ({cert['quantity']:,} units) of batch {cert['batch']} (serials"
        f" {cert['serialStart']}-{cert['serialEnd']}) retired for {_retired_for(cert)}; "
        f"{len(proof['entries'])} signed entries included in the cosigned checkpoint"
    )
    if proof["event"] is not None:
        last = proof["event"]["entries"][-1]["envelope"]["payloadType"]
        confirmed = "confirmed" if last.endswith(".confirmed.v1+json") else "NOT yet confirmed"
        click.echo(f"event: its neutrality is {confirmed} in its own signed record")


def _retired_for(cert: dict[str, Any]) -> str:
    named = [f"event {cert['eventName']!r}"] if cert.get("eventName") else []
    if cert.get("beneficiary"):
        named.append(f"beneficiary {cert['beneficiary']!r}")
    return " and ".join(named) or "no named event or beneficiary"


COMMANDS = (verify,)
