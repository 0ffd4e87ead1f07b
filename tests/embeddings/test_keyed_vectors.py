"""Similarity search on KeyedVectors: the same words and scores as gensim 4.4 on the same vectors."""

from __future__ import annotations

import gensim.models.keyedvectors as gensim_keyedvectors
import numpy as np
import pytest

from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")  # gensim's cosmul

WORDS = 400
DIMS = 16


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(0).standard_normal((WORDS, DIMS)).astype(np.float32)


@pytest.fixture(scope="module")
def kv(vectors):
    return KeyedVectors([f"w{i}" for i in range(WORDS)], vectors)


@pytest.fixture(scope="module")
def gensim_kv(kv):
    model = gensim_keyedvectors.KeyedVectors(DIMS)
    model.add_vectors(kv.index_to_key, kv.vectors)
    return model


def assert_same_ranking(ours, theirs):
    """Same words in the same order; float32 scores agree to rounding."""
    assert [word for word, _ in ours] == [word for word, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=0, atol=1e-6)


QUERIES = [
    {"positive": ["w1"]},
    {"positive": "w7"},
    {"positive": ["w1", "w2"], "negative": ["w3"]},
    {"negative": ["w5"]},
    {"positive": ["w10", "w11", "w12"], "negative": ["w13", "w14"], "topn": 25},
    {"positive": ["w1", "w300"], "negative": ["w3"], "restrict_vocab": 100},
    {"positive": ["w2"], "topn": 1000},
]


@pytest.mark.parametrize("query", QUERIES)
def test_most_similar_matches_gensim(kv, gensim_kv, query):
    assert_same_ranking(kv.most_similar(**query), gensim_kv.most_similar(**query))


@pytest.mark.parametrize("query", [q for q in QUERIES if "positive" in q and "restrict_vocab" not in q])
def test_most_similar_cosmul_matches_gensim(kv, gensim_kv, query):
    assert_same_ranking(kv.most_similar_cosmul(**query), gensim_kv.most_similar_cosmul(**query))


def test_a_raw_vector_can_stand_among_the_positive_words(kv, gensim_kv, vectors):
    query = {"positive": [3 * vectors[3], "w4"], "negative": ["w9"]}
    assert_same_ranking(kv.most_similar(**query), gensim_kv.most_similar(**query))
    assert_same_ranking(kv.most_similar_cosmul(**query), gensim_kv.most_similar_cosmul(**query))
    # a raw vector is not an input word, so its own nearest word may be returned
    assert kv.most_similar(vectors[3], topn=1)[0][0] == "w3"


def test_cosmul_with_restricted_vocabulary_searches_only_the_first_words(kv, vectors):
    """gensim ignores restrict_vocab here; we search the first N rows, by Levy & Goldberg's formula."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    shifted = (1 + unit[:50] @ unit[[1, 2, 3]].T) / 2  # (50, 3) shifted cosines with w1, w2, w3
    scores = shifted[:, 0] * shifted[:, 1] / (shifted[:, 2] + 1e-6)
    scores[[1, 2, 3]] = -np.inf
    expected = [f"w{i}" for i in np.argsort(-scores)[:10]]

    result = kv.most_similar_cosmul(["w1", "w2"], ["w3"], restrict_vocab=50)

    assert [word for word, _ in result] == expected
    np.testing.assert_allclose([s for _, s in result], np.sort(scores)[::-1][:10], rtol=1e-5)


def test_similarity_is_the_cosine_as_in_gensim(kv, gensim_kv):
    for a, b in [("w1", "w2"), ("w0", "w399"), ("w5", "w5")]:
        assert kv.similarity(a, b) == pytest.approx(float(gensim_kv.similarity(a, b)), abs=1e-6)
    assert kv.similarity("w5", "w5") == pytest.approx(1.0, abs=1e-6)


def test_analogy_solves_king_minus_man_plus_woman():
    keys = ["man", "woman", "king", "queen", "apple"]
    royal, female = np.array([0, 0, 1.0]), np.array([0, 1.0, 0])
    person = np.array([1.0, 0, 0])
    kv = KeyedVectors(keys, np.array([person, person + female, person + royal, person + royal + female, -female]))
    for method in ("add", "mul"):
        assert kv.analogy("man", "king", "woman", method=method)[0][0] == "queen"
        assert [w for w, _ in kv.analogy("man", "king", "woman", method=method, topn=5)] == ["queen", "apple"]
    assert kv.analogy("man", "king", "woman", topn=2) == kv.most_similar(["king", "woman"], ["man"], topn=2)
    assert kv.analogy("man", "king", "woman", method="mul", topn=2) == kv.most_similar_cosmul(
        ["king", "woman"], ["man"], topn=2
    )


def test_input_words_are_never_returned_and_topn_caps_at_the_rest(kv):
    result = kv.most_similar(["w1", "w2"], ["w3"], topn=WORDS)
    assert len(result) == WORDS - 3
    assert not {"w1", "w2", "w3"} & {word for word, _ in result}
    assert kv.most_similar("w1", topn=0) == []
    assert len(kv.most_similar("w1", restrict_vocab=10, topn=100)) == 9


def test_equal_scores_keep_vocabulary_order():
    kv = KeyedVectors(["query", "b", "a", "c", "d"], np.array([[1, 0], [1, 1], [1, 1], [0, 1], [1, 1]]))
    assert [word for word, _ in kv.most_similar("query", topn=3)] == ["b", "a", "d"]
    assert [word for word, _ in kv.most_similar_cosmul("query", topn=3)] == ["b", "a", "d"]


def test_bad_queries_are_refused_by_name(kv):
    with pytest.raises(SeqlabError, match="word 'unicorn' is not in the vocabulary"):
        kv.most_similar(["w1", "unicorn"])
    with pytest.raises(SeqlabError, match="'unicorn'"):
        kv.most_similar_cosmul(["w1"], ["unicorn"])
    with pytest.raises(SeqlabError, match="'unicorn'"):
        kv.similarity("unicorn", "w1")
    with pytest.raises(SeqlabError, match="'unicorn'"):
        kv.analogy("w1", "w2", "unicorn")
    with pytest.raises(SeqlabError, match="at least one"):
        kv.most_similar()
    with pytest.raises(SeqlabError, match="at least one positive word"):
        kv.most_similar_cosmul(negative=["w1"])
    with pytest.raises(SeqlabError, match="unknown analogy method 'sub'"):
        kv.analogy("w1", "w2", "w3", method="sub")
    with pytest.raises(SeqlabError, match="restrict_vocab must be a positive number"):
        kv.most_similar("w1", restrict_vocab=0)
    with pytest.raises(SeqlabError, match=r"a query item must be a word or a \(16,\) vector"):
        kv.most_similar(np.zeros(3))
    with pytest.raises(SeqlabError, match=r"a query item must be a word or a \(16,\) vector, got \('w1', 0.5\)"):
        kv.most_similar([("w1", 0.5)])
