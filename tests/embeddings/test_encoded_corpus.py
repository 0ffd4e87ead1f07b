"""Text as index arrays: encoding with a vocabulary, and counting and encoding in one pass."""

import numpy as np
import pytest

from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.encoded_corpus import count_and_encode, encode_corpus
from seqlab.embeddings.vocabulary import Vocabulary, count_words


@pytest.fixture
def text_file(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    lines = [" ".join(rng.choice(words, size=rng.integers(0, 15), p=None)) for _ in range(200)]
    lines[5] = ""  # an empty line
    lines[7] = "rare1 rare2"  # a line of words that will all fall below min_count
    lines[9] = " ".join(["w1"] * 25)  # longer than max_sentence_length below: cut into pieces
    path = tmp_path / "text.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_encoding_keeps_vocabulary_words_and_sentence_boundaries():
    vocabulary = Vocabulary(("a", "b"), np.array([3, 2]))
    corpus = encode_corpus([["a", "x", "b"], ["x"], ["b", "a", "a"]], vocabulary)
    assert corpus.tokens.tolist() == [0, 1, 1, 0, 0]
    assert corpus.ends.tolist() == [2, 2, 5]  # the all-unknown sentence stays, empty
    assert corpus.raw_words == 7


@pytest.mark.parametrize("min_count", [1, 3, 6])
def test_one_pass_equals_counting_then_encoding(text_file, min_count):
    sentences = lambda: read_sentences(text_file, max_sentence_length=10)  # noqa: E731
    counts = count_words(sentences())
    vocabulary = Vocabulary.from_counts(counts, min_count=min_count)
    expected = encode_corpus(sentences(), vocabulary)

    text = count_and_encode(sentences())
    assert list(text.word_counts().items()) == list(counts.items())  # same counts, same first-seen order
    same = Vocabulary.from_counts(text.word_counts(), min_count=min_count)
    assert same.words == vocabulary.words and np.array_equal(same.counts, vocabulary.counts)
    corpus = text.encoded_with(vocabulary)
    np.testing.assert_array_equal(corpus.tokens, expected.tokens)
    np.testing.assert_array_equal(corpus.ends, expected.ends)
    assert corpus.raw_words == expected.raw_words


def test_a_grown_vocabulary_encodes_new_text_with_old_and_new_words():
    old = Vocabulary(("a", "b"), np.array([5, 4]))
    text = count_and_encode([["c", "a", "c", "d"], ["c"]])
    grown = old.extended(text.word_counts(), min_count=2)
    assert grown.words == ("a", "b", "c")
    assert text.encoded_with(grown).tokens.tolist() == [2, 0, 2, 2]
