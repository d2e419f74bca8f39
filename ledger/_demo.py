"""The demo: issuance -> retirement -> certificate -> proof, on a new SQLite file.

It writes into a new folder: ``ledger.db`` (the store), ``trust.json`` (public keys),
``secrets/`` (the demo's private keys), ``certificate.json`` and ``proof.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from ledger._ledger import Ledger
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.proof import verify_proof
from ledger.domain.values import SerialRange
from ledger.errors import InvalidInputError
from ledger.projections.certificates import Certificate

__all__ = ["DemoResult", "run_demo"]

REGISTRY = "shandong-carbon-inclusion-platform"
ORGANISER = "jinan-green-forum-organising-committee"
EVENT = "2026 Jinan Green Development Forum"


@attrs.frozen
class DemoResult:
    """What the demo made and where."""

    folder: Path
    issued: SerialRange
    certificate: Certificate
    entries: int
    keys: int

    @property
    def proof_path(self) -> Path:
        """The proof file."""
        return self.folder / "proof.json"

    @property
    def trust_path(self) -> Path:
        """The public key file."""
        return self.folder / "trust.json"


def run_demo(folder: Path) -> DemoResult:
    """Run the demo in ``folder`` (new or empty) and return what it made."""
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInputError(f"demo folder {folder} is not empty; name a new one")
    folder.mkdir(parents=True, exist_ok=True)
    registry = Signer.generate(REGISTRY, "registry")
    organiser = Signer.generate(ORGANISER, "account")
    keys = KeyDirectory([registry.public, organiser.public])
    _write(folder / "trust.json", keys.to_json())
    for signer in (registry, organiser):
        _write(folder / "secrets" / f"{signer.actor}.json", signer.to_json(), private=True)
    issued = SerialRange(100_001, 105_000)
    with Ledger(folder / "ledger.db", keys) as ledger:
        batch = ledger.issue_batch(
            registry,
            instrument="inclusion-forest",
            vintage=2025,
            project="SD-TH-FS-2024-017 Mount Tai afforestation forest sink",
            province="Shandong",
            methodology="Shandong carbon-inclusion afforestation sink methodology (demo)",
            serials=issued,
            holder=ORGANISER,
        )
        certificate = ledger.retire(
            organiser,
            batch,
            SerialRange(100_001, 101_200),
            event_name=EVENT,
            beneficiary=f"{EVENT} organising committee",
            reason="carbon neutralization of the event's accounted emissions (R7, R11)",
        )
        proof = ledger.proof(batch, certificate.retirement_version)
    verify_proof(proof, keys)
    _write(folder / "certificate.json", certificate.to_json())
    _write(folder / "proof.json", proof)
    return DemoResult(folder, issued, certificate, len(proof["entries"]), len(proof["keys"]))


def _write(path: Path, data: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
