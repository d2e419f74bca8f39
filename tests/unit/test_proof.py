"""Retirement proofs (format v1) verify offline, and any single changed field is rejected."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, ProofError, SerialRange, Signer, verify_proof
from ledger.audit.envelope import Envelope
from ledger.audit.trust import TrustRoot

from conftest import checkpointed, issue


@pytest.fixture(scope="module")
def proof(
    tmp_path_factory: pytest.TempPathFactory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("proof")
    with Ledger(folder / "ledger.db", root) as ledger:
        batch = issue(ledger, registry, organiser)
        other = issue(ledger, registry, organiser, 5001, 6000)
        ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="B", reason="first")
        ledger.retire(organiser, other, SerialRange(5001, 5002), beneficiary="B", reason="x")
        cert = ledger.retire(
            organiser,
            batch,
            SerialRange(11, 20),
            event_name="Forum",
            beneficiary="Org",
            reason="neutral",
        )
        checkpointed(ledger, log_signer, witness)
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
    flipped = value.upper() if value != value.upper() else value.lower()
    return [value[:-1] + last, value + "x", "", flipped, value[:-2] + value[-1:] + value[-2:-1]]


def set_at(proof: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(proof)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def test_the_proof_verifies_against_the_trusted_root(
    proof: dict[str, Any], root: TrustRoot
) -> None:
    assert verify_proof(proof, root) is None
    assert verify_proof(json.loads(json.dumps(proof)), root) is None
    assert len(proof["entries"]) == 3
    assert [e["leafIndex"] for e in proof["entries"]] == [1, 3, 5]


def test_every_single_changed_field_is_rejected(proof: dict[str, Any], root: TrustRoot) -> None:
    tried = 0
    for path, value in leaves(proof):
        for changed_value in changes(value):
            if changed_value == value:
                continue
            tried += 1
            with pytest.raises(ProofError):
                verify_proof(set_at(proof, path, changed_value), root)
    assert tried > 300


def test_every_changed_checkpoint_line_is_rejected(proof: dict[str, Any], root: TrustRoot) -> None:
    lines = proof["checkpoint"].split("\n")
    for number, line in enumerate(lines[:-1]):
        if not line:
            continue
        changed = [*lines]
        changed[number] = line[:-1] + ("A" if line[-1] != "A" else "B")
        with pytest.raises(ProofError, match=r"^checkpoint"):
            verify_proof({**proof, "checkpoint": "\n".join(changed)}, root)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("certificate", "quantity"), 11, r"^certificate.quantity: says 11 but the signed events"),
        (("certificate", "eventName"), "Other", r"^certificate.eventName: says 'Other'"),
        (("format",), "v9", r"^format: unknown format"),
        (
            ("entries", 1, "envelope", "signatures", 0, "keyid"),
            "ab" * 32,
            r"^entries\[1\].envelope.signatures\[0\].keyid",
        ),
        (
            ("entries", 2, "envelope", "payload"),
            "e30=",
            r"^entries\[2\].envelope: .*does not verify",
        ),
        (("entries", 1, "leafIndex"), 2, r"^entries\[1\].inclusion: .*does not lead to the root"),
        (("entries", 1, "leafIndex"), 0, r"^entries\[1\].leafIndex: must be an integer above"),
        (("entries", 2, "leafIndex"), 99, r"^entries\[2\].inclusion: leaf index 99 is outside"),
        (("roots", 0, "document", "signed", "threshold"), 1, r"^roots\[0\].document"),
    ],
)
def test_a_rejection_names_the_field_that_fails(
    proof: dict[str, Any], root: TrustRoot, path: tuple[Any, ...], value: Any, named: str
) -> None:
    with pytest.raises(ProofError, match=named):
        verify_proof(set_at(proof, path, value), root)


def test_a_shortened_or_lengthened_inclusion_path_is_rejected(
    proof: dict[str, Any], root: TrustRoot
) -> None:
    path = proof["entries"][0]["inclusion"]
    with pytest.raises(ProofError, match=r"^entries\[0\].inclusion: .*too short"):
        verify_proof(set_at(proof, ("entries", 0, "inclusion"), path[:-1]), root)
    with pytest.raises(ProofError, match=r"^entries\[0\].inclusion: .*too long"):
        verify_proof(set_at(proof, ("entries", 0, "inclusion"), [*path, path[0]]), root)


def test_a_removed_or_reordered_entry_breaks_the_proof(
    proof: dict[str, Any], root: TrustRoot
) -> None:
    removed = copy.deepcopy(proof)
    del removed["entries"][1]
    with pytest.raises(ProofError, match=r"^entries\[1\].envelope: follows version 1"):
        verify_proof(removed, root)
    swapped = copy.deepcopy(proof)
    swapped["entries"][1], swapped["entries"][2] = swapped["entries"][2], swapped["entries"][1]
    with pytest.raises(ProofError, match=r"^entries\[2\].leafIndex: must be an integer above"):
        verify_proof(swapped, root)


def test_an_extra_or_missing_field_is_rejected(proof: dict[str, Any], root: TrustRoot) -> None:
    with pytest.raises(ProofError, match=r"^\(top level\)"):
        verify_proof({**proof, "note": "trust me"}, root)
    changed = copy.deepcopy(proof)
    del changed["certificate"]["reason"]
    with pytest.raises(ProofError, match=r"^certificate.reason: is missing"):
        verify_proof(changed, root)


def test_a_proof_from_another_trust_root_is_rejected(
    proof: dict[str, Any], operators: tuple[Signer, Signer]
) -> None:
    other = TrustRoot.from_json(proof["roots"][0]["document"])
    stranger_root = TrustRoot.create(
        version=1, origin=other.origin, issued_at=other.issued_at, threshold=2, keys=other.keys
    ).signed_by(*operators)
    with pytest.raises(
        ProofError,
        match=r"^roots\[0\].document: trust root version 1 in the log is not the trusted",
    ):
        verify_proof(proof, stranger_root)


def test_a_checkpoint_without_the_required_cosignature_is_rejected(
    proof: dict[str, Any], root: TrustRoot
) -> None:
    note = proof["checkpoint"]
    without_witness = note[: note.rindex("\u2014 witness")]
    with pytest.raises(ProofError, match=r"^checkpoint: 0 witness cosignatures; the root needs 1"):
        verify_proof({**proof, "checkpoint": without_witness}, root)


def test_an_entry_re_signed_by_a_key_of_the_wrong_role_is_rejected(
    proof: dict[str, Any], root: TrustRoot, log_signer: Signer
) -> None:
    changed = copy.deepcopy(proof)
    original = Envelope.from_json(changed["entries"][0]["envelope"])
    changed["entries"][0]["envelope"] = Envelope.seal(
        original.payload_type, original.payload, log_signer
    ).to_json()
    with pytest.raises(ProofError, match=r"^entries\[0\].envelope"):
        verify_proof(changed, root)


@pytest.fixture(scope="module")
def event_proof(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], TrustRoot]:
    from ledger.cli.demo import run_demo

    result = run_demo(tmp_path_factory.mktemp("demo") / "d")
    proof = json.loads(result.proof_path.read_text())
    return proof, TrustRoot.from_json(json.loads(result.root_path.read_text()))


def test_an_event_retirement_proof_carries_the_events_signed_confirmation(
    event_proof: tuple[dict[str, Any], TrustRoot],
) -> None:
    proof, root = event_proof
    assert verify_proof(proof, root) is None
    kinds = [e["envelope"]["payloadType"] for e in proof["event"]["entries"]]
    assert kinds[0].endswith("event.registered.v1+json")
    assert kinds[-1].endswith("event.confirmed.v1+json")
    with pytest.raises(ProofError, match=r"^event: the retirement names .* record is missing"):
        verify_proof({**proof, "event": None}, root)
    changed = copy.deepcopy(proof)
    del changed["event"]["entries"][-1]
    assert verify_proof(changed, root) is None  # an earlier view of the event: not confirmed yet
    retired = [i for i, k in enumerate(kinds) if k.endswith("offset-retired.v1+json")]
    cut = copy.deepcopy(proof)
    cut["event"]["entries"] = cut["event"]["entries"][: retired[0]]
    with pytest.raises(ProofError, match=r"^event: the event's signed retirements do not include"):
        verify_proof(cut, root)


def test_every_single_changed_field_of_the_event_part_is_rejected(
    event_proof: tuple[dict[str, Any], TrustRoot],
) -> None:
    proof, root = event_proof
    tried = 0
    for path, value in leaves(proof["event"], ("event",)):
        for changed_value in changes(value)[:2]:
            tried += 1
            with pytest.raises(ProofError, match=r"^event"):
                verify_proof(set_at(proof, path, changed_value), root)
    assert tried > 100


def nodes(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from nodes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nodes(value, (*path, index))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_node_replaced_by_any_json_is_rejected_with_a_proof_error_only(
    proof: dict[str, Any], root: TrustRoot, data: st.DataObject
) -> None:
    paths = [p for p in nodes(proof) if p]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(JSON_VALUES)
    changed = set_at(proof, path, value)
    if changed == proof:
        return
    with pytest.raises(ProofError):
        verify_proof(changed, root)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_node_of_an_event_proof_replaced_by_any_json_is_rejected(
    event_proof: tuple[dict[str, Any], TrustRoot], data: st.DataObject
) -> None:
    proof, root = event_proof
    path = data.draw(st.sampled_from([p for p in nodes(proof) if p]))
    changed = set_at(proof, path, data.draw(JSON_VALUES))
    if changed == proof:
        return
    with pytest.raises(ProofError):
        verify_proof(changed, root)
