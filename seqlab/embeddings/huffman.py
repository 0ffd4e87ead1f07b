"""Huffman coding of a vocabulary for hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013).

Every word is a leaf of a binary tree built from its counts, so frequent words get short paths.
Predicting a word becomes one logistic regression per inner node on its path: "go to the child
with bit 1?". Inner nodes are numbered 0 .. V-2 in the order they are created, so the root is
V-2; these numbers are the rows of the output matrix used by hierarchical softmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError


@dataclass(frozen=True)
class HuffmanCode:
    """Attributes:
    codes: (V, L) uint8, bit ``k`` of each word's code from the root down (0 or 1), zero-padded.
    points: (V, L) int32, the inner node met at step ``k`` of the path (root first), zero-padded.
    lengths: (V,) int32, the length of each word's code (the depth of its leaf).
    """

    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray

    @property
    def inner_nodes(self) -> int:
        """V - 1, the number of output vectors hierarchical softmax trains."""
        return max(len(self.lengths) - 1, 1)


def build_huffman_code(counts: np.ndarray) -> HuffmanCode:
    """The Huffman code of words with the given counts.

    Uses the two-queue construction (linear time on counts sorted in descending order, as a
    vocabulary is): leaves are taken from the rare end, new inner nodes queue up in creation
    order, and each step joins the two lightest nodes. The lighter child gets bit 0 and the
    heavier bit 1, the convention of word2vec.c. A single word gets the one-bit code ``0``.

    Args:
        counts: (V,) positive word counts, in any order.

    Raises:
        SeqlabError: no words, or a count that is not positive.
    """
    counts = np.asarray(counts, dtype=np.int64)
    vocab_size = len(counts)
    if vocab_size == 0:
        raise SeqlabError("cannot build a Huffman code for an empty vocabulary")
    if (counts <= 0).any():
        raise SeqlabError(f"word counts must be positive, found {int(counts.min())}")
    if vocab_size == 1:
        return HuffmanCode(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.ones(1, np.int32))
    parent, bit = _build_tree(counts)
    return _read_codes(parent, bit, vocab_size)


def _build_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent and branch bit of every node: leaves are 0..V-1, inner node ``k`` is ``V + k``."""
    vocab_size = len(counts)
    leaves = np.argsort(counts, kind="stable")  # ascending: the lightest leaf first
    weight = np.concatenate([counts, np.zeros(vocab_size - 1, np.int64)])
    parent = np.zeros(2 * vocab_size - 1, np.int64)
    bit = np.zeros(2 * vocab_size - 1, np.uint8)
    next_leaf, next_inner = 0, vocab_size

    def pop_lightest(new_node: int) -> int:
        nonlocal next_leaf, next_inner
        leaf_left = next_leaf < vocab_size
        inner_left = next_inner < new_node
        if leaf_left and (not inner_left or weight[leaves[next_leaf]] <= weight[next_inner]):
            next_leaf += 1
            return int(leaves[next_leaf - 1])
        next_inner += 1
        return next_inner - 1

    for new_node in range(vocab_size, 2 * vocab_size - 1):
        lighter = pop_lightest(new_node)
        heavier = pop_lightest(new_node)
        weight[new_node] = weight[lighter] + weight[heavier]
        parent[lighter] = parent[heavier] = new_node
        bit[heavier] = 1
    return parent, bit


def _read_codes(parent: np.ndarray, bit: np.ndarray, vocab_size: int) -> HuffmanCode:
    """Walk from each leaf to the root, then store the path root-first."""
    root = 2 * vocab_size - 2
    paths: list[tuple[list[int], list[int]]] = []
    for word in range(vocab_size):
        bits, nodes = [], []
        node = word
        while node != root:
            bits.append(int(bit[node]))
            node = int(parent[node])
            nodes.append(node - vocab_size)
        paths.append((bits[::-1], nodes[::-1]))
    depth = max(len(bits) for bits, _ in paths)
    codes = np.zeros((vocab_size, depth), np.uint8)
    points = np.zeros((vocab_size, depth), np.int32)
    lengths = np.zeros(vocab_size, np.int32)
    for word, (bits, nodes) in enumerate(paths):
        codes[word, : len(bits)] = bits
        points[word, : len(nodes)] = nodes
        lengths[word] = len(bits)
    return HuffmanCode(codes, points, lengths)
