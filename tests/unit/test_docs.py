"""The worked example in docs/proof-format.md is what the code computes."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit._canonical import canonical_json
from ledger.audit.envelope import Envelope, entry_hash, pae
from ledger.audit.keys import Signer

DOC = (Path(__file__).parents[2] / "docs" / "proof-format.md").read_text()


def hex_after(label: str) -> str:
    match = re.search(re.escape(label) + r"\s*\n?`([0-9a-f]{64,128})`", DOC)
    assert match, label
    return match.group(1)


def test_the_documented_example_matches_the_code() -> None:
    import json

    seed = Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32)
    signer = Signer("shandong-carbon-inclusion-platform", "registry", seed)
    payload_text = re.search(r"```json\n(\{.*\})\n```", DOC)
    assert payload_text
    payload = payload_text.group(1).encode()
    assert canonical_json(json.loads(payload)) == payload
    kind = "application/vnd.ledger.credit-batch.issued.v1+json"
    envelope = Envelope.seal(kind, payload, signer)
    assert signer.public.public_key.hex() == hex_after("Public key (hex):")
    assert signer.public.keyid == hex_after("key id:")
    assert envelope.sig.hex() == hex_after("Signature (hex):")
    assert entry_hash(envelope.to_bytes()) == hex_after("Entry hash of the envelope:")
    assert pae(kind, payload).startswith(b"DSSEv1 50 " + kind.encode() + b" 432 {")
