"""The demo: a 1,200-participant forum's neutralization, end to end, on a new SQLite file.

Registration, plan, measures, accounting, offsets in R8 priority order (one deviation with a
reason), retirement, a verifier's evaluation, confirmation, a cosigned checkpoint and a
retirement proof. It writes into a new folder: ``ledger.db`` (the store), ``root.json`` (the
trust root to verify against), ``secrets/`` (the demo's private keys), ``certificate.json``,
``proof.json`` and ``event.json`` (what the event disclosed).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import attrs

from ledger import EventNeutralization
from ledger.audit import Certificate, Signer, TrustRoot, Witness, verify_proof
from ledger.cli._demo_event import SimulatedClock, neutralize_forum
from ledger.cli._files import write_new_json
from ledger.errors import InvalidInputError

__all__ = ["DemoResult", "run_demo"]

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
    return {
        "event": event.name,
        "tier": event.tier.value,
        "participants": event.participants,
        "plan": event.plans[-1],
        "measures": event.measures,
        "accounting": event.accountings[-1],
        "allocations": event.allocations,
        "evaluation": event.evaluation,
        "confirmedOn": event.confirmed_on.isoformat() if event.confirmed_on else None,
        "certificates": [c.to_json() for c in certificates],
    }


def _write(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_new_json(path, data, private=private)
