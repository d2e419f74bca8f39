"""The demo: issuance -> retirement -> checkpoint -> cosignature -> proof, on a new SQLite file.

It writes into a new folder: ``ledger.db`` (the store), ``root.json`` (the trust root to
verify against), ``secrets/`` (the demo's private keys), ``certificate.json`` and
``proof.json``.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import attrs

from ledger._ledger import Ledger
from ledger.audit.keys import Signer
from ledger.audit.proof import verify_proof
from ledger.audit.trust import TrustRoot
from ledger.audit.witness import Witness
from ledger.domain.values import SerialRange
from ledger.errors import InvalidInputError
from ledger.projections.certificates import Certificate

__all__ = ["DemoResult", "run_demo"]

ORIGIN = "demo.ledger.local/shandong-events"
REGISTRY = "shandong-carbon-inclusion-platform"
ORGANISER = "jinan-green-forum-organising-committee"
WITNESS = "witness.demo.local/w1"
EVENT = "2026 Jinan Green Development Forum"


@attrs.frozen
class DemoResult:
    """What the demo made and where."""

    folder: Path
    issued: SerialRange
    certificate: Certificate
    entries: int
    tree_size: int

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
        "witness": Signer.generate(WITNESS, "witness"),
        "registry": Signer.generate(REGISTRY, "registry"),
        "organiser": Signer.generate(ORGANISER, "account"),
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
    issued = SerialRange(100_001, 105_000)
    with Ledger(folder / "ledger.db", root) as ledger:
        certificate = _neutralize(ledger, signers, issued)
        note = ledger.sign_checkpoint(signers["log"])
        witness = Witness(signers["witness"], signers["log"].public)
        moment = int(datetime.datetime.now(datetime.UTC).timestamp())
        ledger.add_cosignature(witness.cosign(note, [], moment))
        proof = ledger.proof(certificate.batch_id, certificate.retirement_version)
    verify_proof(proof, root)
    _write(folder / "certificate.json", certificate.to_json())
    _write(folder / "proof.json", proof)
    return DemoResult(folder, issued, certificate, len(proof["entries"]), note.checkpoint.size)


def _neutralize(ledger: Ledger, signers: dict[str, Signer], issued: SerialRange) -> Certificate:
    batch = ledger.issue_batch(
        signers["registry"],
        instrument="inclusion-forest",
        vintage=2025,
        project="SD-TH-FS-2024-017 Mount Tai afforestation forest sink",
        province="Shandong",
        methodology="Shandong carbon-inclusion afforestation sink methodology (demo)",
        serials=issued,
        holder=ORGANISER,
    )
    retired = SerialRange(100_001, 101_200)
    ledger.reserve(signers["organiser"], batch, retired, event_name=EVENT)
    return ledger.retire(
        signers["organiser"],
        batch,
        retired,
        event_name=EVENT,
        beneficiary=f"{EVENT} organising committee",
        reason="carbon neutralization of the event's accounted emissions (R7, R11)",
    )


def _write(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
