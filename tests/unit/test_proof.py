"""Retirement proofs verify offline, and any single changed field is rejected (SPEC 5)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import KeyDirectory, Ledger, ProofError, SerialRange, Signer, verify_proof

from conftest import issue


@pytest.fixture(scope="module")
def proof(
    tmp_path_factory: pytest.TempPathFactory,
    keys: KeyDirectory,
    registry: Signer,
    organiser: Signer,
) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("proof")
    with Ledger(folder / "ledger.db", keys) as ledger:
        batch = issue(ledger, registry, organiser)
        ledger.retire(
            organiser, batch, SerialRange(1, 10), event_name="A", beneficiary="B", reason="first"
        )
        cert = ledger.retire(
            organiser,
            batch,
            SerialRange(11, 20),
            event_name="Forum",
            beneficiary="Org",
            reason="neutral",
        )
        return ledger.proof(batch, cert.retirement_version)


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


def changes(value: Any) -> list[Any]:
    if isinstance(value, bool) or value is None:
        return [not value, "x"]
    if isinstance(value, int):
        return [value + 1, value - 1, str(value)]
    last = "A" if value[-1:] != "A" else "B"
    return [
        value[:-1] + last,
        value + "x",
        "",
        value.upper() if value != value.upper() else value.lower(),
    ]


def set_at(proof: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(proof)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def test_the_proof_verifies_with_and_without_pinned_keys(
    proof: dict[str, Any], keys: KeyDirectory
) -> None:
    assert verify_proof(proof) is None
    assert verify_proof(json.loads(json.dumps(proof)), keys) is None


def test_every_single_changed_field_is_rejected(proof: dict[str, Any]) -> None:
    tried = 0
    for path, value in leaves(proof):
        for changed_value in changes(value):
            if changed_value == value:
                continue
            tried += 1
            with pytest.raises(ProofError):
                verify_proof(set_at(proof, path, changed_value))
    assert tried > 100


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (
            ("certificate", "quantity"),
            11,
            r"^certificate.quantity: says 11 but the signed events say 10",
        ),
        (("certificate", "eventName"), "Other", r"^certificate.eventName: says 'Other'"),
        (("format",), "v9", r"^format: unknown format"),
        (("keys", 0, "publicKey"), "A" * 44, r"^keys\[0\]: "),
        (
            ("entries", 1, "signatures", 0, "keyid"),
            "ab" * 32,
            r"^entries\[1\].signatures\[0\].keyid",
        ),
        (("entries", 2, "payload"), "e30=", r"^entries\[2\]: .*does not verify"),
    ],
)
def test_a_rejection_names_the_field_that_fails(
    proof: dict[str, Any], path: tuple[Any, ...], value: Any, named: str
) -> None:
    with pytest.raises(ProofError, match=named):
        verify_proof(set_at(proof, path, value))


def test_a_removed_entry_breaks_the_proof(proof: dict[str, Any]) -> None:
    changed = copy.deepcopy(proof)
    del changed["entries"][1]
    with pytest.raises(ProofError, match=r"^entries\[1\]: follows version 1: version 2 is missing"):
        verify_proof(changed)


def test_reordered_entries_break_the_proof(proof: dict[str, Any]) -> None:
    changed = copy.deepcopy(proof)
    changed["entries"][1], changed["entries"][2] = changed["entries"][2], changed["entries"][1]
    with pytest.raises(ProofError, match=r"^entries\[1\]: follows version 1: version 2 is missing"):
        verify_proof(changed)


def test_an_extra_or_missing_field_is_rejected(proof: dict[str, Any]) -> None:
    with pytest.raises(ProofError, match=r"^\(top level\)"):
        verify_proof({**proof, "note": "trust me"})
    changed = copy.deepcopy(proof)
    del changed["certificate"]["reason"]
    with pytest.raises(ProofError, match=r"^certificate.reason: is missing"):
        verify_proof(changed)


def test_keys_not_in_the_trusted_file_are_rejected(proof: dict[str, Any]) -> None:
    other = KeyDirectory([Signer.generate("x", "account").public])
    with pytest.raises(ProofError, match=r"^keys\[0\]: key of .* is not in the trusted keys"):
        verify_proof(proof, other)


def test_a_proof_forged_with_a_wrong_role_key_is_rejected(proof: dict[str, Any]) -> None:
    forger = Signer.generate("shandong-carbon-inclusion-platform", "account")
    changed = copy.deepcopy(proof)
    from ledger.audit.envelope import Envelope

    original = Envelope.from_json(changed["entries"][0])
    changed["entries"][0] = Envelope.seal(original.payload_type, original.payload, forger).to_json()
    changed["keys"][0] = forger.public.to_json()
    with pytest.raises(ProofError, match=r"needs a 'registry' key"):
        verify_proof(changed)
