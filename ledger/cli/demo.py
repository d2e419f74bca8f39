"""The demo: a 1,200-participant forum's neutralization, end to end, on a new SQLite file.

Registration, plan, measures, accounting, offsets in R8 priority order (one deviation with a
reason), retirement, a verifier's evaluation, confirmation, a cosigned checkpoint and a
retirement proof. It writes into a new folder: ``ledger.db`` (the store), ``root.json`` (the
trust root to verify against), ``secrets/`` (the demo's private keys), ``certificate.json``,
``proof.json`` and ``event.json`` (what the event disclosed).
"""

from __future__ import annotations

import datetime
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from ledger.accounting import FactorTable
from ledger.audit import Certificate, Signer, TrustRoot, Witness, verify_proof
from ledger.cli._common import fail
from ledger.cli._demo_event import SimulatedClock, neutralize_forum
from ledger.cli._files import write_new_json
from ledger.errors import InvalidInputError, LedgerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger import EventNeutralization, Line

__all__ = ["COMMANDS", "DemoResult", "demo", "run_demo"]

ORIGIN = "demo.ledger.local/shandong-events"


@attrs.frozen
class DemoResult:
    """What the demo made and where."""

    folder: Path
    event: EventNeutralization
    certificates: list[Certificate]
    entries: int
    tree_size: int
    deadline: str

    @property
    def certificate(self) -> Certificate:
        """The certificate whose proof the demo wrote."""
        return self.certificates[0]

    @property
    def proof_path(self) -> Path:
        """The proof file."""
        return self.folder / "proof.json"

    @property
    def root_path(self) -> Path:
        """The trust root file."""
        return self.folder / "root.json"


def _signers() -> dict[str, Signer]:
    return {
        "operator-1": Signer.generate("ledger-operator-1", "operator"),
        "operator-2": Signer.generate("ledger-operator-2", "operator"),
        "log": Signer.generate(ORIGIN, "log"),
        "witness": Signer.generate("witness.demo.local/w1", "witness"),
        "registry": Signer.generate("shandong-carbon-inclusion-platform", "registry"),
        "ccer": Signer.generate("national-ccer-registry", "registry"),
        "organiser": Signer.generate("jinan-green-forum-organising-committee", "account"),
        "sponsor": Signer.generate("forum-sponsor-enterprise", "account"),
        "verifier": Signer.generate("certified-verifier-demo", "verifier"),
    }


def _root(signers: dict[str, Signer]) -> TrustRoot:
    root = TrustRoot.create(
        version=1,
        origin=ORIGIN,
        issued_at=datetime.datetime.now(datetime.UTC),
        threshold=2,
        witnesses=1,
        keys=[signer.public for signer in signers.values()],
    )
    return root.signed_by(signers["operator-1"], signers["operator-2"])


def run_demo(folder: Path) -> DemoResult:
    """Run the demo in ``folder`` (new or empty) and return what it made."""
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInputError(f"demo folder {folder} is not empty; name a new one")
    folder.mkdir(parents=True, exist_ok=True)
    signers = _signers()
    root = _root(signers)
    _write(folder / "root.json", root.to_json())
    for name, signer in signers.items():
        _write(folder / "secrets" / f"{name}.json", signer.to_json(), private=True)
    clock = SimulatedClock()
    from ledger import Ledger

    with Ledger(folder / "ledger.db", root, clock=clock) as ledger:
        event_id, certificates = neutralize_forum(ledger, signers, clock)
        note = ledger.sign_checkpoint(signers["log"])
        witness = Witness(signers["witness"], signers["log"].public)
        moment = int(datetime.datetime.now(datetime.UTC).timestamp())
        ledger.add_cosignature(witness.cosign(note, [], moment))
        first = certificates[0]
        proof = ledger.proof(first.batch_id, first.retirement_version)
        event = ledger.event(event_id)
        (deadline, state), *_ = ledger.event_deadlines(event_id)
    verify_proof(proof, root)
    _write(folder / "certificate.json", first.to_json())
    _write(folder / "proof.json", proof)
    _write(folder / "event.json", _disclosure(event, certificates))
    due = f"due {deadline.due.isoformat()}: {state.value}"
    return DemoResult(folder, event, certificates, len(proof["entries"]), note.checkpoint.size, due)


def _disclosure(event: EventNeutralization, certificates: list[Certificate]) -> dict[str, Any]:
    records = event.records()
    return {
        "event": event.name,
        "tier": event.tier.value,
        "participants": event.participants,
        "plan": records["plans"][-1],
        "measures": records["measures"],
        "accounting": records["accountings"][-1],
        "allocations": records["allocations"],
        "evaluation": records["evaluation"],
        "confirmedOn": event.confirmed_on.isoformat() if event.confirmed_on else None,
        "certificates": [c.to_json() for c in certificates],
    }


def _write(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_new_json(path, data, private=private)


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="New or empty folder for the demo (default: ./ledger-demo-<time>).",
)
def demo(folder: Path | None) -> None:
    """Run a 1,200-participant forum's neutralization end to end; write its proof."""
    if folder is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder = Path.cwd() / f"ledger-demo-{stamp}"
    try:
        result = run_demo(folder)
    except LedgerError as e:
        fail(f"demo failed: {e}", 1)
    _summary(result)


def _summary(result: DemoResult) -> None:
    event, certs = result.event, result.certificates
    accounting = event.accountings[-1]
    click.echo(f"Ledger demo in {result.folder} (SQLite; simulated dates, real signatures)")
    click.echo(
        f"  event        {event.name}: {event.kind}, {event.participants:,} participants,"
        f" tier {event.tier.value}"
    )
    click.echo(
        f"  plan         version {len(event.plans)}, {len(event.plans[-1].boundary)} sources,"
        f" {len(event.measures)} reduction measures"
    )
    click.echo(
        f"  accounted    {accounting.total} tCO2e from {len(accounting.lines)} activity lines"
    )
    click.echo(f"  factors      {_checked_factors(accounting.lines)}")
    for allocation, cert in zip(event.allocations, certs, strict=True):
        note = f"; deviation: {allocation.reason}" if allocation.deviation else ""
        click.echo(
            f"  retired      {cert.tonnes} t {cert.instrument} ({cert.province}, R8 rank"
            f" {cert.priority_rank}){note}"
        )
    verifier = event.evaluation.verifier if event.evaluation else None
    click.echo(f"  confirmed    {event.confirmed_on} on the evaluation of {verifier}")
    click.echo(f"  deadline     R10 neutralization {result.deadline}")
    click.echo(
        f"  proof        {result.entries} signed entries in a cosigned checkpoint of"
        f" {result.tree_size} -> proof.json (verified); event.json, certificate.json"
    )
    click.echo(
        f"Verify it: {_ledger_command()} verify {result.proof_path} --trust {result.root_path}"
    )


def _ledger_command() -> str:
    """How to run this same ``ledger`` from the user's shell, as it is now set up."""
    program = Path(sys.argv[0])
    if program.name == "__main__.py":
        return f"{shlex.quote(sys.executable)} -m ledger"
    on_path = shutil.which("ledger")
    if on_path and Path(on_path).resolve() == program.resolve():
        return "ledger"
    return shlex.quote(str(program))


def _checked_factors(lines: Sequence[Line]) -> str:
    shipped = {factor.reference: factor for factor in FactorTable.default()}
    used = [shipped.get(line.factor_source) for line in lines]
    checked = sum(1 for factor in used if factor is not None and factor.checked)
    return f"{checked} of {len(used)} lines at shipped factors checked against their sources"


COMMANDS = (demo,)
