"""RFC 9162 section 2.1: tree hash, inclusion and consistency proofs, and their edge cases."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit.merkle import (
    EMPTY_ROOT,
    LogProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(bytes([i])) for i in range(70)]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 2.1.1, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_a_three_leaf_tree_promotes_the_odd_leaf() -> None:
    a, b, c = LEAVES[:3]
    assert root([a, b, c]) == node_hash(node_hash(a, b), c)


@pytest.mark.parametrize("size", range(0, 70))
def test_the_one_pass_root_equals_the_recursive_definition(size: int) -> None:
    assert root(LEAVES[:size]) == reference_root(LEAVES[:size])


def test_every_inclusion_proof_verifies_and_fails_for_other_leaves() -> None:
    for size in range(1, 40):
        top = root(LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(index, LEAVES[:size])
            verify_inclusion(LEAVES[index], index, size, proof, top)
            with pytest.raises(LogProofError):
                verify_inclusion(LEAVES[index + 1], index, size, proof, top)


def test_every_consistency_proof_verifies() -> None:
    for second in range(1, 40):
        for first in range(1, second + 1):
            proof = consistency_proof(first, LEAVES[:second])
            verify_consistency(first, second, root(LEAVES[:first]), root(LEAVES[:second]), proof)


def test_an_index_out_of_range_is_rejected() -> None:
    proof = inclusion_proof(3, LEAVES[:8])
    with pytest.raises(LogProofError, match="outside a tree of size 8"):
        verify_inclusion(LEAVES[8], 8, 8, proof, root(LEAVES[:8]))
    with pytest.raises(LogProofError, match="outside"):
        verify_inclusion(LEAVES[0], -1, 8, proof, root(LEAVES[:8]))


def test_an_inclusion_proof_of_the_wrong_length_is_rejected() -> None:
    proof = inclusion_proof(5, LEAVES[:13])
    top = root(LEAVES[:13])
    with pytest.raises(LogProofError, match="too short"):
        verify_inclusion(LEAVES[5], 5, 13, proof[:-1], top)
    with pytest.raises(LogProofError, match="too long"):
        verify_inclusion(LEAVES[5], 5, 13, [*proof, proof[0]], top)


def test_an_inclusion_proof_in_a_one_leaf_tree_is_empty() -> None:
    verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    with pytest.raises(LogProofError, match="too long"):
        verify_inclusion(LEAVES[0], 0, 1, [LEAVES[1]], LEAVES[0])


def test_consistency_proofs_from_size_zero_are_rejected() -> None:
    with pytest.raises(LogProofError, match="from size 0"):
        verify_consistency(0, 5, EMPTY_ROOT, root(LEAVES[:5]), [])
    with pytest.raises(LogProofError, match="from size 0"):
        consistency_proof(0, LEAVES[:5])


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    top = root(LEAVES[:6])
    verify_consistency(6, 6, top, top, [])
    with pytest.raises(LogProofError, match="equal sizes must be empty"):
        verify_consistency(6, 6, top, top, [top])
    with pytest.raises(LogProofError, match="two different roots"):
        verify_consistency(6, 6, top, root(LEAVES[:5]), [])


def test_a_consistency_proof_to_a_smaller_tree_or_of_the_wrong_length_is_rejected() -> None:
    proof = consistency_proof(5, LEAVES[:13])
    old, new = root(LEAVES[:5]), root(LEAVES[:13])
    with pytest.raises(LogProofError, match="from size 13 to size 5"):
        verify_consistency(13, 5, new, old, proof)
    with pytest.raises(LogProofError, match=r"too short|does not match"):
        verify_consistency(5, 13, old, new, proof[:-1])
    with pytest.raises(LogProofError, match="too long"):
        verify_consistency(5, 13, old, new, [*proof, proof[0]])
    with pytest.raises(LogProofError, match="empty consistency proof"):
        verify_consistency(5, 13, old, new, [])


@given(st.integers(1, 60), st.data())
def test_a_changed_consistency_path_or_root_is_rejected(second: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(1, second))
    proof = consistency_proof(first, LEAVES[:second])
    old, new = root(LEAVES[:first]), root(LEAVES[:second])
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof]
        changed[position] = hashlib.sha256(changed[position]).digest()
        with pytest.raises(LogProofError):
            verify_consistency(first, second, old, new, changed)
    with pytest.raises(LogProofError):
        verify_consistency(first, second, old, hashlib.sha256(new).digest(), proof)
