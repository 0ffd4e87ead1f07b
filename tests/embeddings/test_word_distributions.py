"""Subsampling probabilities and the noise distribution, against gensim's own tables."""

import numpy as np
import pytest

from seqlab.embeddings.sampling import build_alias_table, keep_probabilities, noise_distribution
from seqlab.embeddings.word2vec_kernels import draw_noise_words


@pytest.fixture(scope="module")
def zipf_counts():
    return (50_000 / np.arange(1, 301) ** 1.1).astype(np.int64) + 1


def gensim_vocabulary(counts, sample, ns_exponent=0.75):
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=4, min_count=1, sample=sample, ns_exponent=ns_exponent, negative=5)
    model.build_vocab_from_freq({f"w{i}": int(c) for i, c in enumerate(counts)})
    order = [model.wv.key_to_index[f"w{i}"] for i in range(len(counts))]
    return model, order


def test_keep_probabilities_equal_gensims(zipf_counts):
    model, order = gensim_vocabulary(zipf_counts, sample=1e-3)
    gensim_keep = np.array([model.wv.get_vecattr(i, "sample_int") for i in order]) / 2.0**32
    np.testing.assert_allclose(keep_probabilities(zipf_counts, 1e-3), gensim_keep, atol=1e-6)


def test_subsampling_drops_only_frequent_words(zipf_counts):
    keep = keep_probabilities(zipf_counts, 1e-3)
    threshold = 1e-3 * zipf_counts.sum()
    assert (keep[zipf_counts <= threshold] == 1).all()
    assert (keep[zipf_counts > 3 * threshold] < 1).all()
    assert (np.diff(keep) >= 0).all()  # counts descend, so keep probabilities rise
    assert (keep_probabilities(zipf_counts, 0.0) == 1).all()


def test_the_noise_distribution_equals_gensims_cumulative_table(zipf_counts):
    model, order = gensim_vocabulary(zipf_counts, sample=0)
    gensim_probabilities = np.diff(np.concatenate([[0], model.cum_table])) / model.cum_table[-1]
    np.testing.assert_allclose(noise_distribution(zipf_counts), gensim_probabilities[order], rtol=1e-5)
    expected = zipf_counts**0.75 / (zipf_counts**0.75).sum()
    np.testing.assert_allclose(noise_distribution(zipf_counts), expected, rtol=1e-12)


def test_the_alias_table_represents_the_distribution_exactly(zipf_counts):
    probabilities = noise_distribution(zipf_counts)
    np.testing.assert_allclose(build_alias_table(probabilities).probabilities(), probabilities, rtol=1e-5, atol=1e-9)


def test_the_training_kernel_draws_noise_words_with_those_frequencies():
    probabilities = noise_distribution(np.array([1000, 300, 100, 50, 10, 1]))
    table = build_alias_table(probabilities)
    draws = draw_noise_words(table.keep, table.alias, 400_000, 7)
    frequencies = np.bincount(draws, minlength=6) / len(draws)
    standard_error = np.sqrt(probabilities * (1 - probabilities) / len(draws))
    assert (np.abs(frequencies - probabilities) < 5 * standard_error + 1e-6).all()
