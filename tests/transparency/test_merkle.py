"""RFC 9162 tree heads and proofs. The expected roots come from pymerkle, an independent implementation of
the same hashing; proofs are checked by the RFC's verification algorithms and must fail when tampered."""

from __future__ import annotations

import pytest
from pymerkle import InmemoryTree

from civicshield.transparency.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_head,
    verify_consistency,
    verify_inclusion,
)

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33]


def _entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


@pytest.mark.parametrize("n", SIZES)
def test_tree_heads_equal_pymerkles(n: int) -> None:
    tree = InmemoryTree(algorithm="sha256")
    for entry in _entries(n):
        tree.append_entry(entry)
    assert tree_head([leaf_hash(e) for e in _entries(n)]) == tree.get_root()


def test_the_empty_tree_head_is_the_hash_of_nothing() -> None:
    assert tree_head([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", SIZES)
def test_every_inclusion_proof_verifies_and_a_wrong_leaf_or_index_does_not(n: int) -> None:
    leaves = [leaf_hash(e) for e in _entries(n)]
    root = tree_head(leaves)
    for i in range(n):
        proof = inclusion_proof(i, leaves)
        assert verify_inclusion(leaves[i], i, n, proof, root)
        assert not verify_inclusion(leaf_hash(b"forged"), i, n, proof, root)
        if n > 1:
            assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, root)
    assert not verify_inclusion(leaves[0], n, n, [], root)


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof_verifies_and_a_rewritten_prefix_does_not(n: int) -> None:
    leaves = [leaf_hash(e) for e in _entries(n)]
    for m in range(1, n + 1):
        proof = consistency_proof(m, leaves)
        assert verify_consistency(m, n, proof, tree_head(leaves[:m]), tree_head(leaves))
        if m < n:
            rewritten = [leaf_hash(b"rewritten"), *leaves[1:m]]
            assert not verify_consistency(m, n, proof, tree_head(rewritten), tree_head(leaves))
