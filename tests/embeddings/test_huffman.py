"""The Huffman code behind hierarchical softmax: a prefix code of minimal expected length."""

import heapq
import itertools

import numpy as np
import pytest

from seqlab.embeddings.huffman import build_huffman_code
from seqlab.errors import SeqlabError


def code_words(code):
    return ["".join(map(str, code.codes[w, : code.lengths[w]])) for w in range(len(code.lengths))]


def optimal_cost(counts):
    """Σ count × depth of an optimal prefix code: the sum of all merged weights (Huffman's theorem)."""
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


COUNT_CASES = [[5, 3, 2, 1, 1], [10, 10, 10, 10], [100, 1], [40, 30, 20, 5, 3, 1, 1], list(range(60, 0, -1))]


@pytest.mark.parametrize("counts", COUNT_CASES)
def test_the_codes_form_a_complete_prefix_code(counts):
    words = code_words(build_huffman_code(np.array(counts)))
    for a, b in itertools.permutations(words, 2):
        assert not b.startswith(a), f"{a} is a prefix of {b}"
    assert sum(2.0 ** -len(w) for w in words) == pytest.approx(1.0)  # Kraft equality: a full binary tree


@pytest.mark.parametrize("counts", COUNT_CASES)
def test_the_expected_code_length_is_optimal(counts):
    code = build_huffman_code(np.array(counts))
    assert int(np.dot(counts, code.lengths)) == optimal_cost(counts)


def test_the_expected_length_is_optimal_against_every_tree_on_a_small_case():
    counts = [7, 5, 4, 2, 1]
    code = build_huffman_code(np.array(counts))

    def all_depth_profiles(n):
        """Depths of the leaves of every full binary tree with n leaves (in leaf order)."""
        if n == 1:
            yield (0,)
            return
        for left in range(1, n):
            for a in all_depth_profiles(left):
                for b in all_depth_profiles(n - left):
                    yield tuple(d + 1 for d in a + b)

    best = min(
        sum(c * d for c, d in zip(counts, order))
        for profile in all_depth_profiles(len(counts))
        for order in itertools.permutations(profile)
    )
    assert int(np.dot(counts, code.lengths)) == best


def test_a_more_frequent_word_never_has_a_longer_code():
    counts = np.array([50, 40, 33, 20, 20, 9, 5, 5, 2, 1])
    lengths = build_huffman_code(counts).lengths
    assert all(
        lengths[i] <= lengths[j] for i in range(len(counts)) for j in range(len(counts)) if counts[i] > counts[j]
    )


def test_points_name_the_inner_nodes_along_each_path_root_first():
    counts = np.array([9, 7, 5, 4, 3, 2, 1])
    code = build_huffman_code(counts)
    vocab_size = len(counts)
    node_of_prefix = {}
    for word in range(vocab_size):
        assert code.points[word, 0] == vocab_size - 2  # the root is the last inner node made
        for depth in range(code.lengths[word]):
            prefix = tuple(code.codes[word, :depth])
            node = int(code.points[word, depth])
            assert 0 <= node < vocab_size - 1
            assert node_of_prefix.setdefault(prefix, node) == node  # one node per prefix
    assert len(set(node_of_prefix.values())) == vocab_size - 1  # and one prefix per node


def test_a_single_word_gets_a_one_bit_code():
    code = build_huffman_code(np.array([3]))
    assert code.lengths.tolist() == [1] and code.points.tolist() == [[0]] and code.inner_nodes == 1


@pytest.mark.parametrize("counts", [[], [3, 0, 1]])
def test_bad_counts_are_refused(counts):
    with pytest.raises(SeqlabError):
        build_huffman_code(np.array(counts, dtype=np.int64))
