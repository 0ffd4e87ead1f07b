"""Word vectors drawn in two dimensions: PCA, and exact t-SNE (van der Maaten & Hinton 2008).

NumPy only, float64 throughout. t-SNE here is the exact O(N²) method, vectorised: fine up to a
couple of thousand points, which is as many labelled words as a plot can show anyway.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError

EARLY_EXAGGERATION = 12.0  # P is multiplied by this while the clusters form
EXAGGERATION_ITERATIONS = 250  # also the switch from the initial to the final momentum
INITIAL_MOMENTUM, FINAL_MOMENTUM = 0.5, 0.8
MIN_GAIN = 0.01  # delta-bar-delta gains never fall below this
INITIAL_SCALE = 1e-4  # std of the first coordinate of the starting layout, as in scikit-learn


def pca_2d(X: np.ndarray) -> np.ndarray:
    """The first two principal components' scores: centre, SVD, project.

    Each component's sign is fixed so that its loading of largest magnitude is positive, which
    makes the picture the same on every machine.

    Args:
        X: (N, D) points, N ≥ 2.

    Returns:
        (N, 2) float64 scores; the second column is zero when D = 1.

    Raises:
        SeqlabError: X is not a finite (N, D) matrix with at least 2 rows.
    """
    X = _checked_points(X, minimum=2)
    centred = X - X.mean(axis=0)
    _, singular_values, loadings = np.linalg.svd(centred, full_matrices=False)
    loadings = loadings[:2]  # (K, D), K = min(2, N, D)
    largest = loadings[np.arange(len(loadings)), np.abs(loadings).argmax(axis=1)]
    loadings = loadings * np.where(largest < 0, -1.0, 1.0)[:, None]
    scores = np.zeros((len(X), 2))
    scores[:, : len(loadings)] = centred @ loadings.T
    return scores


def squared_distances(X: np.ndarray) -> np.ndarray:
    """(N, N) squared Euclidean distances between the rows of ``X`` (N, D); zero diagonal."""
    squared_norms = np.einsum("ij,ij->i", X, X)
    distances = squared_norms[:, None] + squared_norms[None, :] - 2 * (X @ X.T)
    np.maximum(distances, 0, out=distances)  # rounding can leave tiny negatives
    np.fill_diagonal(distances, 0)
    return distances


def conditional_probabilities(
    squared_distances: np.ndarray, perplexity: float, *, tolerance: float = 1e-5, max_steps: int = 200
) -> np.ndarray:
    """p(j | i) ∝ exp(−β_i d_ij²), with each β_i found by binary search so the row's entropy is log(perplexity).

    All rows are searched at once. Distances are shifted so each row's nearest neighbour is at 0,
    which changes no probability but keeps the exponentials from underflowing on wide data.

    Args:
        squared_distances: (N, N) squared distances.
        perplexity: the effective number of neighbours, between 1 and N − 1.
        tolerance: how close each row's entropy (nats) must come to log(perplexity).
        max_steps: search steps before giving up on rows that cannot converge (ties, duplicates).

    Returns:
        (N, N) rows summing to 1, zero diagonal.
    """
    n = len(squared_distances)
    if not 1 <= perplexity <= n - 1:
        raise SeqlabError(f"perplexity must be between 1 and {n - 1} for {n} points, got {perplexity}")
    off_diagonal = ~np.eye(n, dtype=bool)
    distances = squared_distances[off_diagonal].reshape(n, n - 1)
    distances = distances - distances.min(axis=1, keepdims=True)
    target = np.log(perplexity)
    mean_distance = distances.mean(axis=1)
    beta = 1 / np.where(mean_distance > 0, mean_distance, 1.0)  # a start on the data's scale
    low, high = np.zeros(n), np.full(n, np.inf)
    searching = np.ones(n, dtype=bool)
    for _ in range(max_steps):
        weights = np.exp(-distances * beta[:, None])  # (N, N − 1); the nearest weighs 1
        total = weights.sum(axis=1)
        entropy = np.log(total) + beta * np.einsum("ij,ij->i", distances, weights) / total
        searching &= np.abs(entropy - target) > tolerance
        if not searching.any():
            break
        too_flat = searching & (entropy > target)  # spread over too many neighbours: sharpen
        too_sharp = searching & ~too_flat
        low[too_flat], high[too_sharp] = beta[too_flat], beta[too_sharp]
        beta[too_flat] = np.where(np.isinf(high[too_flat]), 2 * beta[too_flat], (beta[too_flat] + high[too_flat]) / 2)
        beta[too_sharp] = (beta[too_sharp] + low[too_sharp]) / 2
    probabilities = np.zeros((n, n))
    probabilities[off_diagonal] = (weights / total[:, None]).ravel()
    return probabilities


def joint_probabilities(X: np.ndarray, perplexity: float) -> np.ndarray:
    """(N, N) symmetric P of t-SNE: p_ij = (p(j | i) + p(i | j)) / 2N, summing to 1."""
    conditional = conditional_probabilities(squared_distances(X), perplexity)
    return (conditional + conditional.T) / (2 * len(X))


def kl_divergence(P: np.ndarray, Y: np.ndarray) -> float:
    """KL(P ‖ Q) in nats, Q the Student-t similarities of the layout ``Y`` (N, 2)."""
    _, Q = _student_t(Y)
    present = P > 0
    return float(np.sum(P[present] * np.log(P[present] / Q[present])))


def tsne_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """(N, 2) ∂KL(P ‖ Q)/∂y_i = 4 Σ_j (p_ij − q_ij)(y_i − y_j) / (1 + |y_i − y_j|²), for P summing to 1."""
    kernel, Q = _student_t(Y)
    attraction = (P - Q) * kernel  # (N, N)
    return 4 * (attraction.sum(axis=1)[:, None] * Y - attraction @ Y)


def tsne_2d(
    X: np.ndarray,
    perplexity: float = 30.0,
    n_iter: int = 1000,
    learning_rate: float | str = "auto",
    seed: int = 0,
) -> np.ndarray:
    """Exact t-SNE to two dimensions (van der Maaten & Hinton 2008).

    Gradient descent on KL(P ‖ Q) with the reference implementation's schedule: P exaggerated
    12× and momentum 0.5 for the first 250 iterations, then momentum 0.8; per-coordinate gains
    grow by 0.2 while the gradient keeps pushing the way the last step went and shrink by 0.8
    when it turns (delta-bar-delta, never below 0.01). The start is the PCA layout scaled to a
    first-coordinate std of 1e-4, so the result does not depend on a random draw.

    Args:
        X: (N, D) points, N ≥ 3.
        perplexity: effective number of neighbours; clipped to (N − 1) / 3 (and at least 1) so
            small sets still work.
        n_iter: gradient steps.
        learning_rate: step size, or "auto" for max(N / 48, 50) (scikit-learn's rule for this
            gradient, which includes the factor 4).
        seed: seeds the start of any PCA coordinate without spread (identical or collinear
            points); otherwise unused.

    Returns:
        (N, 2) float64 layout, centred at the origin.

    Raises:
        SeqlabError: fewer than 3 points, non-finite values, or a bad setting.
    """
    X = _checked_points(X, minimum=3)
    n = len(X)
    if not (np.isfinite(perplexity) and perplexity > 0):
        raise SeqlabError(f"perplexity must be a positive number, got {perplexity}")
    if n_iter < 1:
        raise SeqlabError(f"n_iter must be at least 1, got {n_iter}")
    if learning_rate == "auto":
        learning_rate = max(n / EARLY_EXAGGERATION / 4, 50.0)
    elif isinstance(learning_rate, str) or not learning_rate > 0:
        raise SeqlabError(f"learning_rate must be a positive number or 'auto', got {learning_rate!r}")
    P = joint_probabilities(X, max(min(perplexity, (n - 1) / 3), 1.0))
    Y = _initial_layout(X, seed)
    velocity = np.zeros_like(Y)
    gains = np.ones_like(Y)
    for iteration in range(n_iter):
        exaggerating = iteration < EXAGGERATION_ITERATIONS
        gradient = tsne_gradient(P * EARLY_EXAGGERATION if exaggerating else P, Y)
        gains = np.where((gradient > 0) != (velocity > 0), gains + 0.2, gains * 0.8)
        np.maximum(gains, MIN_GAIN, out=gains)
        momentum = INITIAL_MOMENTUM if exaggerating else FINAL_MOMENTUM
        velocity = momentum * velocity - learning_rate * gains * gradient
        Y = Y + velocity
        Y -= Y.mean(axis=0)
    return Y


def _student_t(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, N) kernel 1 / (1 + |y_i − y_j|²) with zero diagonal, and Q, the kernel normalised to sum 1."""
    kernel = 1 / (1 + squared_distances(Y))
    np.fill_diagonal(kernel, 0)
    return kernel, kernel / kernel.sum()


def _initial_layout(X: np.ndarray, seed: int) -> np.ndarray:
    """(N, 2) PCA scores scaled to a first-coordinate std of 1e-4; coordinates without spread drawn at random."""
    layout = pca_2d(X)
    spread = layout.std(axis=0)
    flat = spread <= 1e-10 * spread.max()  # both when all points coincide
    if not flat[0]:
        layout *= INITIAL_SCALE / spread[0]
    layout[:, flat] = np.random.default_rng(seed).normal(scale=INITIAL_SCALE, size=(len(X), int(flat.sum())))
    return layout


def _checked_points(X: np.ndarray, *, minimum: int) -> np.ndarray:
    """``X`` as a float64 (N, D) matrix, refused unless finite with at least ``minimum`` rows."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise SeqlabError(f"points must form a (N, D) matrix, got shape {X.shape}")
    if len(X) < minimum:
        raise SeqlabError(f"need at least {minimum} points to project, got {len(X)}")
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
        raise SeqlabError(f"points contain NaN or infinity (rows {rows[:10].tolist()})")
    return X
