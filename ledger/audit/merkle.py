"""RFC 9162 section 2.1 Merkle trees: tree hash, inclusion and consistency proofs.

Rules (RFC 9162, "Certificate Transparency Version 2.0", section 2.1):
- Leaf hash ``SHA-256(0x00 || leaf)``; node hash ``SHA-256(0x01 || left || right)``; the empty
  tree's hash is ``SHA-256("")``. A tree of n > 1 leaves splits at k, the largest power of two
  smaller than n; odd nodes are promoted, never duplicated (2.1.1).
- Proofs are built from the recursive definitions PATH (2.1.3.1) and SUBPROOF (2.1.4.1) and
  verified with the iterative algorithms of 2.1.3.2 and 2.1.4.2, which reject: an index out of
  range, proofs from size 0 or to a smaller size, a non-empty proof between equal sizes, and
  paths of the wrong length (the size counter must reach 0 exactly when the path ends).
- Verifiers take the leaf's *data* or a hash they computed themselves, never a supplied hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ledger.errors import LogProofError

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "LogProofError",
    "Subtree",
    "consistency_path",
    "consistency_proof",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "over",
    "root",
    "roots_at",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of a list of *leaf hashes* (2.1.1), in one pass."""
    return roots_at(leaves, [len(leaves)])[len(leaves)]


def roots_at(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The tree hashes of the first ``size`` leaves for every size asked, in one pass."""
    wanted = sorted(set(sizes))
    if wanted and not 0 <= wanted[0] <= wanted[-1] <= len(leaves):
        raise LogProofError(f"tree sizes {wanted} are outside 0..{len(leaves)}")
    frontier = Frontier(wanted)
    for hashed in leaves[: wanted[-1] if wanted else 0]:
        frontier.add(hashed)
    return frontier.roots


class Frontier:
    """The complete subtrees of the leaves added so far, and the tree hash at asked sizes.

    It keeps at most log2 n (size, hash) pairs; the tree hash at a size folds them right to
    left, as RFC 9162 2.1.1's split at powers of two does. ``roots`` holds the tree hash at each
    size in ``sizes`` that was reached.
    """

    def __init__(self, sizes: Iterable[int] = ()) -> None:
        self.sizes = set(sizes)
        self.count = 0
        self.stack: list[tuple[int, bytes]] = []
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT} if 0 in self.sizes else {}

    def add(self, hashed: bytes) -> None:
        """Add the next leaf hash."""
        stack = self.stack
        stack.append((1, hashed))
        self.count += 1
        count = self.count
        while count % 2 == 0:
            (size, right), (_, left) = stack.pop(), stack.pop()
            stack.append((size * 2, node_hash(left, right)))
            count //= 2
        if self.count in self.sizes:
            self.roots[self.count] = self.root()

    def root(self) -> bytes:
        """The tree hash of every leaf added so far."""
        if not self.stack:
            return EMPTY_ROOT
        result = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            result = node_hash(left, result)
        return result


#: ``subtree(start, end)``: the tree hash of leaves ``start .. end - 1`` (RFC 9162 MTH).
Subtree = Callable[[int, int], bytes]


def over(leaves: Sequence[bytes]) -> Subtree:
    """The subtree hashes of a list of leaf hashes held in memory."""
    return lambda start, end: root(leaves[start:end])


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, leaves) of RFC 9162 2.1.3.1, over leaf hashes."""
    return inclusion_path(index, len(leaves), over(leaves))


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 2.1.3.1, reading subtree hashes from ``subtree``.

    Every left part PATH recurses into is a complete, aligned subtree, so a store that keeps
    those nodes answers each in one read: O(log n) reads, plus O(log n) more for each ragged
    right edge.
    """
    if not 0 <= index < size:
        raise LogProofError(f"leaf index {index} is outside a tree of size {size}")
    return _path(index, 0, size, subtree)


def _path(m: int, start: int, n: int, subtree: Subtree) -> list[bytes]:
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, start, k, subtree), subtree(start + k, start + n)]
    return [*_path(m - k, start + k, n - k, subtree), subtree(start, start + k)]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(first, leaves) of RFC 9162 2.1.4.1, over leaf hashes (0 < first <= n)."""
    return consistency_path(first, len(leaves), over(leaves))


def consistency_path(first: int, size: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[0:size]) of RFC 9162 2.1.4.1, reading subtree hashes from ``subtree``."""
    if not 0 < first <= size:
        raise LogProofError(f"no consistency proof from size {first} to size {size}")
    return _subproof(first, 0, size, True, subtree)


def _subproof(m: int, start: int, n: int, complete: bool, subtree: Subtree) -> list[bytes]:
    if m == n:
        return [] if complete else [subtree(start, start + n)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, start, k, complete, subtree), subtree(start + k, start + n)]
    return [*_subproof(m - k, start + k, n - k, False, subtree), subtree(start, start + k)]


def verify_inclusion(
    hashed_leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Return None if ``proof`` shows the leaf at ``index`` in the tree (2.1.3.2), else raise."""
    if not 0 <= index < size:
        raise LogProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, hashed_leaf
    for p in proof:
        if sn == 0:
            raise LogProofError(f"inclusion proof is too long for index {index} of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise LogProofError(f"inclusion proof is too short for index {index} of size {size}")
    if r != expected_root:
        raise LogProofError(f"inclusion proof of index {index} does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Return None if ``proof`` shows tree ``second`` extends tree ``first`` (2.1.4.2)."""
    if first <= 0 or second < first:
        raise LogProofError(f"no consistency proof from size {first} to size {second}")
    if first == second:
        if proof:
            raise LogProofError("a consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise LogProofError(f"two different roots for the same size {first}")
        return
    if not proof:
        raise LogProofError(f"empty consistency proof from size {first} to size {second}")
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LogProofError(f"consistency proof from {first} to {second} is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise LogProofError(f"consistency proof from {first} to {second} is too short")
    if fr != first_root or sr != second_root:
        raise LogProofError(f"consistency proof from {first} to {second} does not match the roots")
