"""The worked example in docs/proof-format.md is what the code computes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit import canonical_json
from ledger.audit.envelope import Envelope, entry_hash, pae
from ledger.audit.keys import Signer

DOC_DIR = Path(__file__).parents[2] / "docs"
DOC = (DOC_DIR / "proof-format.md").read_text()


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
    assert pae(kind, payload).startswith(b"DSSEv1 50 " + kind.encode() + b" 617 {")


def test_the_documented_log_checkpoint_and_cosignature_match_the_code() -> None:
    import base64

    from ledger.audit.merkle import inclusion_proof, leaf_hash, root
    from ledger.audit.note import Checkpoint, cosign, note_key_id, sign_checkpoint

    leaves = [leaf_hash(f"leaf {i}".encode()) for i in range(5)]
    assert leaves[2].hex() == hex_after("Leaf 2 hash:")
    assert root(leaves).hex() == hex_after("Root of the 5-leaf tree:")
    path = re.findall(r"`([0-9a-f]{64})`", DOC.split("Inclusion path of leaf 2 (in order):")[1])[:3]
    assert [h.hex() for h in inclusion_proof(2, leaves)] == path
    log = Signer(
        "ledger.example/events", "log", Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32)
    )
    wit = Signer(
        "witness.example/w1", "witness", Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32)
    )
    note = sign_checkpoint(Checkpoint(log.actor, 5, root(leaves), 1), log)
    note = note.with_signature(cosign(note, wit, 1764000000))
    documented = re.search(r"```note\n(.*?)```", DOC, flags=re.S)
    assert documented and documented.group(1) == note.text()
    assert f"Log key id `{note_key_id(log.actor, log.raw_public_key).hex()}`" in DOC
    assert f"witness key id `{note_key_id(wit.actor, wit.raw_public_key, 4).hex()}`" in DOC
    assert base64.b64encode(root(leaves)).decode() in DOC


def test_a_real_proof_matches_the_documented_json_schema(tmp_path: Path) -> None:
    import json

    import jsonschema

    from ledger.cli.demo import run_demo

    schema = json.loads((DOC_DIR / "schemas" / "retirement-proof.v2.schema.json").read_text())
    result = run_demo(tmp_path / "demo")
    proof = json.loads(result.proof_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(proof, schema)
    proof["entries"][0]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(proof, schema)


def test_real_history_and_register_files_match_their_schemas(tmp_path: Path) -> None:
    import io
    import json

    import jsonschema
    from referencing import Registry, Resource

    from ledger import Ledger
    from ledger.cli.demo import run_demo

    schemas = {p.name: json.loads(p.read_text()) for p in (DOC_DIR / "schemas").glob("*.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    result = run_demo(tmp_path / "demo")
    with Ledger(result.folder / "ledger.db") as ledger:
        out = io.StringIO()
        ledger.export_history(out)
        register = ledger.disclosures()
        listed = ledger.certificate_list()
    line_schema = jsonschema.Draft202012Validator(
        schemas["history-line.v1.schema.json"], registry=registry
    )
    for line in out.getvalue().splitlines():
        line_schema.validate(json.loads(line))
    jsonschema.validate(register, schemas["disclosure-register.v1.schema.json"])
    jsonschema.Draft202012Validator(
        schemas["certificates.v1.schema.json"], registry=registry
    ).validate(listed)
    assert [c["id"] for c in listed] == [c.id for c in result.certificates]  # order retired
    root_schema = jsonschema.Draft202012Validator(
        schemas["trust-root.v1.schema.json"], registry=registry
    )
    root_schema.validate(json.loads(result.root_path.read_text()))
    for key_file in (result.folder / "secrets").glob("*.json"):
        jsonschema.validate(json.loads(key_file.read_text()), schemas["signer-key.v1.schema.json"])
    assert {row["kind"] for row in register} >= {"plan", "deviation", "evaluation", "confirmation"}
