"""PCA and exact t-SNE to two dimensions, against independent computations and by their properties."""

import numpy as np
import pytest

from seqlab.embeddings.projection import (
    conditional_probabilities,
    joint_probabilities,
    kl_divergence,
    pca_2d,
    squared_distances,
    tsne_2d,
    tsne_gradient,
)
from seqlab.errors import SeqlabError


def gaussian_clusters(n_clusters=3, per_cluster=15, dimensions=10, seed=0):
    """Tight Gaussian clusters with far-apart centres, and each point's cluster label."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10, size=(n_clusters, dimensions))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    return centres[labels] + rng.normal(size=(len(labels), dimensions)), labels


def row_entropy(probabilities):
    """Shannon entropy (nats) of each row, 0 log 0 = 0."""
    safe = np.where(probabilities > 0, probabilities, 1)
    return -np.sum(probabilities * np.log(safe), axis=1)


# --- PCA -------------------------------------------------------------------------------------


def test_pca_equals_the_eigenvectors_of_the_covariance_with_the_documented_sign():
    X = np.random.default_rng(0).normal(size=(30, 6)) * [5, 3, 1, 0.5, 0.2, 0.1]
    centred = X - X.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred)
    top_two = eigenvectors[:, ::-1][:, :2]  # (D, 2), largest eigenvalue first
    for k in range(2):
        if top_two[np.abs(top_two[:, k]).argmax(), k] < 0:  # largest-magnitude loading positive
            top_two[:, k] *= -1
    np.testing.assert_allclose(pca_2d(X), centred @ top_two, rtol=0, atol=1e-10)


def test_pca_ignores_a_shift_and_pads_one_dimensional_data():
    X = np.random.default_rng(1).normal(size=(8, 3))
    np.testing.assert_allclose(pca_2d(X + 100), pca_2d(X), atol=1e-10)
    line = pca_2d(np.array([[1.0], [-2.0], [4.0]]))
    np.testing.assert_allclose(line, [[0.0, 0.0], [-3.0, 0.0], [3.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize("projection", [pca_2d, tsne_2d])
def test_bad_points_are_refused(projection):
    with pytest.raises(SeqlabError, match="NaN or infinity"):
        projection(np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    with pytest.raises(SeqlabError, match=r"\(N, D\) matrix"):
        projection(np.zeros(5))
    with pytest.raises(SeqlabError, match="at least"):
        projection(np.zeros((1, 3)))


# --- the affinities P ------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("perplexity", [2.0, 5.0, 15.0])
def test_each_row_has_the_entropy_of_the_perplexity(scale, perplexity):
    X, _ = gaussian_clusters(per_cluster=12)
    probabilities = conditional_probabilities(squared_distances(X * scale), perplexity)
    np.testing.assert_allclose(row_entropy(probabilities), np.log(perplexity), rtol=0, atol=1e-4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=0, atol=1e-12)
    assert np.all(np.diag(probabilities) == 0)


def test_joint_probabilities_are_symmetric_and_sum_to_one():
    X, _ = gaussian_clusters(per_cluster=10)
    P = joint_probabilities(X, 5.0)
    np.testing.assert_allclose(P, P.T, rtol=0, atol=1e-15)
    assert P.sum() == pytest.approx(1, abs=1e-12)


def test_an_impossible_perplexity_is_refused():
    with pytest.raises(SeqlabError, match=r"perplexity must be between 1 and 4 for 5 points, got 7"):
        conditional_probabilities(squared_distances(np.eye(5)), 7)


# --- the gradient ----------------------------------------------------------------------------


def test_the_gradient_equals_a_finite_difference_of_the_kl_divergence():
    X, _ = gaussian_clusters(per_cluster=4, seed=2)
    P = joint_probabilities(X, 3.0)
    Y = np.random.default_rng(3).normal(size=(len(X), 2))
    step = 1e-6
    numerical = np.zeros_like(Y)
    for index in np.ndindex(Y.shape):
        forward, backward = Y.copy(), Y.copy()
        forward[index] += step
        backward[index] -= step
        numerical[index] = (kl_divergence(P, forward) - kl_divergence(P, backward)) / (2 * step)
    np.testing.assert_allclose(tsne_gradient(P, Y), numerical, rtol=1e-6, atol=1e-8)


def test_the_kl_divergence_is_zero_when_q_equals_p():
    Y = np.random.default_rng(4).normal(size=(6, 2))
    kernel = 1 / (1 + squared_distances(Y))
    np.fill_diagonal(kernel, 0)
    assert kl_divergence(kernel / kernel.sum(), Y) == pytest.approx(0, abs=1e-12)


# --- t-SNE -----------------------------------------------------------------------------------


def nearest_neighbours_share_the_cluster(layout, labels, k=5):
    distances = squared_distances(layout)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :k]  # (N, k)
    return np.all(labels[nearest] == labels[:, None])


def test_tsne_separates_clusters_that_overlap_in_the_pca_picture():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 10)
    X = 10 * np.eye(8)[labels] + rng.normal(size=(80, 8))  # 8 equidistant clusters: no 2-D view shows all
    assert not nearest_neighbours_share_the_cluster(pca_2d(X), labels)
    layout = tsne_2d(X, perplexity=5)
    assert nearest_neighbours_share_the_cluster(layout, labels)
    P = joint_probabilities(X, 5)
    assert kl_divergence(P, layout) < 0.3 < kl_divergence(P, pca_2d(X) * 1e-4)
    np.testing.assert_allclose(layout.mean(axis=0), 0, atol=1e-9)


def test_tsne_keeps_gaussian_clusters_apart():
    X, labels = gaussian_clusters()
    assert nearest_neighbours_share_the_cluster(tsne_2d(X, perplexity=5), labels)


def test_tsne_is_deterministic_and_handles_tiny_and_degenerate_inputs():
    X, _ = gaussian_clusters(per_cluster=5)
    np.testing.assert_array_equal(tsne_2d(X, n_iter=300, seed=7), tsne_2d(X, n_iter=300, seed=7))
    three = tsne_2d(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]), n_iter=50)  # perplexity clipped to 1
    assert three.shape == (3, 2) and np.all(np.isfinite(three))
    identical = tsne_2d(np.ones((5, 4)), n_iter=50, seed=1)
    assert np.all(np.isfinite(identical))
    assert not np.array_equal(identical, tsne_2d(np.ones((5, 4)), n_iter=50, seed=2))  # the seed draws the start


def test_bad_tsne_settings_are_refused():
    X, _ = gaussian_clusters(per_cluster=3)
    with pytest.raises(SeqlabError, match="perplexity must be a positive number"):
        tsne_2d(X, perplexity=0)
    with pytest.raises(SeqlabError, match="n_iter"):
        tsne_2d(X, n_iter=0)
    with pytest.raises(SeqlabError, match="learning_rate"):
        tsne_2d(X, learning_rate="fast")
