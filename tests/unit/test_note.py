"""Checkpoints as C2SP signed notes, cosignatures, and the witness's consistency check."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest

from ledger import Signer
from ledger.audit.merkle import LogProofError, consistency_proof, leaf_hash, root
from ledger.audit.note import (
    Checkpoint,
    NoteError,
    SignedNote,
    cosign,
    note_key_id,
    sign_checkpoint,
)
from ledger.audit.witness import Witness

ORIGIN = "example.test/log"
LEAVES = [leaf_hash(bytes([n])) for n in range(20)]


@pytest.fixture(scope="module")
def log() -> Signer:
    return Signer.generate(ORIGIN, "log")


def head(size: int) -> Checkpoint:
    return Checkpoint(ORIGIN, size, root(LEAVES[:size]))


def test_a_checkpoint_body_is_origin_size_and_root_lines() -> None:
    body = head(3).body()
    assert body == f"{ORIGIN}\n3\n{base64.b64encode(root(LEAVES[:3])).decode()}\n"
    assert Checkpoint.parse(body) == head(3)
    for bad in (body + "ext\n", body.replace("\n3\n", "\n03\n"), body.replace("\n3\n", "\n-3\n")):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def test_the_key_id_follows_the_signed_note_spec(log: Signer) -> None:
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + log.raw_public_key).digest()[:4]
    assert note_key_id(ORIGIN, log.raw_public_key) == expected


def test_a_signed_note_round_trips_and_verifies(log: Signer) -> None:
    note = sign_checkpoint(head(5), log)
    text = note.text()
    assert text.startswith(head(5).body() + "\n\u2014 " + ORIGIN + " ")
    parsed = SignedNote.parse(text)
    assert parsed == note
    parsed.verify_log(ORIGIN, log.raw_public_key)
    forged = SignedNote.parse(text.replace("\n5\n", "\n6\n"))
    with pytest.raises(NoteError, match=r"log signature of .* does not verify"):
        forged.verify_log(ORIGIN, log.raw_public_key)


def test_a_log_key_signs_only_its_own_origin() -> None:
    with pytest.raises(NoteError, match="cannot sign checkpoints of"):
        sign_checkpoint(head(1), Signer.generate("other.test/log", "log"))


def test_a_cosignature_carries_its_time_and_verifies(log: Signer) -> None:
    witness = Signer.generate("witness.test/w1", "witness")
    note = sign_checkpoint(head(5), log)
    cosigned = note.with_signature(cosign(note, witness, 1_700_000_000))
    assert cosigned.cosigned_at(witness.actor, witness.raw_public_key) == 1_700_000_000
    line = cosigned.signatures[-1]
    assert struct.unpack(">Q", line.signature[:8]) == (1_700_000_000,)
    late = line.signature[:7] + b"\x01" + line.signature[8:]
    tampered = note.with_signature(type(line)(line.name, line.key_id, late))
    with pytest.raises(NoteError, match=r"cosignature of witness.test/w1 does not verify"):
        tampered.cosigned_at(witness.actor, witness.raw_public_key)


def test_a_witness_cosigns_only_consistent_growth(log: Signer) -> None:
    witness = Witness(Signer.generate("witness.test/w1", "witness"), log.public)
    witness.cosign(sign_checkpoint(head(7), log), [], 1)
    witness.cosign(sign_checkpoint(head(12), log), consistency_proof(7, LEAVES[:12]), 2)
    with pytest.raises(NoteError, match="smaller than 12: a rollback"):
        witness.cosign(sign_checkpoint(head(9), log), [], 3)
    forked = Checkpoint(ORIGIN, 15, hashlib.sha256(b"fork").digest())
    with pytest.raises(LogProofError):
        witness.cosign(sign_checkpoint(forked, log), consistency_proof(12, LEAVES[:15]), 4)
    assert witness.last == head(12)
