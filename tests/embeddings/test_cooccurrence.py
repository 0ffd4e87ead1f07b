"""Co-occurrence counting: the same X as a dictionary counter, whatever the chunks and the memory limit."""

from __future__ import annotations

import gc
from collections import defaultdict

import numpy as np
import pytest

from seqlab.embeddings.cooccurrence import Cooccurrences, count_cooccurrences, count_encoded_cooccurrences
from seqlab.embeddings.cooccurrence_kernels import radix_sort
from seqlab.embeddings.encoded_corpus import EncodedCorpus, encode_corpus
from seqlab.embeddings.vocabulary import Vocabulary, count_words
from seqlab.errors import SeqlabError


def random_corpus(seed: int, sentences: int = 80, types: int = 100) -> list[list[str]]:
    """Sentences of 0 to 25 words drawn with Zipf-like frequencies, so that some words are rare."""
    rng = np.random.default_rng(seed)
    probabilities = 1.0 / np.arange(1, types + 1)
    probabilities /= probabilities.sum()
    lengths = rng.integers(0, 26, sentences)
    return [[f"w{k}" for k in rng.choice(types, size=n, p=probabilities)] for n in lengths]


def brute_force(sentences: list[list[str]], vocabulary: Vocabulary, window: int) -> dict[tuple[int, int], float]:
    """X by the definition: out-of-vocabulary words removed, then 1/d to X[a, b] and X[b, a] per pair."""
    counts: dict[tuple[int, int], float] = defaultdict(float)
    for sentence in sentences:
        ids = [vocabulary.index[word] for word in sentence if word in vocabulary.index]
        for p, a in enumerate(ids):
            for q in range(p + 1, min(p + window + 1, len(ids))):
                counts[a, ids[q]] += 1.0 / (q - p)
                counts[ids[q], a] += 1.0 / (q - p)
    return counts


def dense(counts: dict[tuple[int, int], float], size: int) -> np.ndarray:
    matrix = np.zeros((size, size))
    for (i, j), value in counts.items():
        matrix[i, j] = value
    return matrix


def vocabulary_of(sentences: list[list[str]], min_count: int) -> Vocabulary:
    return Vocabulary.from_counts(count_words(sentences), min_count=min_count)


@pytest.mark.parametrize("window", [1, 2, 5, 30])
@pytest.mark.parametrize("chunk_tokens", [7, 1_000_000])
def test_equals_a_dictionary_counter(window, chunk_tokens):
    sentences = random_corpus(seed=window)
    vocabulary = vocabulary_of(sentences, min_count=3)
    assert len(vocabulary) < len(count_words(sentences))  # some words are removed
    expected = brute_force(sentences, vocabulary, window)

    counted = count_cooccurrences(sentences, vocabulary, window=window, chunk_tokens=chunk_tokens)

    assert counted.rows.dtype == np.int32 and counted.cols.dtype == np.int32 and counted.values.dtype == np.float64
    assert len(counted) == len(expected) == counted.stats.nonzeros
    assert len(set(zip(counted.rows.tolist(), counted.cols.tolist()))) == len(counted)  # no entry twice
    np.testing.assert_allclose(counted.to_dense(), dense(expected, len(vocabulary)), rtol=1e-12, atol=0)
    assert counted.stats.tokens == sum(word in vocabulary for sentence in sentences for word in sentence)


def cooccur_c(sentences: list[list[str]], vocabulary: Vocabulary, window: int) -> np.ndarray:
    """Dense X built as Stanford's ``cooccur`` builds it (src/cooccur.c, ``symmetric=1``, distance weighting).

    Written from its counting loop rather than from pairs: a line's in-vocabulary words are numbered
    j = 0, 1, ... (an out-of-vocabulary word is skipped and takes no number; a new line starts again at
    0); word w2 at j looks back at the words w1 at k = j - 1 down to max(0, j - window), and each adds
    1 / (j - k) to X[w1][w2] and then, symmetric, to X[w2][w1]: when w1 == w2 that is the same cell twice.
    """
    matrix = np.zeros((len(vocabulary), len(vocabulary)))
    for line in sentences:
        history: list[int] = []  # the in-vocabulary words of the line so far
        for word in line:
            if word not in vocabulary.index:
                continue
            w2, j = vocabulary.index[word], len(history)
            for k in range(j - 1, max(0, j - window) - 1, -1):
                w1 = history[k]
                matrix[w1, w2] += 1.0 / (j - k)
                matrix[w2, w1] += 1.0 / (j - k)
            history.append(w2)
    return matrix


def test_a_word_repeated_within_the_window_counts_in_both_directions_as_cooccur_does():
    vocabulary = Vocabulary(("the", "cat"), np.array([3, 1]))
    sentences = [["the", "cat", "the", "rare", "the"]]
    # the cat the the (rare removed), window 2: the-cat at 1, 1 and 2; the-the at 2 and at 1, each both ways
    expected = [[2 * (1 / 2) + 2 * 1.0, 1.0 + 1.0 + 1 / 2], [1.0 + 1.0 + 1 / 2, 0.0]]
    np.testing.assert_allclose(cooccur_c(sentences, vocabulary, 2), expected, rtol=0, atol=1e-15)

    counted = count_cooccurrences(sentences, vocabulary, window=2)

    np.testing.assert_allclose(counted.to_dense(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("window", [1, 3, 15])
@pytest.mark.parametrize("chunk_tokens", [5, 1_000_000])
def test_equals_the_stanford_counting_loop_on_text_full_of_repeats(window, chunk_tokens):
    sentences = random_corpus(seed=20 + window, sentences=60, types=8)  # eight word types: repeats in every window
    vocabulary = Vocabulary.from_counts(count_words(sentences), min_count=1, max_size=5)  # 3 types removed
    assert 1 < len(vocabulary) < len(count_words(sentences))
    expected = cooccur_c(sentences, vocabulary, window)
    assert (np.diag(expected) > 0).all()

    counted = count_cooccurrences(sentences, vocabulary, window=window, chunk_tokens=chunk_tokens)

    np.testing.assert_allclose(counted.to_dense(), expected, rtol=1e-12, atol=0)
    assert len(counted) == np.count_nonzero(expected)


def test_is_symmetric_and_entries_come_with_their_mirror():
    sentences = random_corpus(seed=7)
    counted = count_cooccurrences(sentences, vocabulary_of(sentences, 2), window=4)
    matrix = counted.to_dense()
    np.testing.assert_array_equal(matrix, matrix.T)
    for k in np.flatnonzero(counted.rows != counted.cols)[::2]:  # off-diagonal entries are (i, j), (j, i) in turn
        assert (counted.rows[k + 1], counted.cols[k + 1]) == (counted.cols[k], counted.rows[k])


def test_a_tiny_memory_limit_spills_runs_and_gives_the_same_bits(tmp_path):
    sentences = random_corpus(seed=3, sentences=200)
    vocabulary = vocabulary_of(sentences, 2)
    in_memory = count_cooccurrences(sentences, vocabulary, window=5, chunk_tokens=50)
    spilled = count_cooccurrences(
        sentences, vocabulary, window=5, chunk_tokens=50, memory_limit_bytes=512, directory=tmp_path
    )

    assert in_memory.stats.spilled_runs == 0
    assert spilled.stats.spilled_runs > 10
    assert isinstance(spilled.values, np.memmap)  # the result was larger than the limit too
    np.testing.assert_array_equal(spilled.rows, in_memory.rows)
    np.testing.assert_array_equal(spilled.cols, in_memory.cols)
    np.testing.assert_array_equal(spilled.values, in_memory.values)

    del spilled
    gc.collect()
    assert list(tmp_path.iterdir()) == []  # spilled runs and the memory-mapped result are removed


def test_windows_stop_at_sentence_ends():
    vocabulary = Vocabulary(("a", "b", "c", "d"), np.ones(4))
    matrix = count_cooccurrences([["a", "b"], ["c", "d"]], vocabulary, window=5).to_dense()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = expected[2, 3] = expected[3, 2] = 1.0
    np.testing.assert_array_equal(matrix, expected)


def test_out_of_vocabulary_words_are_removed_before_counting():
    vocabulary = Vocabulary(("a", "b"), np.ones(2))
    matrix = count_cooccurrences([["a", "rare", "b", "rare", "rare", "a"]], vocabulary, window=2).to_dense()
    # a b a with the rare words gone: a-b at distance 1 twice, a-a at distance 2 counted in both directions
    np.testing.assert_allclose(matrix, [[1.0, 2.0], [2.0, 0.0]], rtol=0, atol=1e-15)


def test_empty_and_one_word_sentences_give_nothing():
    vocabulary = Vocabulary(("a", "b"), np.ones(2))
    counted = count_cooccurrences([[], ["a"], ["rare", "b"], []], vocabulary, window=3)
    assert len(counted) == 0 and counted.stats.nonzeros == 0
    np.testing.assert_array_equal(counted.to_dense(), np.zeros((2, 2)))
    assert count_cooccurrences([], vocabulary).stats.tokens == 0


def test_save_and_load_round_trip(tmp_path):
    sentences = random_corpus(seed=5)
    counted = count_cooccurrences(sentences, vocabulary_of(sentences, 2), window=3)
    counted.save(tmp_path / "x.npz")
    loaded = Cooccurrences.load(tmp_path / "x.npz")
    assert loaded.vocab_size == counted.vocab_size and loaded.stats is None
    for name in ("rows", "cols", "values"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(counted, name))


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", rows=np.zeros(2))
    with pytest.raises(SeqlabError, match="not a co-occurrence matrix"):
        Cooccurrences.load(tmp_path / "other.npz")
    with pytest.raises(SeqlabError, match="not a co-occurrence matrix"):
        Cooccurrences.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "arguments, message",
    [({"window": 0}, "window"), ({"memory_limit_bytes": 0}, "memory_limit_bytes"), ({"chunk_tokens": 0}, "chunk")],
)
def test_bad_arguments_are_rejected(arguments, message):
    with pytest.raises(SeqlabError, match=message):
        count_cooccurrences([["a", "b"]], Vocabulary(("a", "b"), np.ones(2)), **arguments)


def test_radix_sort_is_a_stable_sort():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 3000, 5000)
    values = rng.random(5000)
    order = np.argsort(keys, kind="stable")

    sorted_keys, sorted_values = radix_sort(keys.copy(), values.copy(), 12)

    np.testing.assert_array_equal(sorted_keys, keys[order])
    np.testing.assert_array_equal(sorted_values, values[order])


def test_encoded_chunks_count_like_sentences_and_are_checked():
    sentences = random_corpus(seed=11)
    vocabulary = vocabulary_of(sentences, 2)
    chunks = [encode_corpus(sentences[:40], vocabulary), encode_corpus(sentences[40:], vocabulary)]
    from_chunks = count_encoded_cooccurrences(chunks, len(vocabulary), window=3)
    from_sentences = count_cooccurrences(sentences, vocabulary, window=3)
    np.testing.assert_allclose(from_chunks.to_dense(), from_sentences.to_dense(), rtol=1e-12, atol=0)

    outside = EncodedCorpus(tokens=np.array([0, 5], np.int32), ends=np.array([2]), raw_words=2)
    with pytest.raises(SeqlabError, match="outside 0..2"):
        count_encoded_cooccurrences([outside], 3)
    overrun = EncodedCorpus(tokens=np.array([0, 1], np.int32), ends=np.array([1, 3]), raw_words=3)
    with pytest.raises(SeqlabError, match="sentence ends"):
        count_encoded_cooccurrences([overrun], 3)
